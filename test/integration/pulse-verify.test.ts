/**
 * `verify --backend pulse` end to end on the real daemon's null sink (the acceptance): real audio
 * through the sink and its monitor, judged, with the reports written.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loopcheck } from '../support/cli.js';
import { probePulse, requirePulseServer } from '../native/pulse-support.js';

const probe = probePulse();
const pulse = requirePulseServer(probe);

describe.runIf(pulse)('loopcheck verify --backend pulse', () => {
  it('passes on a healthy daemon: not simulated, latency < 100 ms, 0 dropouts, SNR ≥ 90 dB, bit-exact', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'loopcheck-pulse-verify-'));
    const r = await loopcheck(['verify', '--backend', 'pulse', '--out', out], { env: { PULSE_SERVER: process.env.PULSE_SERVER! } });
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8'));
    expect(r.exitCode, `${r.stdout}\n${r.stderr}\n${JSON.stringify(report.summary)}`).toBe(0);
    expect(r.stdout).not.toContain('SIMULATED');
    expect(report.backend).toBe('pulse');
    expect(report.simulated).toBe(false);
    expect(report.summary.latencyMsMax).toBeLessThan(100);
    expect(report.summary.dropouts).toBe(0);
    // float32 end to end through a null sink: the path is digital, bit-exact in every run we measured.
    expect(report.summary.snrDbMin).toBeGreaterThanOrEqual(90);
    expect(report.summary.bitExact).toBe(true);
    // The server's own latency is reported next to the capture buffer, so loopcheck's share is visible.
    expect(report.summary.serverLatencyMsP99).toEqual(expect.any(Number));
    expect(report.summary.captureBufferMsP99).toEqual(expect.any(Number));
    const html = await readFile(path.join(out, 'report.html'), 'utf8');
    expect(html).not.toContain('SIMULATED');
    expect(html).toContain('Server-reported latency');
  });
});

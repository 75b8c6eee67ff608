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
    // Stamped with what ran: the addon (package version) and libpulse's own version.
    expect(report.environment.addon).toBe(report.version);
    expect(report.environment.library).toMatch(/^\d+\.\d+/);
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

  it('bench: per-frame write→delivery latency grows with the buffer size (the render queue each frame waits behind)', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'loopcheck-pulse-bench-'));
    const r = await loopcheck(['bench', '--backend', 'pulse', '--buffers', '10,50', '--repeat', '2', '--out', out, '--json'], {
      env: { PULSE_SERVER: process.env.PULSE_SERVER! },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const bench = JSON.parse(await readFile(path.join(out, 'bench.json'), 'utf8'));
    const [small, large] = bench.rows as { bufferMs: number; grantedBufferMs: number; latencyMsMedian: number; latencyMsP99: number }[];
    expect([small!.bufferMs, large!.bufferMs]).toEqual([10, 50]);
    // A frame waits behind the render queue, which PulseAudio refills in minreq blocks: on average it holds
    // between (granted − minreq) and granted. Measured: 7.3 ms at 7.5 granted, 36.2 ms at 37.5 granted. Half
    // of the granted difference (15 ms here) is a margin that a latency independent of the queue (the old
    // first-frame figure: 0.4 vs −3.0 ms) cannot meet.
    expect(large!.latencyMsMedian - small!.latencyMsMedian).toBeGreaterThan(0.5 * (large!.grantedBufferMs - small!.grantedBufferMs));
    for (const row of [small!, large!]) {
      expect(row.latencyMsMedian).toBeGreaterThan(0);
      expect(row.latencyMsP99).toBeGreaterThanOrEqual(row.latencyMsMedian);
      expect(row.latencyMsP99).toBeLessThan(100);
    }
    expect(await readFile(path.join(out, 'bench.html'), 'utf8')).toContain('<svg');
  });
});

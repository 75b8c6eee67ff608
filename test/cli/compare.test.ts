import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isOneLineError, loopcheck } from '../support/cli.js';

let dir: string;
let base: string;
let worse: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lc-compare-'));
  const r = await loopcheck(['verify', '--backend', 'virtual', '--suite', 'latency', '--out', path.join(dir, 'old')]);
  expect(r.exitCode, r.stderr).toBe(0);
  base = path.join(dir, 'old', 'report.json');
  // The same device with 10 ms more latency (virtual default 20 ms → 30 ms: beyond max(2 ms, 10 %)).
  const w = await loopcheck(['verify', '--backend', 'virtual', '--suite', 'latency', '--impair', 'latencyMs=30', '--out', path.join(dir, 'new')]);
  expect(w.exitCode, w.stderr).toBe(0);
  worse = path.join(dir, 'new', 'report.json');
});

describe('loopcheck compare', () => {
  it('an identical report passes (exit 0)', async () => {
    const r = await loopcheck(['compare', base, base]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/no regressions/);
  });

  it('worse latency beyond the tolerance fails (exit 1) and writes compare.html', async () => {
    const out = path.join(dir, 'cmp');
    const r = await loopcheck(['compare', base, worse, '--out', out]);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/summary\.latencyMs .*REGRESSION/);
    expect(readFileSync(path.join(out, 'compare.html'), 'utf8')).toMatch(/regression\(s\)/);
    // A tolerance above the 10 ms change lets it pass.
    const ok = await loopcheck(['compare', base, worse, '--tolerance-ms', '11', '--json']);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).regressions).toBe(0);
  });

  it('unreadable or invalid input exits 2 with one line', async () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{"tool":"loopcheck"');
    for (const args of [[base, path.join(dir, 'missing.json')], [base, bad], [base], [base, base, '--tolerance-ms', 'x']]) {
      const r = await loopcheck(['compare', ...args]);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
    }
  });
});

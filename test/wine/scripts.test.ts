/**
 * WASAPI capabilities checked by standalone scripts (test/wine/*.mjs: plain JS driving the addon and the CLI,
 * each exiting non-zero on failure and printing what it checked), run here as child processes of the Windows
 * node.exe so `npm run test:wine` reports them by name. What Wine cannot do (exclusive mode, process
 * loopback) must fail with the documented, named error; see each script's header.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { strict } from '../support/require.js';
import { hostAction, hostAgent } from './host-agent.js';

const here = path.join('test', 'wine');
const agent = hostAgent();
const underWine = agent !== undefined;

function runScript(script: string, args: string[] = []): { status: number | null; out: string } {
  // 120 s: a hang guard, not a speed assertion.
  const r = spawnSync(process.execPath, [path.join(here, script), ...args], { encoding: 'utf8', timeout: 120_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  process.stderr.write(out);
  return { status: r.status, out };
}

describe('wasapi capabilities (standalone scripts)', () => {
  it('exclusive mode and IAudioClient3 minimum periods: working, or the documented named HRESULT (exclusive.mjs)', () => {
    const r = runScript('exclusive.mjs');
    expect(r.status, r.out).toBe(0);
  });

  it('process loopback (--process PID): working, or BACKEND_UNAVAILABLE without a hang (process-loopback.mjs)', () => {
    const r = runScript('process-loopback.mjs');
    expect(r.status, r.out).toBe(0);
  });

  it('plain capture from a capture endpoint is bit-exact; loopback on it is AUDCLNT_E_WRONG_ENDPOINT_TYPE (capture-endpoint.mjs)', () => {
    const r = runScript('capture-endpoint.mjs');
    expect(r.status, r.out).toBe(0);
  });

  it('IMMNotificationClient: default-changed reaches the addon watch and `devices --watch --json` (device-watch.mjs)', () => {
    // Wine fires OnDefaultDeviceChanged on a registry write; on real Windows the script checks start/stop only.
    const r = runScript('device-watch.mjs', underWine ? [] : ['--skip-registry']);
    expect(r.status, r.out).toBe(0);
  });
});

if (!agent) {
  const why = 'no host agent to remove an endpoint (LOOPCHECK_WINE_AGENT): run through npm run test:wine';
  if (strict) throw new Error(why);
  process.stderr.write(`[wasapi reopen] skipped: ${why}\n`);
}

describe.runIf(agent)('wasapi: the endpoint under a capture goes away (reopen.mjs, host agent removes it)', () => {
  for (const expectWhat of ['reopen', 'lost'] as const) {
    it(expectWhat === 'reopen' ? '--reopen follows the new default endpoint, one discontinuity' : 'without --reopen: DEVICE_LOST naming AUDCLNT_E_DEVICE_INVALIDATED', async () => {
      const sink = `lc_${expectWhat}_${process.pid}`;
      const load = await hostAction(`load-sink ${sink}`);
      expect(load.code, load.output).toBe(0);
      // Loaded before the child starts: Wine's endpoint list is frozen per process.
      const child = spawn(process.execPath, [path.join(here, 'reopen.mjs'), '--device', sink, '--expect', expectWhat], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // Wait for the script to be capturing (hang guard 30 s), then take the sink away.
      for (let t = 0; !out.includes('waiting up to') && t < 30_000; t += 50) await new Promise((r) => setTimeout(r, 50));
      expect(out, 'the script never started capturing').toContain('waiting up to');
      await new Promise((r) => setTimeout(r, 300));
      const unload = await hostAction(`unload-sink ${sink}`);
      expect(unload.code, unload.output).toBe(0);
      const code = await exited;
      process.stderr.write(out);
      expect(code, out).toBe(0);
    });
  }
});

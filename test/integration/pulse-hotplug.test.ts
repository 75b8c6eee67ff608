/**
 * Hot-plug on the pulse backend against the shared test daemon (scripts/ci/pulse.sh start): a null sink this
 * test loads with pactl must be reported as `added` (render, and its monitor) within 2 s, and `removed` after
 * unload; `loopcheck devices --watch --json` prints the same as JSON lines and exits 130 on SIGINT.
 * The test never changes the daemon's defaults (other tests share it). Skips without a server (reason
 * printed); LOOPCHECK_REQUIRE_REAL_AUDIO=1 fails instead.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { createPulseBackend } from '../../src/backends/pulse.js';
import type { DeviceEvent } from '../../src/backends/types.js';
import { nativeNowMs } from '../../src/native.js';
import { ROOT } from '../support/cli.js';
import { probePulse, requirePulseServer } from '../native/pulse-support.js';

const probe = probePulse();
const haveServer = requirePulseServer(probe);
const backend = createPulseBackend();
const ENTRY = path.join(ROOT, 'test', 'support', 'cli-entry.ts');

/** The acceptance criterion: a newly loaded sink is reported within 2 s of the load request. */
const REPORT_DEADLINE_MS = 2000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls every 5 ms; false when `ms` passed without `pred` holding. */
async function waitFor(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await sleep(5);
  }
  return pred();
}

const loaded = new Set<string>();
/** Loads a null sink without blocking the event loop (events are delivered while pactl runs). */
async function loadSink(name: string): Promise<string> {
  const r = await execa('pactl', ['load-module', 'module-null-sink', `sink_name=${name}`, 'rate=48000', 'channels=2'], { reject: false });
  if (r.exitCode !== 0) throw new Error(`pactl load-module failed: ${r.stderr}`);
  const id = String(r.stdout).trim();
  loaded.add(id);
  return id;
}
async function unloadSink(id: string): Promise<void> {
  await execa('pactl', ['unload-module', id], { reject: false });
  loaded.delete(id);
}
afterAll(() => {
  for (const id of loaded) spawnSync('pactl', ['unload-module', id]);
});

const unique = (): string => `hp_test_${process.pid}_${Math.floor(Math.random() * 1e6)}`;

describe.skipIf(!haveServer)('pulse hot-plug', () => {
  it('reports a newly loaded sink (and its monitor) as added within 2 s, and removed after unload', async () => {
    const events: (DeviceEvent & { receivedAt: number })[] = [];
    const errors: unknown[] = [];
    const watch = backend.watchDevices!((e) => events.push({ ...e, receivedAt: nativeNowMs() }), (e) => errors.push(e));
    const name = unique();
    try {
      const requestedAt = nativeNowMs();
      const moduleId = await loadSink(name);
      const added = (): DeviceEvent | undefined => events.find((e) => e.type === 'added' && e.id === name);
      // A deadline from the load request, as the acceptance asks (not a benchmark: 7 ms measured).
      expect(await waitFor(() => added() !== undefined, REPORT_DEADLINE_MS - (nativeNowMs() - requestedAt))).toBe(true);
      const a = events.find((e) => e.type === 'added' && e.id === name)!;
      expect(a.kind).toBe('render');
      expect(a.time).toBeGreaterThanOrEqual(requestedAt);
      expect(await waitFor(() => events.some((e) => e.type === 'added' && e.id === `${name}.monitor` && e.kind === 'monitor'), 1000)).toBe(true);
      expect(events.filter((e) => e.type === 'added' && e.id === name)).toHaveLength(1); // no duplicate "added"
      const addedMs = a.time! - requestedAt;
      const deliveredMs = events.find((e) => e === a)!.receivedAt - requestedAt;

      const unloadAt = nativeNowMs();
      await unloadSink(moduleId);
      expect(await waitFor(() => events.some((e) => e.type === 'removed' && e.id === name && e.kind === 'render'), REPORT_DEADLINE_MS)).toBe(true);
      const r = events.find((e) => e.type === 'removed' && e.id === name)!;
      process.stderr.write(
        `[pulse] hot-plug: load request → event at the addon ${addedMs.toFixed(1)} ms, → JS ${deliveredMs.toFixed(1)} ms ` +
          `(includes pactl start-up); unload → event ${(r.time! - unloadAt).toFixed(1)} ms\n`,
      );
      expect(errors).toEqual([]);
    } finally {
      await watch.close();
    }
  });

  it('delivers nothing after close()', async () => {
    const events: DeviceEvent[] = [];
    const watch = backend.watchDevices!((e) => events.push(e));
    const name = unique();
    const moduleId = await loadSink(name);
    expect(await waitFor(() => events.some((e) => e.id === name), REPORT_DEADLINE_MS)).toBe(true);
    await watch.close();
    const before = events.length;
    await unloadSink(moduleId);
    await sleep(200); // events arrive ~7 ms after an unload (pulseaudio.md); 200 ms is ample to see a leak
    expect(events.length).toBe(before);
  });

  it('`devices --watch --json --backend pulse` prints a JSON line per event and exits 130 on SIGINT', async () => {
    const child = execa(process.execPath, ['--import', 'tsx', ENTRY, 'devices', '--watch', '--json', '--backend', 'pulse'], {
      cwd: ROOT,
      env: { NO_COLOR: '1' }, // PULSE_SERVER comes from probePulse() via process.env
      reject: false,
      timeout: 60_000, // hang guard
      stdin: 'ignore',
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const name = unique();
    let moduleId: string | undefined;
    try {
      // The watch is active once it says so on stderr (hang guard 30 s: tsx start-up on a loaded machine).
      expect(await waitFor(() => /watching pulse devices/.test(stderr), 30_000), stderr).toBe(true);
      moduleId = await loadSink(name);
      const lines = (): Record<string, unknown>[] =>
        stdout
          .split('\n')
          .filter((l) => l.trim().length > 0)
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(await waitFor(() => lines().some((l) => l.type === 'added' && l.id === name), 10_000), stdout).toBe(true);
      expect(lines().find((l) => l.type === 'added' && l.id === name)).toMatchObject({ type: 'added', kind: 'render', id: name });
      child.kill('SIGINT');
      const r = await child;
      expect(r.exitCode, stderr).toBe(130);
      // Every stdout line is one JSON event object.
      for (const l of lines()) expect(['added', 'removed', 'changed', 'default-changed']).toContain(l.type);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      if (moduleId) await unloadSink(moduleId);
    }
  });

  it('`devices --watch --backend virtual` is BACKEND_UNAVAILABLE (exit 2)', async () => {
    const r = await execa(process.execPath, ['--import', 'tsx', ENTRY, 'devices', '--watch', '--backend', 'virtual'], {
      cwd: ROOT,
      reject: false,
      timeout: 60_000,
      stdin: 'ignore',
    });
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr).trim()).toMatch(/^loopcheck: BACKEND_UNAVAILABLE: /);
  });
});

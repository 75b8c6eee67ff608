// Device watch (IMMNotificationClient) under Wine (or Windows): run with the Windows node.exe, e.g.
//   scripts/ci/wine/run.sh test/wine/device-watch.mjs
// Wine reports no endpoint added/removed (its endpoint list is frozen per process); it does call
// OnDefaultDeviceChanged when HKCU\Software\Wine\Drivers\winepulse.drv\DefaultOutput changes. So this script:
//   1. addon level: new WasapiDeviceWatch, sets DefaultOutput to the id of a render endpoint that is not the default,
//      expects one "default-changed" event (kind render, that id, its name), restores the value, expects the event
//      back to the original default;
//   2. CLI level (needs dist/: npm run build:ts): `loopcheck devices --watch --backend wasapi --json` as a child,
//      same change, expects the JSON line on its stdout.
// The registry value is always restored (deleted when it did not exist). On real Windows the registry write does
// nothing: pass --skip-registry there (only the watch's start/stop is then checked).
// Exits 1 on failure, 2 when the addon or a second render endpoint is missing.
import { execFileSync, spawn } from 'node:child_process';
import { cliPath, cliReady, flag, loadAddon, sleep, verdict } from './lib.mjs';

const KEY = 'HKCU\\Software\\Wine\\Drivers\\winepulse.drv';
/** Wine calls back 150–230 ms after the write (wine-wasapi.md); 3 s is a hang guard, not a latency bound. */
const EVENT_TIMEOUT_MS = 3000;
const skipRegistry = flag('--skip-registry');

const { fail, check, pass } = verdict('device-watch');
const addon = loadAddon(fail, 'WasapiDeviceWatch');

const session = new addon.WasapiSession({});
const renders = session.listDevices().filter((d) => d.kind === 'render' && d.state === 1);
session.close();
const original = renders.find((d) => d.isDefault);
const other = renders.find((d) => !d.isDefault);
if (!original || !other) fail(2, `need a default and a second active render endpoint, have: ${renders.map((d) => d.name).join(', ')}`);

/** The current DefaultOutput value, or null when unset. */
function readDefaultOutput() {
  try {
    const out = execFileSync('reg', ['query', KEY, '/v', 'DefaultOutput'], { encoding: 'utf8' });
    const m = /DefaultOutput\s+REG_SZ\s+(.*)/.exec(out);
    return m ? m[1].trim() : null;
  } catch {
    return null;
  }
}
function writeDefaultOutput(value) {
  if (value === null) {
    if (readDefaultOutput() !== null) execFileSync('reg', ['delete', KEY, '/v', 'DefaultOutput', '/f'], { stdio: 'ignore' });
  } else execFileSync('reg', ['add', KEY, '/v', 'DefaultOutput', '/t', 'REG_SZ', '/d', value, '/f'], { stdio: 'ignore' });
}

/** Resolves with the first event matching `pred` seen by `events` from index `from`, or null after the timeout. */
async function waitFor(events, from, pred) {
  for (let t = 0; t < EVENT_TIMEOUT_MS; t += 20) {
    const hit = events.slice(from).find(pred);
    if (hit) return hit;
    await sleep(20);
  }
  return null;
}

const saved = readDefaultOutput();

try {
  // ---- 1. addon level
  const events = [];
  const watch = new addon.WasapiDeviceWatch({}, (e) => e && events.push(e));
  if (!skipRegistry) {
    let from = events.length;
    const t0 = Date.now();
    writeDefaultOutput(other.id);
    const to = await waitFor(events, from, (e) => e.type === 'default-changed' && e.id === other.id);
    check(to !== null && to.kind === 'render' && to.name === other.name,
      `DefaultOutput := ${other.name}: ${to ? `${JSON.stringify({ type: to.type, kind: to.kind, id: to.id, name: to.name })} after ${Date.now() - t0} ms` : 'no event'}`);
    from = events.length;
    writeDefaultOutput(saved);
    const back = await waitFor(events, from, (e) => e.type === 'default-changed' && e.id === original.id);
    check(back !== null && back.name === original.name, `DefaultOutput restored: ${back ? `default-changed back to ${back.name}` : 'no event'}`);
    check(events.every((e) => e.type === 'default-changed'), `only default-changed events (${events.length}): Wine reports no added/removed`);
  }
  watch.close();
  const n = events.length;
  await sleep(300);
  check(events.length === n, 'no event after close()');

  // ---- 2. CLI level: devices --watch --backend wasapi --json
  if (cliReady(check) && !skipRegistry) {
    const child = spawn(process.execPath, [cliPath, 'devices', '--watch', '--backend', 'wasapi', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    for (let t = 0; !err.includes('watching wasapi devices') && t < 10000; t += 50) await sleep(50);
    check(err.includes('watching wasapi devices'), `CLI started: ${JSON.stringify(err.trim().split('\n')[0] ?? '')}`);
    writeDefaultOutput(other.id);
    let line = null;
    for (let t = 0; line === null && t < EVENT_TIMEOUT_MS; t += 20) {
      line = out.split('\n').find((l) => l.includes(other.id)) ?? null;
      await sleep(20);
    }
    writeDefaultOutput(saved);
    await sleep(400);
    child.kill();
    let parsed = null;
    try {
      parsed = line && JSON.parse(line);
    } catch {}
    check(parsed !== null && parsed.type === 'default-changed' && parsed.kind === 'render' && parsed.name === other.name,
      `CLI printed ${line ?? '(nothing)'}`);
  }
} finally {
  if (!skipRegistry) writeDefaultOutput(saved);
}
if (!skipRegistry) check(readDefaultOutput() === saved, `DefaultOutput back to ${saved ?? '(unset)'}`);
pass();

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
import { createRequire } from 'node:module';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const addonPath = process.env.LOOPCHECK_NATIVE_PATH ?? path.join(root, 'build', 'win32-x64', 'loopcheck.node');
const KEY = 'HKCU\\Software\\Wine\\Drivers\\winepulse.drv';
/** Wine calls back 150–230 ms after the write (wine-wasapi.md); 3 s is a hang guard, not a latency bound. */
const EVENT_TIMEOUT_MS = 3000;
const skipRegistry = process.argv.includes('--skip-registry');

function fail(code, msg) {
  console.error(`device-watch: FAIL ${msg}`);
  process.exit(code);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let addon;
try {
  addon = createRequire(import.meta.url)(addonPath);
} catch (e) {
  fail(2, `cannot load ${addonPath}: ${e.message} (npm run build:win)`);
}
if (!addon.WasapiDeviceWatch) fail(2, `${addonPath} has no WasapiDeviceWatch`);

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
let failures = 0;
const check = (ok, what) => {
  console.log(`device-watch: ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
};

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
  const cli = path.join(root, 'bin', 'loopcheck.js');
  if (!existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'))) {
    check(false, 'CLI check needs dist/ (npm run build:ts)');
  } else if (!skipRegistry) {
    const child = spawn(process.execPath, [cli, 'devices', '--watch', '--backend', 'wasapi', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
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
if (failures > 0) fail(1, `${failures} check(s) failed`);
console.log('device-watch: PASS');

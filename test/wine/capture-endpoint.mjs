// Plain capture from a capture endpoint (not loopback) under Wine (or Windows): run with the Windows node.exe,
//   scripts/ci/wine/run.sh test/wine/capture-endpoint.mjs [--runs 3]
// Under Wine every PulseAudio monitor is a capture endpoint ("Monitor of …"): capturing it while rendering to its
// sink is a loop through a capture endpoint. The script opens mode 'capture' on the monitor of the default
// render endpoint's sink, renders seeded noise bursts on that sink (100 ms queue, wine-wasapi.md pitfall 4) and
// finds each BIT-EXACT in the capture. Also checks that the session's render stream goes to the default render
// endpoint (not to the capture endpoint) and that loopback on a capture endpoint is refused with
// AUDCLNT_E_WRONG_ENDPOINT_TYPE. On Windows pass --device ID of a capture endpoint that hears the render device
// (e.g. VB-CABLE's "CABLE Output"). Exits 1 on failure, 2 when the addon or endpoints are missing.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const addonPath = process.env.LOOPCHECK_NATIVE_PATH ?? path.join(here, '..', '..', 'build', 'win32-x64', 'loopcheck.node');
const args = process.argv.slice(2);
const arg = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const RUNS = Number(arg('--runs') ?? 3);
const RATE = 48000;
const CHANNELS = 2;
const BURST_FRAMES = RATE / 4;

function fail(code, msg) {
  console.error(`capture-endpoint: FAIL ${msg}`);
  process.exit(code);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let failures = 0;
const check = (ok, what) => {
  console.log(`capture-endpoint: ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
};

/** Seeded noise in [-0.5, 0.5), the channels different (a swap fails the match). */
function burst(seed) {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(BURST_FRAMES * CHANNELS);
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** Frame index where `signal` occurs bit-exactly in `flat`, or -1. */
function findExact(flat, signal) {
  const a = new Uint32Array(flat.buffer, flat.byteOffset, flat.length);
  const b = new Uint32Array(signal.buffer, signal.byteOffset, signal.length);
  for (let f = 0; (f + BURST_FRAMES) * CHANNELS <= a.length; f++) {
    if (a[f * CHANNELS] !== b[0]) continue;
    let i = 0;
    while (i < b.length && a[f * CHANNELS + i] === b[i]) i++;
    if (i === b.length) return f;
  }
  return -1;
}

let addon;
try {
  addon = createRequire(import.meta.url)(addonPath);
} catch (e) {
  fail(2, `cannot load ${addonPath}: ${e.message} (npm run build:win)`);
}
const session = new addon.WasapiSession({});
const devices = session.listDevices().filter((d) => d.state === 1);
const defaultRender = devices.find((d) => d.kind === 'render' && d.isDefault);
// Under Wine the default render endpoint ("PulseAudio Output") plays to PulseAudio's default sink; the monitor
// of that sink is the capture endpoint "Monitor of <sink description>" (the one monitor there is in CI).
const source = arg('--device')
  ? devices.find((d) => d.id === arg('--device') || d.name === arg('--device'))
  : devices.find((d) => d.kind === 'capture' && d.name.startsWith('Monitor of'));
if (!defaultRender || !source) fail(2, `need a default render endpoint and a monitor capture endpoint, have: ${devices.map((d) => `${d.kind} ${d.name}`).join(', ')}`);

// Loopback on a capture endpoint is the wrong endpoint type (as on Windows).
try {
  session.openCapture({ device: source.id, sampleRate: RATE, channels: CHANNELS, bufferMs: 20 }, () => {});
  check(false, 'loopback on a capture endpoint opened');
  session.stopCapture();
} catch (e) {
  check(e.code === 'INVALID_ARGUMENT' && e.message.includes('AUDCLNT_E_WRONG_ENDPOINT_TYPE (0x88890003)'), `loopback on "${source.name}": ${e.code}: ${e.message}`);
}

const chunks = [];
let streamError = null;
const capInfo = session.openCapture({ device: source.id, mode: 'capture', sampleRate: RATE, channels: CHANNELS, bufferMs: 20 }, (c, e) => {
  if (c) chunks.push(c);
  else if (e) streamError = e;
});
check(capInfo.mode === 'capture' && capInfo.device === source.id, `capture of "${capInfo.name}": ${JSON.stringify(capInfo)}`);
for (let t = 0; chunks.length === 0 && t < 3000; t += 10) await sleep(10);
if (chunks.length === 0) fail(1, `no capture data within 3 s${streamError ? `: ${streamError.message}` : ''}`);
const renInfo = session.openPlayback({ sampleRate: RATE, channels: CHANNELS, bufferMs: 100 });
check(renInfo.device === defaultRender.id, `render goes to the default render endpoint "${renInfo.name}" (not to the capture endpoint)`);
await sleep(100);
// Warm-up burst, not judged: the first burst through a freshly started monitor record stream sometimes arrives
// split (seen 2 of 6 runs on a loaded 2-core machine; later bursts were always exact).
await session.play(burst(99));
await sleep(300);

/** Plays a burst and returns the frame where it came back bit-exact (-1: not found, diagnosed). */
async function playAndFind(signal, label) {
  const from = chunks.length;
  const played = await session.play(signal);
  await sleep(400);
  const got = chunks.slice(from);
  const flat = new Float32Array(got.reduce((n, c) => n + c.samples.length, 0));
  let o = 0;
  for (const c of got) {
    flat.set(c.samples, o);
    o += c.samples.length;
  }
  const at = findExact(flat, signal);
  if (at < 0) {
    // Diagnose: where the first frame occurs and how many frames match from there.
    const a = new Uint32Array(flat.buffer, flat.byteOffset, flat.length);
    const b = new Uint32Array(signal.buffer);
    let start = -1;
    for (let f = 0; f * CHANNELS < a.length && start < 0; f++) if (a[f * CHANNELS] === b[0] && a[f * CHANNELS + 1] === b[1]) start = f;
    let n = 0;
    while (start >= 0 && n < b.length && a[start * CHANNELS + n] === b[n]) n++;
    console.log(
      `capture-endpoint: ${label}: NOT bit-exact: first frame ${start < 0 ? 'not found' : `at ${start}, ${Math.floor(n / CHANNELS)} frames exact`}; ` +
        `discontinuities ${got.filter((c) => c.flags & 1).length}, render underruns ${played.underruns}`,
    );
  }
  return { at, total: flat.length / CHANNELS };
}

// One retry per run, and it is printed: PulseAudio drops record data silently when a reader is late (design.md),
// which splits a burst now and then on a loaded machine (1 in 9 runs seen with nothing else playing); a second
// failure in a row is a real fault. Anything else playing into the same sink (another Wine test) fails every run.
for (let run = 0; run < RUNS; run++) {
  let r = await playAndFind(burst(run + 11), `run ${run + 1}`);
  let retried = false;
  if (r.at < 0) {
    retried = true;
    r = await playAndFind(burst(run + 111), `run ${run + 1} (retry)`);
  }
  check(r.at >= 0, `run ${run + 1}${retried ? ' (after one retry)' : ''}: ${BURST_FRAMES}-frame burst ${r.at >= 0 ? `bit-exact at frame ${r.at} of ${r.total}` : 'NOT found bit-exact'}`);
}
const stats = session.stats();
session.stopCapture();
session.close();
check(!streamError, `no stream error${streamError ? `: ${streamError.message}` : ''}`);
console.log(`capture-endpoint: stats ${JSON.stringify(stats)}`);
if (failures > 0) fail(1, `${failures} check(s) failed`);
console.log('capture-endpoint: PASS');

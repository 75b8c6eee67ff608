// loopcheck's side of the bare-vs-loopcheck latency comparison (issue 5: "within 2 ms of a bare C++ program").
// Run with the Windows node.exe, normally through scripts/ci/wine/bare-latency.sh --compare, or:
//   scripts/ci/wine/run.sh test/wine/latency-compare.mjs [--runs 15] [--queue-ms 20] [--capture-ms 20] [--polling]
// The same settings and definition as test/native/wasapi_bare_latency.cc: loopback capture of the default render
// endpoint (capture buffer --capture-ms) plus a render stream whose queue target is --queue-ms, both event-driven
// unless --polling; per run a seeded 250 ms noise burst (smoke.mjs's generator), found BIT-EXACT in the capture;
// write→capture = device time of burst frame 0 (packet QPC position + offset / rate) − the time right after the
// ReleaseBuffer that carried frame 0. Last line: the JSON summary, same keys as the bare program's.
// (smoke.mjs measures the same thing but fixes the capture buffer at 20 ms and defaults to a 100 ms queue.)
// Exit: 0 every run bit-exact, 1 a run failed, 2 the addon or endpoint is missing.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const addonPath = process.env.LOOPCHECK_NATIVE_PATH ?? path.join(here, '..', '..', 'build', 'win32-x64', 'loopcheck.node');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const RUNS = opt('--runs', 15);
const QUEUE_MS = opt('--queue-ms', 20);
const CAPTURE_MS = opt('--capture-ms', 20);
const POLLING = args.includes('--polling');
const RATE = 48000;
const CHANNELS = 2;
const BURST_FRAMES = RATE / 4; // 250 ms
const say = (s) => console.log(`loopcheck: ${s}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Seeded noise in [-0.5, 0.5), interleaved (smoke.mjs's generator; the bare program has the same). */
function burst(seed) {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(BURST_FRAMES * CHANNELS);
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** First frame of `flat` where all of `signal` follows bit-exactly (every float's bits equal), or -1. */
function findExact(flat, signal) {
  const a = new Uint32Array(flat.buffer, flat.byteOffset, flat.length);
  const b = new Uint32Array(signal.buffer, signal.byteOffset, signal.length);
  for (let f = 0; (f + BURST_FRAMES) * CHANNELS <= a.length; f++) {
    let i = 0;
    while (i < b.length && a[f * CHANNELS + i] === b[i]) i++;
    if (i === b.length) return f;
  }
  return -1;
}

const median = (v) => {
  const s = [...v].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

let addon;
try {
  addon = createRequire(import.meta.url)(addonPath);
} catch (e) {
  say(`FAIL cannot load ${addonPath}: ${e.message} (npm run build:win)`);
  process.exit(2);
}
const session = new addon.WasapiSession({});
const chunks = [];
let streamError = null;
let capInfo;
try {
  capInfo = session.openCapture({ sampleRate: RATE, channels: CHANNELS, bufferMs: CAPTURE_MS, polling: POLLING }, (chunk, err) => {
    if (chunk) chunks.push(chunk);
    else if (err) streamError = err;
  });
} catch (e) {
  say(`FAIL openCapture: ${e.code} ${e.message} (on Wine: is PulseAudio reachable via PULSE_SERVER?)`);
  process.exit(2);
}
for (let t = 0; chunks.length === 0 && t < 300; t++) await sleep(10);
if (chunks.length === 0) {
  say(`FAIL no loopback data within 3 s${streamError ? `: ${streamError.message}` : ''}`);
  process.exit(1);
}
const renInfo = session.openPlayback({ sampleRate: RATE, channels: CHANNELS, bufferMs: QUEUE_MS, polling: POLLING });
say(`capture ${JSON.stringify(capInfo)}`);
say(`render ${JSON.stringify(renInfo)}`);
await sleep(100);

const deviceMs = [];
let failures = 0;
for (let run = 0; run < RUNS; run++) {
  const signal = burst(run + 1);
  const first = chunks.length;
  const played = await session.play(signal);
  await sleep(QUEUE_MS + 200);
  const got = chunks.slice(first);
  const flat = new Float32Array(got.reduce((n, c) => n + c.samples.length, 0));
  let o = 0;
  for (const c of got) {
    flat.set(c.samples, o);
    o += c.samples.length;
  }
  const at = findExact(flat, signal);
  if (at < 0) {
    failures++;
    say(`run ${run + 1}: NOT bit-exact (${flat.length / CHANNELS} frames captured, render underruns ${played.underruns})`);
    continue;
  }
  // The chunk holding frame `at`: its device time is its first frame's; add the frame's offset in it.
  let start = 0;
  let ci = 0;
  while (start + got[ci].frames <= at) start += got[ci++].frames;
  const ms = got[ci].deviceTimeMs + ((at - start) / RATE) * 1000 - played.writeTimeMs;
  deviceMs.push(ms);
  say(`run ${run + 1}: bit-exact (${BURST_FRAMES} frames x ${CHANNELS} ch), write→capture ${ms.toFixed(2)} ms (device time of the frame), render underruns ${played.underruns}`);
}
const stats = session.stats();
session.close();
say(`stats ${JSON.stringify(stats)}`);
const mode = POLLING ? 'polling' : 'event';
if (streamError) say(`capture error: ${streamError.code} ${streamError.message}`);
const summary = { program: 'loopcheck', ok: failures === 0 && !streamError, mode, queueMs: QUEUE_MS, captureMs: CAPTURE_MS, runs: RUNS, exact: deviceMs.length };
if (deviceMs.length > 0) {
  const [mn, md, mx] = [Math.min(...deviceMs), median(deviceMs), Math.max(...deviceMs)];
  say(`median ${md.toFixed(2)} ms (${mn.toFixed(2)}, ${mx.toFixed(2)}) over ${deviceMs.length} runs [${mode}, ${QUEUE_MS} ms queue, ${CAPTURE_MS} ms capture buffer]`);
  Object.assign(summary, { medianMs: +md.toFixed(3), minMs: +mn.toFixed(3), maxMs: +mx.toFixed(3), runsMs: deviceMs.map((v) => +v.toFixed(3)) });
}
console.log(JSON.stringify(summary));
process.exit(summary.ok ? 0 : 1);

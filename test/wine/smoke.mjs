// WASAPI smoke test under Wine (or Windows): run with the Windows node.exe, e.g.
//   scripts/ci/wine/run.sh test/wine/smoke.mjs [--runs 5] [--buffer-ms 100] [--polling]
// Lists the endpoints, opens a loopback capture on the default render endpoint plus a render stream, plays a
// seeded noise burst and finds it BIT-EXACT in the capture (every float's bits equal), then prints the
// write → capture latency per run. Exits 1 on any failure, 2 when the addon or endpoints are missing.
// Plain JS on purpose (no build step, no node_modules): it imports the addon directly.
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
const RUNS = opt('--runs', 5);
// 100 ms render queue: under CPU load shorter queues underrun and split the burst (not bit-exact by design).
const RENDER_BUFFER_MS = opt('--buffer-ms', 100);
const POLLING = args.includes('--polling');
const RATE = 48000;
const CHANNELS = 2;
const BURST_FRAMES = RATE / 4; // 250 ms

function fail(code, msg) {
  console.error(`smoke: FAIL ${msg}`);
  process.exit(code);
}

/** Seeded noise in [-0.5, 0.5), channel 1 different from channel 0 (a swapped channel fails the match). */
function burst(seed) {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(BURST_FRAMES * CHANNELS);
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

let addon;
try {
  addon = createRequire(import.meta.url)(addonPath);
} catch (e) {
  fail(2, `cannot load ${addonPath}: ${e.message} (npm run build:win)`);
}
if (!addon.WasapiSession) fail(2, `${addonPath} has no WasapiSession (backend ${addon.backendInfo().name})`);

const session = new addon.WasapiSession({});
const nowMs = () => Number(addon.now() / 1000n) / 1000;
console.log(`smoke: ${session.libraryVersion()}, node ${process.version} ${process.platform}-${process.arch}`);
const devices = session.listDevices();
for (const d of devices) {
  console.log(`  ${d.kind.padEnd(7)} ${d.isDefault ? '*' : ' '} state=${d.state} ${d.sampleRate} Hz ${d.channels} ch  ${d.name}  ${d.id}`);
}
const render = devices.find((d) => d.kind === 'render' && d.isDefault);
if (!render || render.state !== 1) fail(2, 'no active default render endpoint (on Wine: is PulseAudio reachable via PULSE_SERVER?)');

// Loopback capture, recording every chunk.
const chunks = [];
let ended = false;
let streamError = null;
let firstChunkAt = null;
const openedAt = nowMs();
const capInfo = session.openCapture({ sampleRate: RATE, channels: CHANNELS, bufferMs: 20, polling: POLLING }, (chunk, err) => {
  if (chunk) {
    firstChunkAt ??= nowMs();
    chunks.push(chunk);
  } else if (err) streamError = err;
  else ended = true;
});
console.log(`smoke: capture ${JSON.stringify(capInfo)}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
for (let t = 0; firstChunkAt === null && t < 300; t++) await sleep(10);
if (firstChunkAt === null) fail(1, `no loopback data within 3 s${streamError ? `: ${streamError.message}` : ''}`);
console.log(`smoke: first loopback chunk ${(firstChunkAt - openedAt).toFixed(1)} ms after openCapture`);

const renInfo = session.openPlayback({ sampleRate: RATE, channels: CHANNELS, bufferMs: RENDER_BUFFER_MS, polling: POLLING });
console.log(`smoke: render ${JSON.stringify(renInfo)}`);
await sleep(100);

const bitsEqual = (a, ai, b, bi, n) => {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < n; i++) if (ua[ai + i] !== ub[bi + i]) return false;
  return true;
};

const latencies = [];
let failures = 0;
for (let run = 0; run < RUNS; run++) {
  const signal = burst(run + 1);
  const startChunk = chunks.length;
  const played = await session.play(signal);
  await sleep(RENDER_BUFFER_MS + 200);
  // Flatten what arrived since before play(); remember which chunk each frame came from.
  const got = chunks.slice(startChunk);
  const total = got.reduce((n, c) => n + c.samples.length, 0);
  const flat = new Float32Array(total);
  const owner = new Int32Array(total / CHANNELS);
  let o = 0;
  got.forEach((c, ci) => {
    flat.set(c.samples, o);
    owner.fill(ci, o / CHANNELS, (o + c.samples.length) / CHANNELS);
    o += c.samples.length;
  });
  let at = -1;
  for (let f = 0; f + BURST_FRAMES <= total / CHANNELS; f++) {
    if (flat[f * CHANNELS] === signal[0] && flat[f * CHANNELS + 1] === signal[1] && bitsEqual(flat, f * CHANNELS, signal, 0, signal.length)) {
      at = f;
      break;
    }
  }
  if (at < 0) {
    failures++;
    let peak = 0;
    for (const v of flat) peak = Math.max(peak, Math.abs(v));
    // Diagnose: where does the first frame occur, and how many frames match bit-exactly from there?
    let start = -1;
    for (let f = 0; f < total / CHANNELS && start < 0; f++) if (flat[f * CHANNELS] === signal[0] && flat[f * CHANNELS + 1] === signal[1]) start = f;
    let prefix = 0;
    while (start >= 0 && prefix < BURST_FRAMES && bitsEqual(flat, (start + prefix) * CHANNELS, signal, prefix * CHANNELS, CHANNELS)) prefix++;
    console.log(
      `smoke: run ${run + 1}: burst NOT found bit-exact in ${total / CHANNELS} captured frames (peak ${peak.toFixed(4)}; ` +
        `first frame ${start < 0 ? 'not found' : `at ${start}, ${prefix} frames exact before the first difference`})`,
    );
    continue;
  }
  const c = got[owner[at]];
  // Frame `at` sits (at − first frame of its chunk in `flat`) frames into chunk c.
  let chunkStart = 0;
  for (let i = 0; i < owner[at]; i++) chunkStart += got[i].frames;
  const offsetMs = ((at - chunkStart) / RATE) * 1000;
  const deviceMs = c.deviceTimeMs + offsetMs - played.writeTimeMs;
  const deliveredMs = c.receivedAtMs - played.writeTimeMs;
  latencies.push(deviceMs);
  console.log(
    `smoke: run ${run + 1}: bit-exact (${BURST_FRAMES} frames x ${CHANNELS} ch), write→capture ${deviceMs.toFixed(2)} ms ` +
      `(device time of the frame), write→JS delivery ${deliveredMs.toFixed(2)} ms, render underruns ${played.underruns}`,
  );
}
const stats = session.stats();
console.log(`smoke: stats ${JSON.stringify(stats)}`);
session.stopCapture();
for (let t = 0; !ended && !streamError && t < 200; t++) await sleep(10);
session.close();
if (streamError) fail(1, `capture error: ${streamError.code} ${streamError.message}`);
if (!ended) fail(1, 'the capture never ended after stopCapture()');
if (failures > 0) fail(1, `${failures}/${RUNS} runs not bit-exact`);
const sorted = [...latencies].sort((a, b) => a - b);
console.log(
  `smoke: PASS ${RUNS}/${RUNS} bit-exact; write→capture min ${sorted[0].toFixed(2)} / median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} / max ${sorted[sorted.length - 1].toFixed(2)} ms ` +
    `(${capInfo.eventDriven ? 'event' : 'polling'} capture, ${renInfo.eventDriven ? 'event' : 'polling'} render, ${RENDER_BUFFER_MS} ms render queue)`,
);

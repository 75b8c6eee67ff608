// WASAPI smoke test under Wine (or Windows): run with the Windows node.exe, e.g.
//   scripts/ci/wine/run.sh test/wine/smoke.mjs [--runs 5] [--buffer-ms 100] [--polling]
// Lists the endpoints, opens a loopback capture on the default render endpoint plus a render stream, plays a
// seeded noise burst and finds it BIT-EXACT in the capture (every float's bits equal), then prints the
// write → capture latency per run. Exits 1 on any failure, 2 when the addon or endpoints are missing.
// Plain JS on purpose (no build step, no node_modules): it loads the addon directly (helpers: test/wine/lib.mjs).
import { BURST_FRAMES, CHANNELS, RATE, burst, chunkAt, exactPrefix, flag, loadAddon, numArg, playAndFind, sleep, verdict } from './lib.mjs';

const RUNS = numArg('--runs', 5);
// 100 ms render queue: under CPU load shorter queues underrun and split the burst (not bit-exact by design).
const RENDER_BUFFER_MS = numArg('--buffer-ms', 100);
const POLLING = flag('--polling');
const { fail } = verdict('smoke');

const addon = loadAddon(fail);
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
for (let t = 0; firstChunkAt === null && t < 300; t++) await sleep(10);
if (firstChunkAt === null) fail(1, `no loopback data within 3 s${streamError ? `: ${streamError.message}` : ''}`);
console.log(`smoke: first loopback chunk ${(firstChunkAt - openedAt).toFixed(1)} ms after openCapture`);

const renInfo = session.openPlayback({ sampleRate: RATE, channels: CHANNELS, bufferMs: RENDER_BUFFER_MS, polling: POLLING });
console.log(`smoke: render ${JSON.stringify(renInfo)}`);
await sleep(100);

const latencies = [];
let failures = 0;
for (let run = 0; run < RUNS; run++) {
  const signal = burst(run + 1);
  const { played, got, flat, at } = await playAndFind(session, chunks, signal, RENDER_BUFFER_MS + 200);
  if (at < 0) {
    failures++;
    let peak = 0;
    for (const v of flat) peak = Math.max(peak, Math.abs(v));
    // Diagnose: where does the first frame occur, and how many frames match bit-exactly from there?
    const { start, frames } = exactPrefix(flat, signal);
    console.log(
      `smoke: run ${run + 1}: burst NOT found bit-exact in ${flat.length / CHANNELS} captured frames (peak ${peak.toFixed(4)}; ` +
        `first frame ${start < 0 ? 'not found' : `at ${start}, ${frames} frames exact before the first difference`})`,
    );
    continue;
  }
  // Frame `at` sits `offset` frames into chunk c (device time = its first frame's).
  const { chunk: c, offset } = chunkAt(got, at);
  const offsetMs = (offset / RATE) * 1000;
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

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
import { BURST_FRAMES, CHANNELS, RATE, burst, chunkAt, flag, loadAddon, numArg, playAndFind, sleep } from './lib.mjs';

const RUNS = numArg('--runs', 15);
const QUEUE_MS = numArg('--queue-ms', 20);
const CAPTURE_MS = numArg('--capture-ms', 20);
const POLLING = flag('--polling');
const say = (s) => console.log(`loopcheck: ${s}`);

const median = (v) => {
  const s = [...v].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

// Every line of this program goes to stdout, a failure too (bare-latency.sh prints it and reads the last line).
const addon = loadAddon((code, msg) => {
  say(`FAIL ${msg}`);
  process.exit(code);
});
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
  const { played, got, flat, at } = await playAndFind(session, chunks, burst(run + 1), QUEUE_MS + 200);
  if (at < 0) {
    failures++;
    say(`run ${run + 1}: NOT bit-exact (${flat.length / CHANNELS} frames captured, render underruns ${played.underruns})`);
    continue;
  }
  // The chunk holding frame `at`: its device time is its first frame's; add the frame's offset in it.
  const { chunk, offset } = chunkAt(got, at);
  const ms = chunk.deviceTimeMs + (offset / RATE) * 1000 - played.writeTimeMs;
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

// Plain capture from a capture endpoint (not loopback) under Wine (or Windows): run with the Windows node.exe,
//   scripts/ci/wine/run.sh test/wine/capture-endpoint.mjs [--runs 3]
// Under Wine every PulseAudio monitor is a capture endpoint ("Monitor of …"): capturing it while rendering to its
// sink is a loop through a capture endpoint. The script opens mode 'capture' on the monitor of the default
// render endpoint's sink, renders seeded noise bursts on that sink (100 ms queue, wine-wasapi.md pitfall 4) and
// finds each BIT-EXACT in the capture. Also checks that the session's render stream goes to the default render
// endpoint (not to the capture endpoint) and that loopback on a capture endpoint is refused with
// AUDCLNT_E_WRONG_ENDPOINT_TYPE. On Windows pass --device ID of a capture endpoint that hears the render device
// (e.g. VB-CABLE's "CABLE Output"). Exits 1 on failure, 2 when the addon or endpoints are missing.
import { BURST_FRAMES, CHANNELS, RATE, arg, burst, exactPrefix, loadAddon, numArg, playAndFind, sleep, verdict } from './lib.mjs';

const RUNS = numArg('--runs', 3);
const { fail, check, pass } = verdict('capture-endpoint');

const addon = loadAddon(fail);
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
async function playAndCheck(signal, label) {
  const { played, got, flat, at } = await playAndFind(session, chunks, signal, 400);
  if (at < 0) {
    // Diagnose: where the first frame occurs and how many frames match from there.
    const { start, frames } = exactPrefix(flat, signal);
    console.log(
      `capture-endpoint: ${label}: NOT bit-exact: first frame ${start < 0 ? 'not found' : `at ${start}, ${frames} frames exact`}; ` +
        `discontinuities ${got.filter((c) => c.flags & 1).length}, render underruns ${played.underruns}`,
    );
  }
  return { at, total: flat.length / CHANNELS };
}

// One retry per run, and it is printed: PulseAudio drops record data silently when a reader is late (design.md),
// which splits a burst now and then on a loaded machine (1 in 9 runs seen with nothing else playing); a second
// failure in a row is a real fault. Anything else playing into the same sink (another Wine test) fails every run.
for (let run = 0; run < RUNS; run++) {
  let r = await playAndCheck(burst(run + 11), `run ${run + 1}`);
  let retried = false;
  if (r.at < 0) {
    retried = true;
    r = await playAndCheck(burst(run + 111), `run ${run + 1} (retry)`);
  }
  check(r.at >= 0, `run ${run + 1}${retried ? ' (after one retry)' : ''}: ${BURST_FRAMES}-frame burst ${r.at >= 0 ? `bit-exact at frame ${r.at} of ${r.total}` : 'NOT found bit-exact'}`);
}
const stats = session.stats();
session.stopCapture();
session.close();
check(!streamError, `no stream error${streamError ? `: ${streamError.message}` : ''}`);
console.log(`capture-endpoint: stats ${JSON.stringify(stats)}`);
pass();

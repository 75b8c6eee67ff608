// --reopen / DEVICE_LOST when the endpoint under a loopback capture goes away, under Wine (or Windows):
//   scripts/ci/wine/run.sh test/wine/reopen.mjs --device NAME [--expect reopen|lost]
// NAME is a render endpoint that something OUTSIDE this script removes while it waits (Wine: a PulseAudio null sink
// loaded for the test; Wine names the endpoint after the sink's description). The harness (host side):
//   pactl load-module module-null-sink sink_name=lc_reopen sink_properties=device.description=lc_reopen
//   scripts/ci/wine/run.sh test/wine/reopen.mjs --device lc_reopen --expect reopen &
//   sleep 5; pactl unload-module <that module>; wait
// (PULSE_SERVER = the Wine daemon's socket, see scripts/ci/wine/common.sh.) Wine invalidates the stream within
// ~10 ms of the unload (AUDCLNT_E_DEVICE_INVALIDATED). With --expect reopen the capture must continue on the new
// default render endpoint: stats().reopens = 1, chunks keep coming, and exactly one chunk after the first is flagged
// as a discontinuity, its framePosition advanced by the time nothing was captured. With --expect lost (no reopen)
// the capture must end with DEVICE_LOST naming AUDCLNT_E_DEVICE_INVALIDATED (0x88890004).
// Exits 1 on failure, 2 when the endpoint is missing or was not removed within 20 s.
import { RATE, arg, loadAddon, sleep, verdict } from './lib.mjs';

const DEVICE = arg('--device', process.env.LOOPCHECK_REOPEN_DEVICE);
const EXPECT = arg('--expect', 'reopen');
/** How long to wait for the harness to remove the endpoint. */
const WAIT_FOR_REMOVAL_MS = 20000;

const { fail, check, pass } = verdict('reopen');
if (!DEVICE || !['reopen', 'lost'].includes(EXPECT)) fail(2, 'usage: reopen.mjs --device NAME [--expect reopen|lost]');

const addon = loadAddon(fail);
const session = new addon.WasapiSession({});
const endpoint = session.listDevices().find((d) => d.kind === 'render' && d.state === 1 && (d.name === DEVICE || d.id === DEVICE));
if (!endpoint) fail(2, `no active render endpoint "${DEVICE}" (load the sink before starting Wine: its endpoint list is frozen)`);

const chunks = [];
let streamError = null;
const info = session.openCapture({ device: endpoint.id, sampleRate: RATE, channels: 2, bufferMs: 20, reopen: EXPECT === 'reopen' }, (c, e) => {
  if (c) chunks.push({ frames: c.frames, framePosition: c.framePosition, flags: c.flags, receivedAtMs: c.receivedAtMs });
  else if (e) streamError = e;
});
console.log(`reopen: capturing "${info.name}" (reopen ${EXPECT === 'reopen'}); waiting up to ${WAIT_FOR_REMOVAL_MS / 1000} s for it to be removed`);
const lost = () => streamError !== null || session.stats().reopens > 0;
for (let t = 0; !lost() && t < WAIT_FOR_REMOVAL_MS; t += 20) await sleep(20);
if (!lost()) fail(2, `"${DEVICE}" was not removed within ${WAIT_FOR_REMOVAL_MS / 1000} s (see the harness in this file's header)`);

if (EXPECT === 'lost') {
  await sleep(200);
  check(streamError?.code === 'DEVICE_LOST' && streamError.message.includes('AUDCLNT_E_DEVICE_INVALIDATED (0x88890004)'),
    `capture ended: ${streamError ? `${streamError.code}: ${streamError.message}` : 'no error'}`);
} else {
  const at = chunks.length;
  await sleep(500);
  const stats = session.stats();
  const after = chunks.slice(at);
  const flagged = chunks.slice(1).filter((c) => c.flags & 1);
  check(stats.reopens === 1, `stats.reopens = ${stats.reopens}`);
  check(!streamError, `no stream error${streamError ? `: ${streamError.code} ${streamError.message}` : ''}`);
  // 500 ms at 10 ms packets is ~50 chunks; 10 is far below any plausible count of a running stream.
  check(after.length >= 10, `${after.length} chunks in the 500 ms after the re-open`);
  const jump = flagged[0] ? chunks.indexOf(flagged[0]) : -1;
  const prev = jump > 0 ? chunks[jump - 1] : null;
  const lostFrames = prev ? flagged[0].framePosition - (prev.framePosition + prev.frames) : NaN;
  check(flagged.length === 1 && lostFrames >= 0,
    `${flagged.length} chunk(s) flagged discontinuity after the first; framePosition advanced by ${lostFrames} frames (${((lostFrames / RATE) * 1000).toFixed(1)} ms without capture)`);
}
session.stopCapture();
session.close();
pass();

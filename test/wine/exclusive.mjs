// Exclusive mode and IAudioClient3 minimum periods under Wine (or Windows): run with the Windows node.exe, e.g.
//   scripts/ci/wine/run.sh test/wine/exclusive.mjs
// Checks, at the addon level:
//   - exclusive render and exclusive capture (capture endpoint), event and polling: either they open (Windows:
//     the granted format is reported) or they fail with a NAMED HRESULT — under Wine AUDCLNT_E_DEVICE_IN_USE
//     (0x8889000A, event) / AUDCLNT_E_EXCLUSIVE_MODE_NOT_ALLOWED (0x8889000E, polling) —, code and osCode set;
//   - loopback with exclusive / minPeriod: INVALID_ARGUMENT with a hint, before any COM call;
//   - minPeriod (IAudioClient3::InitializeSharedAudioStream) render and capture open and deliver data (Wine
//     accepts it and runs at 10 ms);
// and at the CLI level (needs dist/: npm run build:ts):
//   - `record --exclusive` on the default (loopback) endpoint: exit 2, FORMAT_UNSUPPORTED, one line;
//   - `record --device CAPTURE --exclusive`: the named HRESULT on stderr (or a recording on Windows);
//   - `record --device CAPTURE --min-period --seconds 0.3 OUT.wav`: exit 0, a WAV written.
// Exits 1 on failure, 2 when the addon or endpoints are missing.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { cliReady, loadAddon, oneLine, runCli, sleep, tmpDir, verdict } from './lib.mjs';

/** HRESULTs Wine gives for exclusive mode (wine-wasapi.md), and the names the user must see. */
const WINE_EXCLUSIVE = new Map([
  [0x8889000a, 'AUDCLNT_E_DEVICE_IN_USE (0x8889000A)'],
  [0x8889000e, 'AUDCLNT_E_EXCLUSIVE_MODE_NOT_ALLOWED (0x8889000E)'],
]);

const { fail, check, pass } = verdict('exclusive');
const addon = loadAddon(fail);
const isWine = new addon.WasapiSession({}).libraryVersion().includes('Wine');

const session = new addon.WasapiSession({});
const devices = session.listDevices().filter((d) => d.state === 1);
const capture = devices.find((d) => d.kind === 'capture' && d.isDefault) ?? devices.find((d) => d.kind === 'capture');
if (!capture) fail(2, 'no active capture endpoint');
const fmt = { sampleRate: 48000, channels: 2, bufferMs: 10 };

/** Runs an open that may fail; returns { info } or { error }. */
function attempt(fn) {
  try {
    return { info: fn() };
  } catch (error) {
    return { error };
  }
}

/** Exclusive: opened (Windows) or failed with a named HRESULT (Wine: one of the two documented). */
function checkExclusive(label, r) {
  if (r.info) {
    check(!isWine && r.info.exclusive === true, `${label}: opened exclusive, ${r.info.sampleFormat} ${r.info.sampleRate} Hz, period ${r.info.periodMs} ms`);
    return;
  }
  const e = r.error;
  const named = WINE_EXCLUSIVE.get(e.osCode);
  const ok = isWine ? named !== undefined && e.message.includes(named) : /\(0x[0-9A-F]{8}\)/.test(e.message);
  check(ok && typeof e.code === 'string' && e.hint.length > 0, `${label}: ${e.code}: ${e.message} [hint: ${e.hint}]`);
}

for (const polling of [false, true]) {
  const mode = polling ? 'polling' : 'event';
  checkExclusive(`exclusive render (${mode})`, attempt(() => session.openPlayback({ ...fmt, exclusive: true, polling })));
  session.closePlayback();
  const r = attempt(() => session.openCapture({ ...fmt, device: capture.id, mode: 'capture', exclusive: true, polling }, () => {}));
  checkExclusive(`exclusive capture of "${capture.name}" (${mode})`, r);
  session.stopCapture();
}

for (const flag of ['exclusive', 'minPeriod']) {
  const r = attempt(() => session.openCapture({ ...fmt, [flag]: true }, () => {}));
  check(r.error?.code === 'INVALID_ARGUMENT' && /loopback/.test(r.error.message) && r.error.hint.length > 0,
    `loopback with ${flag}: ${r.error ? `${r.error.code}: ${r.error.message}` : 'opened (wrong)'}`);
  session.stopCapture();
}

// IAudioClient3 minimum period: render, then capture (data must arrive).
const rr = attempt(() => session.openPlayback({ ...fmt, minPeriod: true }));
check(rr.info?.minPeriod === true, `minPeriod render: ${rr.info ? `period ${rr.info.periodMs.toFixed(3)} ms, buffer ${rr.info.bufferMs} ms, ${rr.info.eventDriven ? 'event' : 'polling'}` : `${rr.error.code}: ${rr.error.message}`}`);
session.closePlayback();
let chunks = 0;
let streamError = null;
const cr = attempt(() => session.openCapture({ ...fmt, device: capture.id, mode: 'capture', minPeriod: true }, (c, e) => (c ? chunks++ : e && (streamError = e))));
for (let t = 0; cr.info && chunks < 5 && t < 3000; t += 20) await sleep(20);
check(cr.info?.minPeriod === true && chunks >= 5 && !streamError,
  `minPeriod capture of "${capture.name}": ${cr.info ? `${chunks} chunks, period ${cr.info.periodMs.toFixed(3)} ms` : `${cr.error.code}: ${cr.error.message}`}`);
session.stopCapture();
session.close();

// ---- CLI
if (cliReady(check)) {
  const dir = tmpDir('loopcheck-excl-');

  let r = runCli(['record', '--backend', 'wasapi', '--exclusive', '--seconds', '0.2', path.join(dir, 'a.wav')]);
  check(r.status === 2 && r.stderr.includes('FORMAT_UNSUPPORTED') && r.stderr.includes('never to loopback') && oneLine(r.stderr),
    `record --exclusive (loopback): exit ${r.status}: ${r.stderr.trim()}`);

  r = runCli(['record', '--backend', 'wasapi', '--device', capture.id, '--exclusive', '--seconds', '0.2', path.join(dir, 'b.wav')]);
  const named = [...WINE_EXCLUSIVE.values()].some((n) => r.stderr.includes(n));
  check(isWine ? r.status !== 0 && named && oneLine(r.stderr) : r.status === 0,
    `record --device CAPTURE --exclusive: exit ${r.status}: ${r.stderr.trim()}`);

  const out = path.join(dir, 'c.wav');
  r = runCli(['record', '--backend', 'wasapi', '--device', capture.id, '--min-period', '--seconds', '0.3', out]);
  // 0.3 s of 48 kHz stereo float: 0.3 × 48000 × 8 bytes + 44-byte (or larger) header.
  const size = existsSync(out) ? statSync(out).size : 0;
  check(r.status === 0 && size >= 0.3 * 48000 * 8, `record --device CAPTURE --min-period: exit ${r.status}, ${size} bytes: ${r.stderr.trim()}`);
}

pass();

// Process loopback (one process tree, Windows 10 2004+) under Wine (or Windows): run with the Windows node.exe,
//   scripts/ci/wine/run.sh test/wine/process-loopback.mjs
// Wine does not implement AUDIOCLIENT_ACTIVATION_TYPE_PROCESS_LOOPBACK (ActivateAudioInterfaceAsync completes with
// 0x80070002): the addon must say BACKEND_UNAVAILABLE, quickly (the async activation is bounded at 3 s), never
// crash or hang. Where it exists (Windows), this process's own tree is captured while it plays a burst, and the
// burst must come back. Also: a PID that does not exist is DEVICE_NOT_FOUND; the CLI (needs dist/: npm run
// build:ts) `record --process PID` exits 2 with one line (Wine) and refuses --process with --exclusive.
// Exits 1 on failure, 2 when the addon is missing.
import path from 'node:path';
import { cliReady, loadAddon, oneLine, runCli, sleep, tmpDir, verdict } from './lib.mjs';

/** The activation wait is bounded at 3 s in the addon; 6 s here is the hang guard (not a speed assertion). */
const HANG_GUARD_MS = 6000;

const { fail, check, pass } = verdict('process-loopback');
const addon = loadAddon(fail);
const session = new addon.WasapiSession({});
const isWine = session.libraryVersion().includes('Wine');
const fmt = { sampleRate: 48000, channels: 2, bufferMs: 20 };

const t0 = Date.now();
let info = null;
let error = null;
const chunks = [];
try {
  info = session.openCapture({ ...fmt, mode: 'process', processId: process.pid }, (c) => c && chunks.push(c));
} catch (e) {
  error = e;
}
const tookMs = Date.now() - t0;
check(tookMs < HANG_GUARD_MS, `activation returned after ${tookMs} ms`);
if (error) {
  check(!isWine || (error.code === 'BACKEND_UNAVAILABLE' && /\(0x[0-9A-F]{8}\)/.test(error.message) && error.hint.includes('2004')),
    `process ${process.pid}: ${error.code}: ${error.message} (osCode ${error.osCode?.toString(16)}) [hint: ${error.hint}]`);
} else {
  // Process loopback exists: play a burst from this process and find energy in the capture.
  check(info.mode === 'process', `process ${process.pid}: opened ${JSON.stringify(info)}`);
  session.openPlayback(fmt);
  const burst = new Float32Array(fmt.sampleRate / 4 * 2).fill(0.25);
  const from = chunks.length;
  await session.play(burst);
  await sleep(400);
  const peak = chunks.slice(from).reduce((m, c) => c.samples.reduce((x, v) => Math.max(x, Math.abs(v)), m), 0);
  // 0.25 played at unity volume; 0.1 leaves room for the endpoint volume and the engine's conversion.
  check(peak > 0.1, `own tree captured: peak ${peak.toFixed(3)} after playing 0.25`);
  session.closePlayback();
}
session.stopCapture();

try {
  session.openCapture({ ...fmt, mode: 'process', processId: 0x7ffffff0 }, () => {});
  check(false, 'a PID that does not exist opened');
} catch (e) {
  check(e.code === 'DEVICE_NOT_FOUND', `PID that does not exist: ${e.code}: ${e.message}`);
}
session.stopCapture();
session.close();

if (cliReady(check)) {
  const dir = tmpDir('loopcheck-proc-');
  let r = runCli(['record', '--backend', 'wasapi', '--process', String(process.pid), '--seconds', '0.3', path.join(dir, 'p.wav')]);
  check(isWine ? r.status === 2 && r.stderr.includes('BACKEND_UNAVAILABLE') && oneLine(r.stderr) : r.status === 0,
    `record --process ${process.pid}: exit ${r.status}: ${r.stderr.trim()}`);
  r = runCli(['record', '--backend', 'wasapi', '--process', String(process.pid), '--exclusive', '--seconds', '0.3', path.join(dir, 'q.wav')]);
  check(r.status === 2 && r.stderr.includes('FORMAT_UNSUPPORTED') && oneLine(r.stderr), `record --process --exclusive: exit ${r.status}: ${r.stderr.trim()}`);
}
pass();

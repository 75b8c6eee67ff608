/**
 * Randomised end-to-end check of analyze() (not a test: a tool to find failures). Each trial builds a reference
 * (log sweep, white, pink, or pink+tone+white; 8 s after 0.1 s lead-in), passes it through a simulated device
 * (fractional latency, drift 0/±37/±50/±200 ppm, gain −20…+6 dB), adds 0–2 impairments (gap, zero-fill, click,
 * 2–25 ms), optional noise (SNR 40/60 dB), encodes as float32/pcm16/pcm24 (plain or EXTENSIBLE, mono or stereo),
 * decodes, analyses, and prints every trial whose result misses the tolerances.
 *   npx tsx bench/stress-analyze.ts SEED TRIALS [ONLY_TRIAL|-1] [sweep|white|pink|mixed]
 * With STRESS_PARAMS=1 each trial's parameters are printed as JSON (to turn a failure into a known-answer test).
 */
import { analyze } from '../src/analysis/index.js';
import { addNoise, removeSpan, throughDevice, zeroSpan, addClick } from '../src/dsp/impair.js';
import { createRng } from '../src/dsp/random.js';
import { exponentialSweep } from '../src/signals/ess.js';
import { whiteNoise, pinkNoise } from '../src/signals/noise.js';
import { sine } from '../src/signals/tones.js';
import { decodeWav, encodeWav } from '../src/wav.js';

const rng = createRng(Number(process.argv[2] ?? 1));
let fails = 0;
function refOf(kind: string, rate: number, secs: number): Float32Array {
  const lead = new Float32Array(Math.round(0.1 * rate));
  let body: Float32Array;
  if (kind === 'sweep') body = exponentialSweep(rate, { durationSeconds: secs }).channels[0]!;
  else if (kind === 'white') body = whiteNoise(rate, { durationSeconds: secs, seed: 5 }).channels[0]!;
  else if (kind === 'pink') body = pinkNoise(rate, { durationSeconds: secs, seed: 6 }).channels[0]!;
  else { // noise + tone + noise
    const a = pinkNoise(rate, { durationSeconds: secs / 3, seed: 7 }).channels[0]!;
    const b = sine(rate, { durationSeconds: secs / 3 }).channels[0]!;
    const c = whiteNoise(rate, { durationSeconds: secs / 3, seed: 8, rmsDbfs: -20 }).channels[0]!;
    body = new Float32Array(a.length + b.length + c.length); body.set(a); body.set(b, a.length); body.set(c, a.length + b.length);
  }
  const out = new Float32Array(lead.length * 2 + body.length); out.set(body, lead.length); return out;
}
const only = process.argv[4] === undefined ? -1 : Number(process.argv[4]);
for (let trial = 0; trial < Number(process.argv[3] ?? 30); trial++) {
  const rate = rng.next() < 0.5 ? 44100 : 48000;
  const kindPick = ['sweep', 'white', 'pink', 'mixed'][rng.int(0, 4)]!;
  const kind = process.argv[5] ?? kindPick;
  const secs = 8;
  const ref = refOf(kind, rate, secs);
  const latency = rng.next() * 5000;
  const drift = [0, 200, -200, 50, -37][rng.int(0, 5)]!;
  const gainDb = -20 + rng.next() * 26;
  let cap = throughDevice(ref, { latencySamples: latency, driftPpm: drift, gainDb, length: Math.ceil(ref.length * 1.001 + latency + rate * 0.3) });
  const truth: { at: number; ms: number; kind: string }[] = [];
  const nImp = rng.int(0, 3);
  const used: number[] = [];
  const contentStart = Math.round(0.1 * rate * (1 + drift * 1e-6) + latency);
  const contentLen = Math.round(secs * rate);
  for (let k = 0; k < nImp; k++) {
    let at = 0;
    for (let tries = 0; tries < 50; tries++) { at = contentStart + Math.round((0.1 + 0.8 * rng.next()) * contentLen); if (used.every((u) => Math.abs(u - at) > 0.2 * rate)) break; }
    used.push(at);
    const kindI = ['gap', 'silence', 'click'][rng.int(0, 3)]!;
    const ms = 2 + rng.next() * 23;
    truth.push({ at, ms: kindI === 'click' ? 0 : ms, kind: kindI });
  }
  // apply from the end so earlier positions stay valid
  truth.sort((a, b) => b.at - a.at);
  for (const t of truth) {
    const n = Math.round((t.ms / 1000) * rate);
    if (t.kind === 'gap') cap = removeSpan(cap, t.at, n);
    else if (t.kind === 'silence') cap = zeroSpan(cap, t.at, n);
    else cap = addClick(cap, t.at, 0.5);
  }
  // gaps shift later impairment positions: recompute truth positions in the final capture
  const sorted = [...truth].sort((a, b) => a.at - b.at);
  const snr = [200, 60, 40][rng.int(0, 3)]!;
  if (snr < 200) cap = addNoise(cap, -20 + gainDb - snr, trial + 11);
  const fmt = ['float32', 'pcm16', 'pcm24'][rng.int(0, 3)] as 'float32' | 'pcm16' | 'pcm24';
  const stereo = rng.next() < 0.5;
  const wav = encodeWav({ sampleRate: rate, channels: stereo ? [new Float32Array(cap.length), cap] : [cap] }, { format: fmt, extensible: rng.next() < 0.5 });
  const dec = decodeWav(wav.bytes);
  if (only >= 0 && trial !== only) continue;
  if (process.env.STRESS_PARAMS) console.log(JSON.stringify({ trial, rate, kind, latency, drift, gainDb, snr, noiseSeed: trial + 11, fmt, impairments: truth }));
  const r = analyze({ sampleRate: rate, channels: [ref] }, dec.audio, { channel: stereo ? 1 : 0, fidelity: false });
  if (only >= 0) { const { align } = await import("../src/analysis/align.js"); const a = align(ref, dec.audio.channels[stereo ? 1 : 0]!, rate)!; console.log(a.segments, a.ratio); for (const p of a.track) console.log((p.reference/rate).toFixed(3), (p.capture - p.reference).toFixed(3), p.correlation.toFixed(3), p.weight.toExponential(2)); }
  const problems: string[] = [];
  if (!r.signalFound || !r.latency) problems.push('not found / no latency');
  else {
    const tol = snr >= 40 ? 0.1 : 0.3;
    if (Math.abs(r.latency.samples - latency) > tol) problems.push(`latency ${r.latency.samples.toFixed(3)} vs ${latency.toFixed(3)}`);
    if (Math.abs(r.driftPpm! - drift) > 5) problems.push(`drift ${r.driftPpm} vs ${drift}`);
    if (Math.abs(r.gainDb! - gainDb) > 0.2) problems.push(`gain ${r.gainDb} vs ${gainDb}`);
  }
  const expectDrops = sorted.length;
  if (r.dropouts.length !== expectDrops) problems.push(`dropouts ${JSON.stringify(r.dropouts)} vs ${JSON.stringify(sorted.map(t => ({ at: (t.at / rate).toFixed(4), ms: t.ms.toFixed(2), kind: t.kind })))}`);
  else {
    let shift = 0;
    for (let i = 0; i < sorted.length; i++) {
      const t = sorted[i]!, d = r.dropouts[i]!;
      const atS = t.at / rate; // positions: gaps applied from the end, so earlier ones don't move later... (later positions are in pre-gap coords of earlier gaps)
      if (Math.abs(d.atSeconds - (atS - shift)) > 0.01) problems.push(`at ${d.atSeconds} vs ${atS - shift}`);
      if (d.kind !== t.kind) problems.push(`kind ${d.kind} vs ${t.kind}`);
      if (t.kind !== 'click' && Math.abs(d.durationMs - t.ms) > Math.max(1.5, 0.25 * t.ms)) problems.push(`dur ${d.durationMs} vs ${t.ms}`);
      if (t.kind === 'gap') shift += t.ms / 1000;
    }
  }
  if (problems.length) { fails++; console.log(`#${trial} ${rate} ${kind} lat=${latency.toFixed(2)} drift=${drift} gain=${gainDb.toFixed(1)} snr=${snr} ${fmt} stereo=${stereo}:`, problems.join(' | ')); }
}
console.log('fails', fails);

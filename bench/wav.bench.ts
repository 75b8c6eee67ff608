/**
 * WAV decode / encode speed: 60 s stereo 48 kHz float32 (plain and WAVE_FORMAT_EXTENSIBLE), ours vs `wavefile`
 * (reading: `new WaveFile(buf)` + `getSamples(false, Float32Array)`; writing: `fromScratch` + `toBuffer`).
 * Also prints whether each decoder returns the samples that were written (max |error|), since wavefile has been
 * seen to read EXTENSIBLE float as integers. Run: `npx tsx bench/wav.bench.ts`.
 */
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import wavefile from 'wavefile';
import type { Audio } from '../src/audio.js';
import { decodeWav, encodeWav } from '../src/wav.js';

const { WaveFile } = wavefile as unknown as { WaveFile: new (buf?: Uint8Array) => WaveFileLike };

interface WaveFileLike {
  fromScratch(channels: number, sampleRate: number, bitDepth: string, samples: ArrayLike<number>[] | ArrayLike<number>): void;
  getSamples(interleaved?: boolean, OutputObject?: Float32ArrayConstructor): Float32Array[] | Float32Array;
  toBuffer(): Uint8Array;
}

const SECONDS = 60;
const RATE = 48000;

function testAudio(): Audio {
  const n = SECONDS * RATE;
  const l = new Float32Array(n);
  const r = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    l[i] = 0.5 * Math.sin((2 * Math.PI * 997 * i) / RATE);
    r[i] = 0.25 * Math.sin((2 * Math.PI * 440 * i) / RATE);
  }
  return { sampleRate: RATE, channels: [l, r] };
}

/** sox's float layout (fmt 18 + fact, data at byte 58: not 4-aligned), to exercise the DataView path. */
function unalignedFloat32(audio: Audio): Uint8Array {
  const ours = encodeWav(audio).bytes; // fmt 18 + fact + JUNK(6) → data at 72
  const junk = 12 + 26 + 12; // JUNK chunk offset
  const out = new Uint8Array(ours.length - 14);
  out.set(ours.subarray(0, junk), 0);
  out.set(ours.subarray(junk + 14), junk);
  new DataView(out.buffer).setUint32(4, out.length - 8, true);
  return out;
}

function maxError(got: Float32Array[], want: Audio): number {
  let m = 0;
  for (let c = 0; c < want.channels.length; c++) {
    const a = got[c]!;
    const b = want.channels[c]!;
    if (a.length !== b.length) return Number.POSITIVE_INFINITY;
    for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  }
  return m;
}

export async function run(): Promise<void> {
  const audio = testAudio();
  const plain = encodeWav(audio).bytes;
  const ext = encodeWav(audio, { extensible: true }).bytes;
  const unaligned = unalignedFloat32(audio);
  const mb = (plain.length / 1e6).toFixed(1);
  console.log(`${SECONDS} s stereo ${RATE} Hz float32: ${mb} MB per file`);

  // Correctness first: what does each decoder return?
  const wfPlain = new WaveFile(plain).getSamples(false, Float32Array) as Float32Array[];
  const wfExt = new WaveFile(ext).getSamples(false, Float32Array) as Float32Array[];
  console.table([
    { decoder: 'ours', file: 'float32', maxAbsError: maxError(decodeWav(plain).audio.channels, audio) },
    { decoder: 'ours', file: 'float32 unaligned (DataView)', maxAbsError: maxError(decodeWav(unaligned).audio.channels, audio) },
    { decoder: 'ours', file: 'EXTENSIBLE float32', maxAbsError: maxError(decodeWav(ext).audio.channels, audio) },
    { decoder: 'wavefile', file: 'float32', maxAbsError: maxError(wfPlain, audio) },
    { decoder: 'wavefile', file: 'EXTENSIBLE float32', maxAbsError: maxError(wfExt, audio), firstL: wfExt[0]![1] },
  ]);

  const ours = new Bench({ name: 'ours', time: 1500, iterations: 10, warmupIterations: 3 });
  ours
    .add('ours decode float32', () => void decodeWav(plain))
    .add('ours decode float32 unaligned', () => void decodeWav(unaligned))
    .add('ours decode EXTENSIBLE float32', () => void decodeWav(ext))
    .add('ours encode float32', () => void encodeWav(audio))
    .add('ours encode EXTENSIBLE float32', () => void encodeWav(audio, { extensible: true }))
    .add('ours encode pcm16', () => void encodeWav(audio, { format: 'pcm16' }));
  await ours.run();
  console.table(ours.table());

  // wavefile is orders of magnitude slower: one iteration each, no warmup.
  const theirs = new Bench({ name: 'wavefile', time: 0, iterations: 1, warmup: false });
  theirs
    .add('wavefile decode float32', () => void new WaveFile(plain).getSamples(false, Float32Array))
    .add('wavefile decode EXTENSIBLE float32', () => void new WaveFile(ext).getSamples(false, Float32Array))
    .add('wavefile encode float32', () => {
      const w = new WaveFile();
      w.fromScratch(2, RATE, '32f', audio.channels);
      void w.toBuffer();
    });
  await theirs.run();
  console.table(theirs.table());
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) await run();

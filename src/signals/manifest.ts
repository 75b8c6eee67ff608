/**
 * The committed reference set: every SIGNALS entry as a float32 WAV plus manifest.json with sha256 of each
 * file, so a test (and `loopcheck signals generate`) can prove the committed files are what the generators make.
 *
 * manifest.json: `{ generator, version, sampleRate, signals: [{ name, file, sampleRate, channels, frames,
 * durationSeconds, sha256, purpose, description }] }`, keys in exactly that order, 2-space JSON, trailing newline.
 * sha256 is over the whole WAV file (lowercase hex).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { frameCount } from '../audio.js';
import { LoopcheckError } from '../errors.js';
import { encodeWav } from '../wav.js';
import { checkSampleRate } from './build.js';
import { SIGNALS } from './index.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_GENERATOR = 'loopcheck signals generate';
export const MANIFEST_VERSION = 1;

export interface ManifestSignal {
  name: string;
  file: string;
  sampleRate: number;
  channels: number;
  frames: number;
  durationSeconds: number;
  sha256: string;
  purpose: string;
  description: string;
}

export interface Manifest {
  generator: typeof MANIFEST_GENERATOR;
  version: typeof MANIFEST_VERSION;
  sampleRate: number;
  signals: ManifestSignal[];
}

interface RenderedSet {
  manifest: Manifest;
  files: { file: string; bytes: Uint8Array }[];
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Renders every registry signal in memory: the manifest and the WAV bytes. Pure (deterministic). */
function renderSignalSet(sampleRate: number): RenderedSet {
  checkSampleRate(sampleRate);
  const signals: ManifestSignal[] = [];
  const files: RenderedSet['files'] = [];
  for (const [name, entry] of Object.entries(SIGNALS)) {
    const audio = entry.make(sampleRate);
    // Only the Audio fields go to the file; extra fields (sections, sweep parameters) are not audio.
    const { bytes } = encodeWav({ sampleRate: audio.sampleRate, channels: audio.channels }, { format: 'float32' });
    const file = `${name}.wav`;
    const frames = frameCount(audio);
    files.push({ file, bytes });
    signals.push({
      name,
      file,
      sampleRate: audio.sampleRate,
      channels: audio.channels.length,
      frames,
      durationSeconds: frames / audio.sampleRate,
      sha256: sha256Hex(bytes),
      purpose: entry.purpose,
      description: entry.description,
    });
  }
  return { manifest: { generator: MANIFEST_GENERATOR, version: MANIFEST_VERSION, sampleRate, signals }, files };
}

/** manifest.json text: stable key order (as constructed), 2-space indent, trailing newline. */
export function formatManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Writes every SIGNALS entry to `outDir` as `<name>.wav` (float32) and `manifest.json`; creates outDir. */
export async function generateSignalSet(outDir: string, sampleRate = 48000): Promise<Manifest> {
  const { manifest, files } = renderSignalSet(sampleRate);
  try {
    await mkdir(outDir, { recursive: true });
    for (const f of files) await writeFile(path.join(outDir, f.file), f.bytes);
    await writeFile(path.join(outDir, MANIFEST_FILE), formatManifest(manifest));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code ?? '';
    throw new LoopcheckError('INVALID_FILE', `cannot write the signal set to ${outDir}: ${code || String(e)}`, {
      hint: 'Check that the output directory is writable.',
      cause: e,
    });
  }
  return manifest;
}

/**
 * Regenerates the set in memory at the manifest's sample rate and compares: manifest.json text, each entry's
 * sha256, and each file's sha256 on disk. `problems` says what differs and how (empty when ok).
 */
export async function checkSignalSet(dir: string): Promise<{ ok: boolean; problems: string[] }> {
  const problems: string[] = [];
  const manifestPath = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch {
    return { ok: false, problems: [`${manifestPath} is missing or unreadable; run \`loopcheck signals generate --out ${dir}\``] };
  }
  let committed: Partial<Manifest>;
  try {
    committed = JSON.parse(text) as Partial<Manifest>;
  } catch (e) {
    return { ok: false, problems: [`${manifestPath} is not valid JSON: ${(e as Error).message}`] };
  }
  if (committed.generator !== MANIFEST_GENERATOR) problems.push(`manifest generator is ${JSON.stringify(committed.generator)}, expected "${MANIFEST_GENERATOR}"`);
  if (committed.version !== MANIFEST_VERSION) problems.push(`manifest version is ${JSON.stringify(committed.version)}, expected ${MANIFEST_VERSION}`);
  const sampleRate = committed.sampleRate;
  if (typeof sampleRate !== 'number' || !Number.isInteger(sampleRate) || sampleRate <= 0) {
    problems.push(`manifest sampleRate ${JSON.stringify(sampleRate)} is not a positive integer`);
    return { ok: false, problems };
  }
  const expected = renderSignalSet(sampleRate);
  const listed = new Map((Array.isArray(committed.signals) ? committed.signals : []).map((s) => [s.name, s]));
  for (const want of expected.manifest.signals) {
    const have = listed.get(want.name);
    if (!have) {
      problems.push(`${want.name}: in the registry but not in the manifest`);
      continue;
    }
    listed.delete(want.name);
    for (const key of Object.keys(want) as (keyof ManifestSignal)[]) {
      if (key !== 'sha256' && have[key] !== want[key]) {
        problems.push(`${want.name}: ${key} is ${JSON.stringify(have[key])} in the manifest, regenerated ${JSON.stringify(want[key])}`);
      }
    }
    if (have.sha256 !== want.sha256) {
      problems.push(`${want.name}: manifest sha256 ${have.sha256} differs from the regenerated ${want.sha256} (generator changed?)`);
    }
    const filePath = path.join(dir, want.file);
    try {
      const onDisk = sha256Hex(await readFile(filePath));
      if (onDisk !== want.sha256) problems.push(`${want.file}: file sha256 ${onDisk} differs from the regenerated ${want.sha256}`);
    } catch {
      problems.push(`${want.file}: missing or unreadable`);
    }
  }
  for (const name of listed.keys()) problems.push(`${name}: in the manifest but not in the registry`);
  if (problems.length === 0 && text !== formatManifest(expected.manifest)) {
    problems.push(`${MANIFEST_FILE} is not formatted as the generator writes it (key order, indent, trailing newline)`);
  }
  return { ok: problems.length === 0, problems };
}

import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNALS } from '../../src/signals/index.js';
import { checkSignalSet, formatManifest, generateSignalSet, type Manifest } from '../../src/signals/manifest.js';
import { readWav } from '../../src/wav.js';

/** The committed reference set (regenerate with `loopcheck signals generate --out signals`). */
const COMMITTED = fileURLToPath(new URL('../../signals/', import.meta.url));

let tmp: string;
let generated: Manifest;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'loopcheck-signals-'));
  generated = await generateSignalSet(tmp);
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('committed signal set', () => {
  it('regenerating reproduces the committed manifest and every sha256 exactly', async () => {
    const committedText = await readFile(path.join(COMMITTED, 'manifest.json'), 'utf8');
    const generatedText = await readFile(path.join(tmp, 'manifest.json'), 'utf8');
    expect(generatedText).toBe(committedText);
    expect(generatedText).toBe(formatManifest(generated));
    const committed = JSON.parse(committedText) as Manifest;
    expect(committed.signals.map((s) => s.sha256)).toEqual(generated.signals.map((s) => s.sha256));
    for (const s of generated.signals) {
      const a = await readFile(path.join(tmp, s.file));
      const b = await readFile(path.join(COMMITTED, s.file));
      expect(Buffer.compare(a, b), s.file).toBe(0);
    }
  });

  it('checkSignalSet accepts the committed folder', async () => {
    expect(await checkSignalSet(COMMITTED)).toEqual({ ok: true, problems: [] });
  });

  it('manifest has the documented shape, key order and a float32 WAV per registry signal', async () => {
    expect(Object.keys(generated)).toEqual(['generator', 'version', 'sampleRate', 'signals']);
    expect(generated.generator).toBe('loopcheck signals generate');
    expect(generated.version).toBe(1);
    expect(generated.sampleRate).toBe(48000);
    expect(generated.signals.map((s) => s.name)).toEqual(Object.keys(SIGNALS));
    const text = await readFile(path.join(tmp, 'manifest.json'), 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n')[1]).toBe('  "generator": "loopcheck signals generate",');
    for (const s of generated.signals) {
      expect(Object.keys(s)).toEqual(['name', 'file', 'sampleRate', 'channels', 'frames', 'durationSeconds', 'sha256', 'purpose', 'description']);
      expect(s.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(s.durationSeconds).toBe(s.frames / s.sampleRate);
      const { audio, info } = await readWav(path.join(tmp, s.file));
      expect(info.format).toBe('float32');
      expect(info.frames).toBe(s.frames);
      expect(audio.channels.length).toBe(s.channels);
      // float32 on disk: the decoded samples are the generator's samples bit for bit.
      const want = SIGNALS[s.name]!.make(48000).channels[0]!;
      const got = audio.channels[0]!;
      let diff = 0;
      for (let i = 0; i < want.length; i++) if (want[i] !== got[i]) diff++;
      expect(diff, s.name).toBe(0);
    }
  });

  it('stays small: the committed folder is under 6 MB', async () => {
    let bytes = 0;
    for (const f of await readdir(COMMITTED)) bytes += (await stat(path.join(COMMITTED, f))).size;
    expect(bytes).toBeLessThan(6 * 1024 * 1024);
  });

  it('checkSignalSet reports a changed file, a missing file and a stale manifest', async () => {
    const wav = path.join(tmp, 'tone997.wav');
    const original = await readFile(wav);
    const changed = Buffer.from(original);
    changed[changed.length - 1] = changed[changed.length - 1]! ^ 0x01; // one bit of the last sample
    await writeFile(wav, changed);
    let r = await checkSignalSet(tmp);
    expect(r.ok).toBe(false);
    expect(r.problems.some((p) => p.startsWith('tone997.wav: file sha256'))).toBe(true);
    await writeFile(wav, original);

    await rm(path.join(tmp, 'pink.wav'));
    r = await checkSignalSet(tmp);
    expect(r.problems).toEqual(['pink.wav: missing or unreadable']);

    const manifest = JSON.parse(await readFile(path.join(tmp, 'manifest.json'), 'utf8')) as Manifest;
    manifest.signals[0]!.sha256 = '0'.repeat(64);
    manifest.signals = manifest.signals.filter((s) => s.name !== 'white');
    await writeFile(path.join(tmp, 'manifest.json'), formatManifest(manifest));
    r = await checkSignalSet(tmp);
    expect(r.problems.some((p) => p.startsWith('verification: manifest sha256'))).toBe(true);
    expect(r.problems).toContain('white: in the registry but not in the manifest');

    // Regenerating repairs it.
    await generateSignalSet(tmp);
    expect((await checkSignalSet(tmp)).ok).toBe(true);
  });

  it('checkSignalSet explains a folder without a manifest', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'loopcheck-empty-'));
    try {
      const r = await checkSignalSet(empty);
      expect(r.ok).toBe(false);
      expect(r.problems[0]).toMatch(/manifest\.json is missing.*signals generate/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

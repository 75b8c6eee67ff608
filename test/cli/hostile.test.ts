/**
 * `loopcheck analyze` on a corpus of hostile WAV files (issue 7 acceptance): each exits 2 with exactly one line on
 * stderr, no stack trace, nothing on stdout, and none hangs. The corpus (test/support/hostile-wav.ts) is written
 * to a tmp dir here; each file is passed as the capture next to a valid reference, a few also as the reference.
 * Plus `--criteria` files whose text would break the one-line contract if echoed raw.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/dsp/random.js';
import { writeWav } from '../../src/wav.js';
import { loopcheck, type CliResult } from '../support/cli.js';
import { hostileCorpus } from '../support/hostile-wav.js';

/** Per process: a hang guard, not a speed assertion (a normal run takes a few seconds under tsx). */
const HANG_GUARD_MS = 30_000;

const corpus = hostileCorpus().filter((c) => c.refused);
let dir = '';
let refPath = '';

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'loopcheck-hostile-cli-'));
  refPath = path.join(dir, 'ref.wav');
  const rng = createRng(1);
  await writeWav(refPath, { sampleRate: 48000, channels: [Float32Array.from({ length: 48000 }, () => 0.25 * rng.gaussian())] });
  for (const c of corpus) await writeFile(path.join(dir, `${c.name}.wav`), c.bytes);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Exit 2, one stderr line `loopcheck: CODE: …`, no stack frame, nothing on stdout. */
function expectOneLineExit2(r: CliResult, code: string): void {
  expect(r.exitCode).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^loopcheck: ${code}: `));
  expect(r.stderr).not.toContain('    at ');
}

/** Runs `jobs` with at most `width` CLI processes at once (2 shared cores: more would only queue). */
async function inBatches<T>(jobs: (() => Promise<T>)[], width = 3): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < jobs.length; i += width) out.push(...(await Promise.all(jobs.slice(i, i + width).map((j) => j()))));
  return out;
}

describe('loopcheck analyze: hostile WAV corpus', () => {
  it(`${corpus.length} hostile captures: each exits 2 with one line naming the file, no stack trace, no hang`, async () => {
    expect(corpus.length).toBeGreaterThanOrEqual(12);
    const results = await inBatches(
      corpus.map((c) => () => loopcheck(['analyze', '--reference', refPath, '--capture', path.join(dir, `${c.name}.wav`), '--json'], { timeoutMs: HANG_GUARD_MS })),
    );
    results.forEach((r, i) => {
      const file = path.join(dir, `${corpus[i]!.name}.wav`);
      expectOneLineExit2(r, 'INVALID_FILE');
      expect(r.stderr).toContain(file);
    });
  });

  it('hostile files as the reference: the same', async () => {
    const names = ['random-bytes', 'rf64', 'chunk-loop-20000-empty-chunks'];
    const results = await inBatches(
      names.map((n) => () => loopcheck(['analyze', '--reference', path.join(dir, `${n}.wav`), '--capture', refPath], { timeoutMs: HANG_GUARD_MS })),
    );
    for (const r of results) expectOneLineExit2(r, 'INVALID_FILE');
  });
});

describe('loopcheck verify --criteria: hostile files', () => {
  it('a key with a newline and a file with control bytes: exit 2, one escaped line', async () => {
    const files: Array<[string, string, RegExp]> = [
      ['newline-key.json', '{"max\\nLatencyMs": 1, "\\u001b[2J": 2}', /unknown criterion "max\\nLatencyMs"/],
      ['control-bytes.json', '\u0000\n\u001b[31m{', /not valid JSON \(Unexpected token '\\u0000'\)/],
    ];
    const results = await inBatches(
      files.map(([name, text]) => async () => {
        const p = path.join(dir, name);
        await writeFile(p, text);
        return loopcheck(['verify', '--backend', 'virtual', '--criteria', p, '--out', path.join(dir, 'out')], { timeoutMs: HANG_GUARD_MS });
      }),
    );
    results.forEach((r, i) => {
      expectOneLineExit2(r, 'INVALID_ARGUMENT');
      expect(r.stderr).toMatch(files[i]![2]);
      expect(r.stderr).not.toMatch(/\u001b/);
    });
  });
});

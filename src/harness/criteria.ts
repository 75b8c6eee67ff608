/**
 * Acceptance criteria: loading a --criteria JSON file (validated key by key) and judging metrics.
 */
import { readFile } from 'node:fs/promises';
import { LoopcheckError } from '../errors.js';
import { DEFAULT_CRITERIA, type Criteria } from './types.js';

/** Every criterion, its meaning and unit, and the range a file may set it to. */
export const CRITERIA_SPEC: Record<keyof Criteria, { doc: string; min: number; max: number }> = {
  maxLatencyMs: { doc: 'max write→delivery latency over repeats, ms (strict <)', min: 0, max: 60_000 },
  maxDropouts: { doc: 'max dropouts found (gaps, zero-fills, clicks)', min: 0, max: 1_000_000 },
  maxCaptureBufferMsP99: { doc: 'max capture buffer (delivery − device time) p99, ms', min: 0, max: 60_000 },
  minSnrDb: { doc: 'min SNR of every case that measures it, dB', min: -200, max: 400 },
  maxGainErrorDb: { doc: 'max |gain|, dB', min: 0, max: 200 },
  maxThdnDb: { doc: 'max THD+N at 997 Hz, dB', min: -400, max: 0 },
  maxDriftPpm: { doc: 'max |clock drift|, ppm', min: 0, max: 1_000_000 },
  maxOverruns: { doc: "max overruns of loopcheck's own queues", min: 0, max: 1_000_000 },
};

const MAX_CRITERIA_FILE_BYTES = 64 * 1024;

/**
 * File text echoed in a message, kept to one printable line (CLI errors are one line): at most `max` characters,
 * control characters (newlines, escape sequences, C1) escaped as in JSON.
 */
function printable(text: string, max = 60): string {
  return JSON.stringify(text.slice(0, max))
    .slice(1, -1)
    .replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Validates a parsed JSON value as a partial Criteria object; `source` names it in errors. */
export function parseCriteria(value: unknown, source: string): Criteria {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LoopcheckError('INVALID_ARGUMENT', `${source}: criteria must be a JSON object`, {
      hint: 'write e.g. {"maxLatencyMs": 50, "maxDropouts": 0}',
    });
  }
  const out: Criteria = { ...DEFAULT_CRITERIA };
  const valid = Object.keys(CRITERIA_SPEC);
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    if (key === '$schema' || key === 'comment') continue;
    if (!Object.hasOwn(CRITERIA_SPEC, key)) {
      throw new LoopcheckError('INVALID_ARGUMENT', `${source}: unknown criterion "${printable(key)}"`, {
        hint: `valid criteria: ${valid.join(', ')}`,
      });
    }
    const spec = CRITERIA_SPEC[key as keyof Criteria];
    if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < spec.min || raw > spec.max) {
      throw new LoopcheckError('INVALID_ARGUMENT', `${source}: ${key} must be a number from ${spec.min} to ${spec.max} (${spec.doc})`, {
        hint: `fix the value of ${key}`,
      });
    }
    (out as unknown as Record<string, number>)[key] = raw;
  }
  return out;
}

export async function loadCriteria(file: string): Promise<Criteria> {
  let text: string;
  try {
    const bytes = await readFile(file);
    if (bytes.length > MAX_CRITERIA_FILE_BYTES) {
      throw new LoopcheckError('INVALID_ARGUMENT', `${file}: criteria file is ${bytes.length} bytes; the limit is 64 KiB`, {
        hint: 'a criteria file is a small JSON object',
      });
    }
    text = bytes.toString('utf8');
  } catch (e) {
    if (e instanceof LoopcheckError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new LoopcheckError('INVALID_ARGUMENT', `cannot read criteria file ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, {
      hint: 'pass an existing JSON file to --criteria',
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    // V8's message ends with the offending text (`Unexpected token 'x', "…" is not valid JSON`): not echoed.
    throw new LoopcheckError('INVALID_ARGUMENT', `${file}: not valid JSON (${printable((e as Error).message.replace(/, (\.\.\.)?".*$/s, ''), 120)})`, {
      hint: 'write e.g. {"maxLatencyMs": 50, "maxDropouts": 0}',
    });
  }
  return parseCriteria(value, file);
}

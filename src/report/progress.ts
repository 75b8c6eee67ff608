/**
 * A one-line progress indicator for TTYs. Redraws in place (`\r` + erase-to-end-of-line) at most every
 * `minIntervalMs` (100 ms ⇒ ≤ 10 redraws/s); the last state and `done()` always draw. Writes nothing at all
 * unless `enabled` and `stream.isTTY` (the caller enables it when the run is expected to take > 2 s:
 * see `shouldShowProgress`).
 */
import { escapeTerminal } from './escape.js';

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  stream: ProgressStream;
  total: number;
  label: string;
  enabled: boolean;
  /** Minimum time between redraws, ms. Default 100. */
  minIntervalMs?: number;
  /** Clock in ms (injectable for tests). Default performance.now. */
  now?: () => number;
}

export interface Progress {
  tick(done: number, note?: string): void;
  /** Draw the final state and end the line. Idempotent. */
  done(): void;
}

/** The rule the CLI uses: a TTY and a run expected to take more than 2 s. */
export function shouldShowProgress(stream: ProgressStream, expectedMs: number): boolean {
  return stream.isTTY === true && expectedMs > 2000;
}

/** `label [#######.......] 3/7  43% note`, cut to `columns − 1` characters. */
export function formatProgressLine(label: string, done: number, total: number, note: string | undefined, columns: number): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const width = 20;
  const filled = Math.round(frac * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const line = `${escapeTerminal(label)} ${bar} ${done}/${total} ${String(Math.round(frac * 100)).padStart(3)}%${note ? ` ${escapeTerminal(note)}` : ''}`;
  const max = Math.max(10, columns - 1);
  return line.length > max ? line.slice(0, max) : line;
}

export function createProgress(options: ProgressOptions): Progress {
  const { stream, total, label } = options;
  const active = options.enabled && stream.isTTY === true;
  const minInterval = options.minIntervalMs ?? 100;
  const now = options.now ?? (() => performance.now());
  let lastDraw = -Infinity;
  let last = { done: 0, note: undefined as string | undefined };
  let drawn = false;
  let finished = false;
  const draw = () => {
    stream.write(`\r${formatProgressLine(label, last.done, total, last.note, stream.columns ?? 80)}\x1b[K`);
    drawn = true;
    lastDraw = now();
  };
  return {
    tick(done: number, note?: string) {
      if (!active || finished) return;
      last = { done, note };
      if (done >= total || now() - lastDraw >= minInterval) draw();
    },
    done() {
      if (!active || finished) return;
      finished = true;
      if (!drawn || last.done < total) draw();
      stream.write('\n');
    },
  };
}

import { describe, expect, it } from 'vitest';
import { createProgress, formatProgressLine, shouldShowProgress } from '../../src/report/progress.js';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 80, write: (s: string) => writes.push(s) } };
}

describe('progress', () => {
  it('writes nothing when disabled or when the stream is not a TTY', () => {
    for (const [enabled, tty] of [
      [false, true],
      [true, false],
      [false, false],
    ] as const) {
      const { writes, stream } = fakeStream(tty);
      const p = createProgress({ stream, total: 10, label: 'verify', enabled });
      for (let i = 0; i <= 10; i++) p.tick(i, 'x');
      p.done();
      expect(writes).toEqual([]);
    }
  });

  it('redraws in place at most every 100 ms (fake clock), always draws the end and finishes the line', () => {
    const { writes, stream } = fakeStream(true);
    let t = 0;
    const p = createProgress({ stream, total: 100, label: 'verify', enabled: true, now: () => t });
    // 100 ticks 10 ms apart = 1 s of fake time → 10 redraws (every 100 ms) + the final tick at done === total.
    for (let i = 1; i <= 100; i++) {
      t = i * 10;
      p.tick(i);
    }
    p.done();
    p.done(); // idempotent
    const redraws = writes.filter((w) => w.startsWith('\r'));
    expect(redraws.length).toBe(11);
    expect(redraws.every((w) => w.endsWith('\x1b[K') && !w.includes('\n'))).toBe(true);
    expect(redraws.at(-1)).toContain('100/100 100%');
    expect(writes.at(-1)).toBe('\n');
  });

  it('formats a bar, fits the terminal and neutralises control characters', () => {
    expect(formatProgressLine('run', 3, 10, 'latency', 80)).toBe('run [######..............] 3/10  30% latency');
    expect(formatProgressLine('x'.repeat(200), 1, 2, undefined, 40)).toHaveLength(39);
    expect(formatProgressLine('a\x1b[2Jb', 0, 0, '\u0007', 80)).not.toMatch(/[\x00-\x1f]/);
    expect(shouldShowProgress({ isTTY: true, write: () => true }, 3000)).toBe(true);
    expect(shouldShowProgress({ isTTY: true, write: () => true }, 1500)).toBe(false);
    expect(shouldShowProgress({ isTTY: false, write: () => true }, 30000)).toBe(false);
  });
});

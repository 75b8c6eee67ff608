/** Spawns the CLI from src/ through tsx with execa (argument arrays, never a shell string). */
import { execa, type ResultPromise } from 'execa';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY = path.join(ROOT, 'test', 'support', 'cli-entry.ts');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function loopcheck(args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  const r = await execa(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: '1', ...options.env },
    reject: false,
    // A hang guard, not a speed assertion.
    timeout: options.timeoutMs ?? 120_000,
    stdin: 'ignore',
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** A user error is exactly one line on stderr with a code and no stack trace. */
export function isOneLineError(stderr: string): boolean {
  const lines = stderr.trim().split('\n').filter((l) => !l.startsWith('[skip]'));
  return lines.length === 1 && /^loopcheck: [A-Z_]+: /.test(lines[0]!) && !/\n\s+at /.test(stderr);
}

// ---- a running CLI that can be signalled ---------------------------------------------------------------------

/**
 * Prints `[ready]` on stderr once the command has a SIGINT listener. A signal sent before the command installed
 * its handler would just kill node (exit by signal, not 130), and node's own startup handler is not a listener,
 * so tests wait for this instead of guessing from a fixed sleep how long tsx takes to start.
 */
const READY_HOOK =
  'data:text/javascript,' +
  encodeURIComponent(
    "const t=setInterval(()=>{if(process.listenerCount('SIGINT')>0){clearInterval(t);process.stderr.write('[ready]\\n');}},10);t.unref();",
  );

export type SpawnedChild = ResultPromise<{ reject: false; timeout: number; stdin: 'ignore'; cwd: string; env: Record<string, string>; encoding: 'buffer' | 'utf8' }>;

export interface Spawned {
  child: SpawnedChild;
  /** Resolves when the CLI's SIGINT handler is installed. */
  ready: Promise<void>;
  /** stderr so far (also in the final result). */
  stderr: () => string;
}

/** Spawns the CLI from src/ and returns the running child, so a test can signal it. */
export function spawnLoopcheck(args: string[], options: { env?: Record<string, string>; binaryStdout?: boolean } = {}): Spawned {
  const child = execa(process.execPath, ['--import', 'tsx', '--import', READY_HOOK, ENTRY, ...args], {
    cwd: ROOT,
    env: { NO_COLOR: '1', ...options.env },
    reject: false,
    timeout: 60_000, // a hang guard, not a speed assertion
    stdin: 'ignore',
    encoding: options.binaryStdout ? 'buffer' : 'utf8',
  }) as SpawnedChild;
  let err = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString('utf8');
      if (err.includes('[ready]\n')) resolve();
    });
    void child.then((r) => reject(new Error(`the CLI exited (${r.exitCode}) before it was ready: ${err}`)));
  });
  return { child, ready, stderr: () => err };
}

/** stderr lines without the readiness marker. */
export function stderrLines(stderr: unknown): string[] {
  const text = stderr instanceof Uint8Array ? Buffer.from(stderr).toString('utf8') : String(stderr ?? '');
  return text.split('\n').filter((l) => l.length > 0 && l !== '[ready]');
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `file` holds at least `bytes` bytes (the recorder appends every chunk as it arrives). */
export async function waitForSize(file: string, bytes: number, child: SpawnedChild): Promise<void> {
  let exited = false;
  void child.finally(() => (exited = true));
  while (!exited) {
    if (existsSync(file) && statSync(file).size >= bytes) return;
    await sleep(20);
  }
  throw new Error(`the recorder exited before ${file} reached ${bytes} bytes`);
}

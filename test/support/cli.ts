/** Spawns the CLI from src/ through tsx with execa (argument arrays, never a shell string). */
import { execa } from 'execa';
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

/**
 * loopcheck's command line: dispatches to one file per command. Every user error ends as one line on
 * stderr and an exit code (never a stack trace; LOOPCHECK_DEBUG=1 prints one for loopcheck bugs).
 */
import { isLoopcheckError, LoopcheckError } from '../errors.js';
import { VERSION } from '../version.js';
import { exitCodeFor } from './options.js';
import type { CommandIo } from './io.js';
import { defaultIo } from './io.js';

type Command = (argv: string[], io: CommandIo) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  verify: { summary: 'play known signals, record them back, judge latency/dropouts/fidelity; write reports', load: async () => (await import('./verify.js')).verify },
  analyze: { summary: 'compare a capture WAV with its reference WAV (latency, gain, drift, SNR, dropouts)', load: async () => (await import('./analyze.js')).analyzeCommand },
  record: { summary: 'record the loopback to a WAV file, or raw PCM to stdout with -', load: async () => (await import('./record.js')).record },
  devices: { summary: 'list render and capture devices', load: async () => (await import('./devices.js')).devices },
  signals: { summary: 'generate (or check) the reference signal set', load: async () => (await import('./signals.js')).signals },
  bench: { summary: 'measure latency, dropouts and CPU per buffer size; recommend one (bench.json, bench.html)', load: async () => (await import('./bench.js')).bench },
  compare: { summary: 'compare two report.json files; exit 1 on a regression beyond tolerance', load: async () => (await import('./compare.js')).compare },
  merge: { summary: 'combine report.json files from many runners: pass/fail matrix, latency per machine (merge.html)', load: async () => (await import('./merge.js')).merge },
};

function usage(): string {
  const lines = ['Usage: loopcheck <command> [options]', '', 'Commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(9)} ${c.summary}`);
  lines.push('', 'Run `loopcheck <command> --help` for its options. `loopcheck --version` prints the version.');
  return lines.join('\n') + '\n';
}

export async function main(argv: string[], io: CommandIo = defaultIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`loopcheck: INVALID_ARGUMENT: unknown command "${name.slice(0, 40)}". Fix: use one of ${Object.keys(COMMANDS).join(', ')} (loopcheck --help).\n`);
    return 2;
  }
  try {
    const run = await command.load();
    return await run(rest, io);
  } catch (e) {
    return reportError(e, io);
  }
}

/** One line on stderr; the exit code for the error's kind. */
export function reportError(e: unknown, io: CommandIo): number {
  if (isLoopcheckError(e)) {
    io.stderr.write(`loopcheck: ${e.toLine()}\n`);
    if (process.env.LOOPCHECK_DEBUG === '1' && e.stack) io.stderr.write(`${e.stack}\n`);
    return exitCodeFor(e);
  }
  const err = e as Error;
  const wrapped = new LoopcheckError('INTERNAL', `unexpected error: ${(err?.message ?? String(e)).split('\n')[0]}`, {
    hint: 'this is a loopcheck bug: rerun with LOOPCHECK_DEBUG=1 and report the stack trace',
  });
  io.stderr.write(`loopcheck: ${wrapped.toLine()}\n`);
  if (process.env.LOOPCHECK_DEBUG === '1' && err?.stack) io.stderr.write(`${err.stack}\n`);
  return 1;
}

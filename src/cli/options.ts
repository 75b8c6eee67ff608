/**
 * Argument parsing shared by the commands: Node's util.parseArgs in strict mode, with its errors turned
 * into one-line INVALID_ARGUMENT errors, and typed number parsing with ranges.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LoopcheckError } from '../errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Options every command accepts (design.md: all commands accept --backend, --device, --json). */
export const COMMON_OPTIONS = {
  backend: { type: 'string' },
  device: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies OptionSpec;

type Parsed<T extends OptionSpec> = ReturnType<typeof parseArgs<{ args: string[]; options: typeof COMMON_OPTIONS & T; allowPositionals: true; strict: true }>>;

export function parse<T extends OptionSpec>(command: string, argv: string[], options: T, allowPositionals = false): Parsed<T> {
  try {
    const parsed = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
    if (!allowPositionals && parsed.positionals.length > 0) {
      throw new Error(`unexpected argument '${parsed.positionals[0]!.slice(0, 60)}'`);
    }
    return parsed as Parsed<T>;
  } catch (e) {
    const message = (e as Error).message.split('\n')[0]!.replace(/\.$/, '');
    throw new LoopcheckError('INVALID_ARGUMENT', `${command}: ${message}`, { hint: `see \`loopcheck ${command} --help\`` });
  }
}

export interface NumberRange {
  min: number;
  max: number;
  integer?: boolean;
}

/** Parses a numeric option; undefined stays undefined. */
export function numberOption(command: string, name: string, value: string | undefined, range: NumberRange): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  const kind = range.integer ? 'a whole number' : 'a number';
  if (value.trim() === '' || !Number.isFinite(v) || v < range.min || v > range.max || (range.integer && !Number.isInteger(v))) {
    throw new LoopcheckError('INVALID_ARGUMENT', `${command}: --${name} must be ${kind} from ${range.min} to ${range.max}, got "${value.slice(0, 40)}"`, {
      hint: `e.g. --${name} ${range.integer ? Math.max(range.min, 1) : range.min}`,
    });
  }
  return v;
}

/** Flags only the wasapi backend has (design.md): exclusive mode, IAudioClient3 periods, process loopback, reopen. */
export const WASAPI_OPTIONS = {
  exclusive: { type: 'boolean', default: false },
  'min-period': { type: 'boolean', default: false },
  process: { type: 'string' },
  reopen: { type: 'boolean', default: false },
} as const satisfies OptionSpec;

export const WASAPI_HELP: [string, string][] = [
  ['--exclusive', 'exclusive mode (wasapi: render/capture endpoints, never loopback)'],
  ['--min-period', "IAudioClient3's smallest shared period (wasapi: render/capture endpoints, never loopback)"],
  ['--process PID', 'capture what process PID and its children play (wasapi process loopback, Windows 10 2004+)'],
  ['--reopen', 'when the endpoint goes away, continue on the new default one (wasapi; the chunk is marked)'],
];

export interface WasapiFlags {
  exclusive: boolean;
  minPeriod: boolean;
  process: number | undefined;
  reopen: boolean;
}

/** Reads the WASAPI_OPTIONS values; --process must be a PID (a whole number ≥ 1). */
export function wasapiFlags(command: string, values: { exclusive?: boolean; 'min-period'?: boolean; process?: string; reopen?: boolean }): WasapiFlags {
  return {
    exclusive: values.exclusive === true,
    minPeriod: values['min-period'] === true,
    process: numberOption(command, 'process', values.process, { min: 1, max: 0xffffffff, integer: true }),
    reopen: values.reopen === true,
  };
}

/** The WASAPI-only flags given, as the user typed them. */
export function givenWasapiFlags(f: WasapiFlags): string[] {
  return [f.exclusive && '--exclusive', f.minPeriod && '--min-period', f.process !== undefined && '--process', f.reopen && '--reopen'].filter(
    (x): x is string => typeof x === 'string',
  );
}

/**
 * WASAPI-only flags on another backend: INVALID_ARGUMENT (exit 2) naming the flag and the backend, never ignored.
 * `backend` is the resolved backend (auto already decided).
 */
export function requireWasapiFor(command: string, backend: string, flags: string[]): void {
  if (flags.length === 0 || backend === 'wasapi') return;
  const what = backend === 'virtual' ? 'the virtual device (SIMULATED)' : backend === 'pulse' ? 'PulseAudio' : `the ${backend} backend`;
  throw new LoopcheckError('INVALID_ARGUMENT', `${command}: ${flags.join(', ')} ${flags.length === 1 ? 'needs' : 'need'} --backend wasapi; ${what} has no such mode`, {
    hint: `drop ${flags.join(' ')}, or run on Windows with --backend wasapi`,
  });
}

/** Usage text printed by --help and after usage errors. */
export interface CommandHelp {
  usage: string;
  summary: string;
  options: [string, string][];
}

export function formatHelp(help: CommandHelp): string {
  const width = Math.max(...help.options.map(([o]) => o.length), 10);
  const lines = [`Usage: ${help.usage}`, '', help.summary, '', 'Options:'];
  for (const [o, d] of help.options) lines.push(`  ${o.padEnd(width)}  ${d}`);
  lines.push(`  ${'--backend NAME'.padEnd(width)}  auto (default), virtual, pulse, wasapi`);
  lines.push(`  ${'--device ID'.padEnd(width)}  device id or name (default: the default render device)`);
  lines.push(`  ${'--json'.padEnd(width)}  machine-readable output on stdout`);
  lines.push(`  ${'-h, --help'.padEnd(width)}  this help`);
  return lines.join('\n') + '\n';
}

/** Exit codes (design.md): 0 ok; 1 a criterion failed / runtime failure; 2 usage or setup error; 130/143 interrupted. */
export function exitCodeFor(error: LoopcheckError): number {
  switch (error.code) {
    case 'INVALID_ARGUMENT':
    case 'INVALID_FILE':
    case 'DEVICE_NOT_FOUND':
    case 'BACKEND_UNAVAILABLE':
    case 'SERVICE_UNAVAILABLE':
    case 'FORMAT_UNSUPPORTED':
      return 2;
    case 'INTERRUPTED':
      return 130;
    default:
      return 1;
  }
}

/** `loopcheck signals generate [--out DIR] [--rate HZ]` and `loopcheck signals check [--dir DIR]`. */
import { LoopcheckError } from '../errors.js';
import { checkSignalSet, generateSignalSet } from '../signals/manifest.js';
import type { CommandIo } from './io.js';
import { formatHelp, numberOption, parse } from './options.js';

const HELP = formatHelp({
  usage: 'loopcheck signals generate [--out DIR] [--rate HZ] | loopcheck signals check [--dir DIR]',
  summary:
    'generate: writes the reference signals as float32 WAVs plus manifest.json (rate, length, sha256, purpose).\n' +
    'check: regenerates them in memory and compares with the files in DIR (exit 1 on a difference).',
  options: [
    ['--out DIR', 'output folder for generate (default signals)'],
    ['--dir DIR', 'folder to check (default signals)'],
    ['--rate HZ', 'sample rate for generate (default 48000)'],
  ],
});

export async function signals(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parse('signals', argv, {
    out: { type: 'string', default: 'signals' },
    dir: { type: 'string', default: 'signals' },
    rate: { type: 'string' },
  }, true);
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const [sub, ...extra] = positionals;
  if ((sub !== 'generate' && sub !== 'check') || extra.length > 0) {
    throw new LoopcheckError('INVALID_ARGUMENT', `signals: expected "generate" or "check"${sub ? `, got "${[sub, ...extra].join(' ').slice(0, 40)}"` : ''}`, {
      hint: 'loopcheck signals generate --out signals',
    });
  }
  if (sub === 'generate') {
    const rate = numberOption('signals', 'rate', values.rate, { min: 8000, max: 384000, integer: true }) ?? 48000;
    const manifest = await generateSignalSet(values.out!, rate);
    if (values.json) io.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
    else io.stdout.write(`wrote ${manifest.signals.length} signals and manifest.json to ${values.out}\n`);
    return 0;
  }
  const result = await checkSignalSet(values.dir!);
  if (values.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else io.stdout.write(result.ok ? `${values.dir}: all signals match their generator\n` : `${values.dir}: ${result.problems.join('; ')}\n`);
  return result.ok ? 0 : 1;
}

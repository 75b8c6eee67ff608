/** `loopcheck analyze --reference R.wav --capture C.wav [--channel N] [--json]` (contract in design.md). */
import { analyze } from '../analysis/index.js';
import type { AnalysisResult } from '../analysis/types.js';
import { LoopcheckError } from '../errors.js';
import { readWav } from '../wav.js';
import type { CommandIo } from './io.js';
import { formatHelp, numberOption, parse } from './options.js';

const HELP = formatHelp({
  usage: 'loopcheck analyze --reference REF.wav --capture CAP.wav [--channel N] [--json]',
  summary:
    'Finds the reference in the capture and measures latency (sub-sample), gain, clock drift, SNR and dropouts.\n' +
    'Exit 0 analysed; 1 reference not found in the capture; 2 bad input.',
  options: [
    ['--reference FILE', 'the signal that was played (WAV)'],
    ['--capture FILE', 'what was recorded (WAV; PCM 8/16/24/32, float 32/64, EXTENSIBLE)'],
    ['--channel N', 'capture channel to analyse (default 0)'],
    ['--fidelity', 'also measure THD+N at 997 Hz and the frequency response'],
  ],
});

/** The JSON contract of `analyze --json`: exactly these keys first, optional ones after. */
export function analysisJson(r: AnalysisResult): Record<string, unknown> {
  const round = (v: number | null | undefined, d: number): number | null =>
    v === null || v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(d));
  const out: Record<string, unknown> = {
    signalFound: r.signalFound,
    sampleRate: r.sampleRate,
    channel: r.channel,
    latency: r.latency ? { samples: round(r.latency.samples, 4), ms: round(r.latency.ms, 5), confidence: round(r.latency.confidence, 3) } : null,
    gainDb: round(r.gainDb, 3),
    driftPpm: round(r.driftPpm, 2),
    snrDb: round(r.snrDb, 2),
    dropouts: r.dropouts.map((d) => ({ atSeconds: round(d.atSeconds, 5), durationMs: round(d.durationMs, 3), kind: d.kind })),
  };
  if (r.bitExact !== undefined) out.bitExact = r.bitExact;
  if (r.thdnDb !== undefined) out.thdnDb = round(r.thdnDb, 2);
  if (r.warnings?.length) out.warnings = r.warnings;
  return out;
}

function human(r: AnalysisResult): string {
  if (!r.signalFound) return 'reference NOT found in the capture\n';
  const lines: string[] = [];
  const l = r.latency;
  lines.push(l ? `latency     ${l.samples.toFixed(3)} samples = ${l.ms.toFixed(4)} ms (confidence ${l.confidence.toFixed(2)})` : 'latency     ambiguous (see warnings)');
  if (r.gainDb !== null) lines.push(`gain        ${r.gainDb.toFixed(3)} dB`);
  if (r.driftPpm !== null) lines.push(`drift       ${r.driftPpm.toFixed(2)} ppm`);
  if (r.snrDb !== null) lines.push(`SNR         ${r.snrDb.toFixed(1)} dB${r.bitExact ? ' (bit-exact)' : ''}`);
  if (r.thdnDb !== undefined && r.thdnDb !== null) lines.push(`THD+N       ${r.thdnDb.toFixed(1)} dB`);
  lines.push(`dropouts    ${r.dropouts.length}`);
  for (const d of r.dropouts) lines.push(`  ${d.kind.padEnd(7)} at ${d.atSeconds.toFixed(4)} s, ${d.durationMs.toFixed(2)} ms`);
  for (const w of r.warnings ?? []) lines.push(`warning: ${w}`);
  return lines.join('\n') + '\n';
}

export async function analyzeCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parse('analyze', argv, {
    reference: { type: 'string' },
    capture: { type: 'string' },
    channel: { type: 'string' },
    fidelity: { type: 'boolean', default: false },
  }, true);
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new LoopcheckError('INVALID_ARGUMENT', `analyze: unexpected argument "${positionals[0]!.slice(0, 60)}"`, {
      hint: 'pass files with --reference and --capture',
    });
  }
  if (!values.reference || !values.capture) {
    throw new LoopcheckError('INVALID_ARGUMENT', `analyze: ${values.reference ? '--capture' : '--reference'} is required`, {
      hint: 'loopcheck analyze --reference REF.wav --capture CAP.wav',
    });
  }
  const channel = numberOption('analyze', 'channel', values.channel, { min: 0, max: 1023, integer: true }) ?? 0;
  const [ref, cap] = [await readWav(values.reference), await readWav(values.capture)];
  for (const w of [...ref.warnings, ...cap.warnings]) io.stderr.write(`loopcheck: warning: ${w}\n`);
  const result = analyze(ref.audio, cap.audio, { channel, fidelity: values.fidelity });
  io.stdout.write(values.json ? `${JSON.stringify(analysisJson(result), null, 2)}\n` : human(result));
  return result.signalFound ? 0 : 1;
}

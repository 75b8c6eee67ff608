/**
 * `loopcheck devices [--backend B] [--json] [--watch]`: render and capture devices, the default marked.
 * With --watch: one line (or one JSON object per line with --json) per hot-plug event until Ctrl-C
 * (exit 130; SIGTERM 143). A backend that cannot watch is BACKEND_UNAVAILABLE (exit 2).
 */
import { getBackend } from '../backends/index.js';
import type { Backend, DeviceEvent } from '../backends/types.js';
import { LoopcheckError, isLoopcheckError } from '../errors.js';
import type { CommandIo } from './io.js';
import { formatHelp, parse } from './options.js';

const HELP = formatHelp({
  usage: 'loopcheck devices [--backend NAME] [--json] [--watch]',
  summary:
    'Lists render devices, capture devices and monitors (loopback sources); * marks the defaults.\n' +
    'With --watch, prints one line per device event (added, removed, changed, default-changed) until Ctrl-C.',
  options: [['--watch', 'report hot-plug events until Ctrl-C (--json: one JSON object per line)']],
});

export async function devices(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parse('devices', argv, { watch: { type: 'boolean', default: false } });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const backend = await getBackend(values.backend ?? 'auto');
  if (values.watch) return watch(backend, values.json, io);
  const list = await backend.listDevices();
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ backend: backend.name, simulated: backend.simulated, devices: list }, null, 2)}\n`);
    return 0;
  }
  if (backend.simulated) io.stdout.write('SIMULATED: the virtual backend has one simulated device\n');
  for (const d of list) {
    const fmt = d.sampleRate ? ` ${d.sampleRate} Hz ${d.channels ?? '?'} ch` : '';
    io.stdout.write(`${d.isDefault ? '*' : ' '} ${d.kind.padEnd(7)} ${d.id}  ${JSON.stringify(d.name)}${fmt}\n`);
  }
  return 0;
}

/** One text line per event: `added   render  hp_sink  "Null Output"`. */
export function formatDeviceEvent(e: DeviceEvent): string {
  const missed = e.missed ? `  (${e.missed} earlier events missed)` : '';
  return `${e.type.padEnd(15)} ${e.kind.padEnd(7)} ${e.id}${e.name === undefined ? '' : `  ${JSON.stringify(e.name)}`}${missed}`;
}

/** Runs until SIGINT (130) / SIGTERM (143); a watch that dies (server gone) rethrows its error. */
async function watch(backend: Backend, json: boolean, io: CommandIo): Promise<number> {
  if (!backend.watchDevices) {
    throw new LoopcheckError('BACKEND_UNAVAILABLE', `the ${backend.name} backend cannot watch devices`, {
      hint: 'use --backend pulse (Linux) for devices --watch',
    });
  }
  let finish!: (outcome: { signal: 'SIGINT' | 'SIGTERM' } | { error: unknown }) => void;
  const done = new Promise<{ signal: 'SIGINT' | 'SIGTERM' } | { error: unknown }>((r) => (finish = r));
  const handle = backend.watchDevices(
    (e) => {
      const { time: _time, ...shown } = e; // backend-clock times mean nothing outside this process
      io.stdout.write(json ? `${JSON.stringify(shown)}\n` : `${formatDeviceEvent(e)}\n`);
    },
    (error) => finish({ error }),
  );
  const unsubscribe = io.onSignal((signal) => finish({ signal }));
  io.stderr.write(`loopcheck: watching ${backend.name} devices (Ctrl-C to stop)\n`);
  const outcome = await done;
  unsubscribe();
  await handle.close();
  if ('error' in outcome) {
    throw isLoopcheckError(outcome.error) ? outcome.error : new LoopcheckError('INTERNAL', String(outcome.error));
  }
  return outcome.signal === 'SIGTERM' ? 143 : 130;
}

/** `loopcheck devices [--backend B] [--json]`: render and capture devices, the default marked. */
import { getBackend } from '../backends/index.js';
import type { CommandIo } from './io.js';
import { formatHelp, parse } from './options.js';

const HELP = formatHelp({
  usage: 'loopcheck devices [--backend NAME] [--json]',
  summary: 'Lists render devices, capture devices and monitors (loopback sources); * marks the defaults.',
  options: [],
});

export async function devices(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parse('devices', argv, {});
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const backend = await getBackend(values.backend ?? 'auto');
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

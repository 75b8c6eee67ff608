/**
 * Asks the host for an action the Windows side cannot do itself (unload the PulseAudio sink behind Wine's
 * endpoint). scripts/ci/wine/test.sh runs the agent: it watches $LOOPCHECK_WINE_AGENT (a folder inside the
 * chroot), runs a whitelisted action for each `<id>.req` and answers with `<id>.done` (exit code, then output).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** `unload-sink [NAME]` (default: `loop`, the sink behind Wine's default endpoint), `load-sink NAME`. */
export type HostAction = 'unload-sink' | `unload-sink ${string}` | `load-sink ${string}`;

/** The agent folder, or undefined where no agent runs (a real Windows runner). */
export function hostAgent(): string | undefined {
  const dir = process.env.LOOPCHECK_WINE_AGENT;
  return dir && existsSync(dir) ? dir : undefined;
}

export async function hostAction(action: HostAction, timeoutMs = 15_000): Promise<{ code: number; output: string }> {
  const dir = hostAgent();
  if (!dir) throw new Error('no host agent (LOOPCHECK_WINE_AGENT): run through npm run test:wine');
  const id = `${process.pid}-${Date.now()}`;
  const tmp = path.join(dir, `${id}.tmp`);
  writeFileSync(tmp, `${action}\n`);
  renameSync(tmp, path.join(dir, `${id}.req`)); // atomic: the agent never sees half a request
  const done = path.join(dir, `${id}.done`);
  // Poll: a hang guard, not a speed assertion (the agent answers within ~100 ms).
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    if (existsSync(done)) {
      const [code, ...rest] = readFileSync(done, 'utf8').split('\n');
      return { code: Number(code), output: rest.join('\n').trim() };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the host agent did not answer "${action}" within ${timeoutMs} ms`);
}

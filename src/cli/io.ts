/** The streams and process hooks a command uses, injectable so commands can be tested in-process. */
import type { Writable } from 'node:stream';

export interface CommandIo {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Subscribes to SIGINT/SIGTERM; returns an unsubscribe function. */
  onSignal(handler: (signal: 'SIGINT' | 'SIGTERM') => void): () => void;
  /** Leaves the process now (a second Ctrl-C); injectable so tests can observe it. */
  exit(code: number): never;
}

export function defaultIo(): CommandIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    exit(code: number): never {
      return process.exit(code);
    },
    onSignal(handler) {
      const int = (): void => handler('SIGINT');
      const term = (): void => handler('SIGTERM');
      process.on('SIGINT', int);
      process.on('SIGTERM', term);
      return () => {
        process.off('SIGINT', int);
        process.off('SIGTERM', term);
      };
    },
  };
}

export interface Interrupt {
  /** Aborts on the first SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
  /** The first signal received, or null. */
  received(): 'SIGINT' | 'SIGTERM' | null;
  /** Stops listening. */
  dispose(): void;
}

/**
 * Ctrl-C handling shared by the long-running commands: the first SIGINT/SIGTERM prints `firstLine` and aborts
 * (the command then finishes what it can and exits 130 / 143); a second one prints `againLine` and exits at once.
 */
export function listenForInterrupt(io: CommandIo, firstLine: string, againLine: string): Interrupt {
  const controller = new AbortController();
  let first: 'SIGINT' | 'SIGTERM' | null = null;
  const unsubscribe = io.onSignal((sig) => {
    if (first) {
      io.stderr.write(`loopcheck: ${againLine}\n`);
      io.exit(sig === 'SIGTERM' ? 143 : 130);
    }
    first = sig;
    io.stderr.write(`loopcheck: ${sig}: ${firstLine}\n`);
    controller.abort();
  });
  // After an interrupt the handler stays until the process ends: a second Ctrl-C arriving while the command
  // returns (partial outputs already written) must still exit 130 at once, not kill the process by the
  // signal's default action.
  return { signal: controller.signal, received: () => first, dispose: () => (first ? undefined : unsubscribe()) };
}

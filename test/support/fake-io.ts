/** An in-process CommandIo (src/cli/io.ts) for tests that drive a command's Ctrl-C handling without signals. */
import { Writable } from 'node:stream';
import type { CommandIo } from '../../src/cli/io.js';

export interface DoubleCtrlCIo {
  io: CommandIo;
  /** What the command wrote to stderr, chunk by chunk. */
  stderr: string[];
  /** The codes `io.exit` was called with. */
  exits: number[];
}

/**
 * A CommandIo that sends two SIGINTs in a row as soon as the command listens (a "second Ctrl-C"). Its `exit`
 * records the code and throws instead of leaving the process, so the command then carries on as after the first.
 */
export function doubleCtrlCIo(): DoubleCtrlCIo {
  const stderr: string[] = [];
  const exits: number[] = [];
  const sink = (into: string[]) => new Writable({ write(chunk, _enc, cb) { into.push(String(chunk)); cb(); } });
  const io: CommandIo = {
    stdout: sink([]),
    stderr: sink(stderr),
    env: {},
    exit(code: number): never {
      exits.push(code);
      throw new Error('exit called');
    },
    onSignal(handler) {
      setImmediate(() => {
        handler('SIGINT');
        try {
          handler('SIGINT');
        } catch {
          // the fake exit throws instead of leaving the process
        }
      });
      return () => {};
    },
  };
  return { io, stderr, exits };
}

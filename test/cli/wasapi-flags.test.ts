/**
 * The WASAPI-only flags (--exclusive, --min-period, --process PID, --reopen) on backends that have no such mode:
 * a one-line error and exit 2, never silently ignored, and nothing recorded. Runs on Linux (virtual and pulse need
 * no audio server for this: the flags are refused before any device is opened).
 */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { givenWasapiFlags, requireWasapiFor, wasapiFlags } from '../../src/cli/options.js';
import { LoopcheckError } from '../../src/errors.js';
import { isOneLineError, loopcheck } from '../support/cli.js';

describe('WASAPI-only flags (options.ts)', () => {
  it('parses --process as a PID and lists the flags given', () => {
    const f = wasapiFlags('record', { exclusive: true, process: '4242', reopen: false });
    expect(f).toEqual({ exclusive: true, minPeriod: false, process: 4242, reopen: false });
    expect(givenWasapiFlags(f)).toEqual(['--exclusive', '--process']);
    expect(givenWasapiFlags(wasapiFlags('record', {}))).toEqual([]);
  });

  it('rejects a PID that is not a whole number ≥ 1', () => {
    for (const bad of ['0', '-3', '1.5', 'chrome', '']) {
      expect(() => wasapiFlags('record', { process: bad }), bad).toThrow(LoopcheckError);
    }
  });

  it('requireWasapiFor passes on wasapi (or with no flag) and names flag and backend otherwise', () => {
    expect(() => requireWasapiFor('record', 'wasapi', ['--exclusive', '--process'])).not.toThrow();
    expect(() => requireWasapiFor('record', 'pulse', [])).not.toThrow();
    let err: unknown;
    try {
      requireWasapiFor('verify', 'pulse', ['--exclusive']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LoopcheckError);
    expect((err as LoopcheckError).code).toBe('INVALID_ARGUMENT');
    expect((err as LoopcheckError).message).toContain('--exclusive');
    expect((err as LoopcheckError).message).toContain('PulseAudio');
    expect((err as LoopcheckError).hint).toContain('--backend wasapi');
  });
});

describe('WASAPI-only flags on the CLI', () => {
  it('record refuses them on virtual and pulse with exit 2, one line, and writes no file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'loopcheck-wflags-'));
    const cases: [string[], string][] = [
      [['--backend', 'virtual', '--process', '1234'], '--process'],
      [['--backend', 'virtual', '--exclusive'], '--exclusive'],
      [['--backend', 'pulse', '--exclusive'], '--exclusive'],
      [['--backend', 'pulse', '--process', '1234'], '--process'],
      [['--backend', 'pulse', '--min-period', '--reopen'], '--min-period, --reopen'],
    ];
    for (const [args, named] of cases) {
      const out = path.join(dir, `${args.join('_')}.wav`);
      const r = await loopcheck(['record', ...args, '--seconds', '0.2', out]);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toContain('INVALID_ARGUMENT');
      expect(r.stderr).toContain(named);
      expect(existsSync(out), out).toBe(false);
    }
  });

  it('record --process with a non-PID is a usage error', async () => {
    const r = await loopcheck(['record', '--backend', 'virtual', '--process', 'firefox', 'x.wav']);
    expect(r.exitCode).toBe(2);
    expect(isOneLineError(r.stderr), r.stderr).toBe(true);
    expect(r.stderr).toContain('--process must be a whole number');
  });

  // On Windows the backend exists (test/wine covers it there).
  it.skipIf(process.platform === 'win32')('record --backend wasapi on a Linux build is BACKEND_UNAVAILABLE (exit 2), not a crash', async () => {
    const r = await loopcheck(['record', '--backend', 'wasapi', '--process', '1234', '--seconds', '0.2', 'x.wav']);
    expect(r.exitCode).toBe(2);
    expect(isOneLineError(r.stderr), r.stderr).toBe(true);
    expect(r.stderr).toContain('BACKEND_UNAVAILABLE');
  });

  it('verify --exclusive on virtual and pulse is refused (exit 2) instead of measuring shared mode', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'loopcheck-wflags-'));
    for (const backend of ['virtual', 'pulse']) {
      const r = await loopcheck(['verify', '--backend', backend, '--exclusive', '--out', path.join(dir, backend)]);
      expect(r.exitCode, backend).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toContain('--exclusive needs --backend wasapi');
      expect(existsSync(path.join(dir, backend, 'report.json'))).toBe(false);
    }
  });

  it('verify --render-period-ms is wasapi only (exit 2 elsewhere) and must be a number in range', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'loopcheck-wflags-'));
    for (const [args, says] of [
      [['--backend', 'virtual', '--render-period-ms', '20'], '--render-period-ms needs --backend wasapi'],
      [['--backend', 'pulse', '--render-period-ms', '20'], '--render-period-ms needs --backend wasapi'],
      [['--backend', 'virtual', '--render-period-ms', 'ten'], '--render-period-ms'],
      [['--backend', 'virtual', '--render-period-ms', '0'], '--render-period-ms'],
    ] as const) {
      const r = await loopcheck(['verify', ...args, '--out', path.join(dir, 'r')]);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toContain(says);
    }
    expect(existsSync(path.join(dir, 'r', 'report.json'))).toBe(false);
  });

  it('--help of record lists the WASAPI flags', async () => {
    const r = await loopcheck(['record', '--help']);
    expect(r.exitCode).toBe(0);
    for (const f of ['--exclusive', '--min-period', '--process PID', '--reopen']) expect(r.stdout).toContain(f);
  });
});

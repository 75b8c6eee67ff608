import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWav } from '../../src/wav.js';
import { isOneLineError, loopcheck } from '../support/cli.js';

describe('loopcheck commands', () => {
  it('--help lists the commands and --version prints the package version', async () => {
    const h = await loopcheck(['--help']);
    expect(h.exitCode).toBe(0);
    for (const c of ['verify', 'analyze', 'record', 'devices', 'signals']) expect(h.stdout).toContain(c);
    const v = await loopcheck(['--version']);
    const pkg = JSON.parse(await readFile(path.join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(v.stdout.trim()).toBe(pkg.version);
  });

  it('every command has --help', async () => {
    for (const c of ['verify', 'analyze', 'record', 'devices', 'signals']) {
      const r = await loopcheck([c, '--help']);
      expect(r.exitCode, c).toBe(0);
      expect(r.stdout, c).toMatch(/^Usage: loopcheck /);
    }
  });

  it('an unknown command exits 2 with one line', async () => {
    const r = await loopcheck(['frobnicate']);
    expect(r.exitCode).toBe(2);
    expect(isOneLineError(r.stderr)).toBe(true);
  });

  it('devices --json on the virtual backend lists a default render device and its monitor', async () => {
    const r = await loopcheck(['devices', '--backend', 'virtual', '--json']);
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(String(r.stdout)) as { simulated: boolean; devices: { kind: string; isDefault: boolean }[] };
    expect(j.simulated).toBe(true);
    expect(j.devices.some((d) => d.kind === 'render' && d.isDefault)).toBe(true);
    expect(j.devices.some((d) => d.kind === 'monitor')).toBe(true);
  });

  it('record --seconds 0.5 on the virtual backend writes a valid 0.5 s WAV', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'loopcheck-rec-'));
    const out = path.join(dir, 'x.wav');
    const r = await loopcheck(['record', '--backend', 'virtual', '--seconds', '0.5', out]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('SIMULATED');
    const wav = decodeWav(new Uint8Array(await readFile(out)));
    expect(wav.info.frames).toBe(24000);
    expect(wav.info.sampleRate).toBe(48000);
    expect(wav.warnings).toEqual([]);
  });

  it('record rejects bad arguments with exit 2 and one line', async () => {
    for (const args of [['record'], ['record', '--format', 'u8', 'x.wav'], ['record', '--seconds', 'soon', 'x.wav'], ['record', 'a.wav', 'b.wav']]) {
      const r = await loopcheck(args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
    }
  });

  it('signals generate writes the WAVs and a manifest whose sha256s match the committed set', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'loopcheck-sig-'));
    const r = await loopcheck(['signals', 'generate', '--out', dir]);
    expect(r.exitCode).toBe(0);
    const files = await readdir(dir);
    expect(files).toContain('manifest.json');
    const ours = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    const committed = JSON.parse(await readFile(path.join(import.meta.dirname, '..', '..', 'signals', 'manifest.json'), 'utf8'));
    expect(ours).toEqual(committed);
    const check = await loopcheck(['signals', 'check', '--dir', dir]);
    expect(check.exitCode).toBe(0);
  });
});

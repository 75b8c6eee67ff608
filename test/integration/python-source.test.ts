/**
 * examples/python/loopcheck_source.py: the transcriber's drop-in source. Runs the real class with python3
 * against the CLI from src/ (virtual backend for the mechanics; PulseAudio for real audio, with a tone
 * played by paplay, another program).
 */
import { execa } from 'execa';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeWav } from '../../src/wav.js';
import { ROOT } from '../support/cli.js';
import { requireCommand } from '../support/require.js';
import { probePulse, requirePulseServer } from '../native/pulse-support.js';

const havePython = requireCommand('python3', 'apt-get install -y python3');
const ENTRY = path.join(ROOT, 'test', 'support', 'cli-entry.ts');

/** Python that prints one JSON line: frame count, frame sizes, per-frame RMS and zero crossings. */
function script(backend: string, seconds: number): string {
  return `
import json, sys, array
sys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'examples', 'python'))})
from loopcheck_source import LoopcheckSource, LoopcheckError
cmd = [${JSON.stringify(process.execPath)}, "--import", "tsx", ${JSON.stringify(ENTRY)}]
out = {"frames": 0, "sizes": [], "rms": [], "crossings": 0, "samples": 0, "error": None}
try:
    with LoopcheckSource(backend=${JSON.stringify(backend)}, seconds=${seconds}, command=cmd) as src:
        prev = 0
        for frame in src:
            s = array.array("h", frame)
            out["frames"] += 1
            out["sizes"].append(len(frame))
            out["rms"].append((sum(v * v for v in s) / len(s)) ** 0.5 / 32768)
            for v in s:
                if (prev < 0) != (v < 0):
                    out["crossings"] += 1
                prev = v
            out["samples"] += len(s)
except LoopcheckError as e:
    out["error"] = {"code": e.exit_code, "message": e.message}
print(json.dumps(out))
`;
}

interface PyResult {
  frames: number;
  sizes: number[];
  rms: number[];
  crossings: number;
  samples: number;
  error: { code: number; message: string } | null;
}

async function runPython(backend: string, seconds: number, env: Record<string, string> = {}): Promise<PyResult> {
  const r = await execa('python3', ['-c', script(backend, seconds)], { cwd: ROOT, env, reject: false, timeout: 60_000 });
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as PyResult;
}

describe.runIf(havePython)('examples/python/loopcheck_source.py', () => {
  it('yields 20 ms frames of 16 kHz mono s16 (640 bytes) for the whole recording', async () => {
    const r = await runPython('virtual', 0.5);
    expect(r.error).toBeNull();
    // 0.5 s at 16 kHz = 8000 samples = 25 frames of 320 samples.
    expect(r.frames).toBe(25);
    expect(new Set(r.sizes)).toEqual(new Set([640]));
  });

  it('raises LoopcheckError with exit code 2 and the one-line message for a bad backend', async () => {
    const r = await runPython('no-such-backend', 0.5);
    expect(r.frames).toBe(0);
    expect(r.error?.code).toBe(2);
    expect(r.error?.message).toMatch(/INVALID_ARGUMENT: unknown backend/);
  });

  const probe = probePulse();
  const pulse = requirePulseServer(probe);
  const havePaplay = pulse && requireCommand('paplay', 'apt-get install -y pulseaudio-utils');
  it.runIf(pulse && havePaplay)('captures a 997 Hz tone that paplay plays on the PulseAudio sink', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'loopcheck-py-'));
    const wav = path.join(dir, 'tone.wav');
    const rate = 48000;
    const tone = new Float32Array(4 * rate);
    for (let i = 0; i < tone.length; i++) tone[i] = 0.5 * Math.sin((2 * Math.PI * 997 * i) / rate);
    await writeWav(wav, { sampleRate: rate, channels: [tone, tone] }, { format: 'pcm16' });
    const env = { PULSE_SERVER: process.env.PULSE_SERVER! };
    const player = execa('paplay', [wav], { env, reject: false });
    try {
      const r = await runPython('pulse', 2, env);
      expect(r.error).toBeNull();
      expect(r.frames).toBe(100);
      // Frames while the tone plays: RMS of a 0.5-amplitude sine is 0.354 (the mono mix of identical
      // channels keeps it). ±5 % allows the s16 source file and the edges of the playback.
      const loud = r.rms.filter((v) => Math.abs(v - 0.354) < 0.018);
      expect(loud.length).toBeGreaterThan(50);
      // Zero crossings of the whole stream: 2 per cycle of 997 Hz over the loud part (a rough frequency check:
      // within ±5 % of 997 Hz over the frames that carry the tone).
      const seconds = (loud.length * 320) / 16000;
      expect(Math.abs(r.crossings / 2 / seconds - 997) / 997).toBeLessThan(0.05);
    } finally {
      player.kill();
      await player;
    }
  });
});

/**
 * Report fixtures for the report-* tests: a passing and a failing report, optionally simulated, with a hostile
 * device name, dropouts with plot windows, a frequency response and an impulse response.
 */
import type { Dropout } from '../../src/analysis/types.js';
import type { CaseResult } from '../../src/harness/types.js';
import type { Report } from '../../src/report/types.js';

/** An XSS attempt plus quotes, ampersand and a BEL control character (forbidden in XML 1.0). */
export const HOSTILE_NAME = `<img src=x onerror=alert(1)> "Speakers" & 'Co' \u0007`;

export interface FixtureOptions {
  passed: boolean;
  simulated?: boolean;
  interrupted?: boolean;
  deviceName?: string;
}

const RATE = 48_000;

/** 20 ms of a 1 kHz sine around a dropout; the capture is zero for the 5 ms after the dropout (a `silence`). */
function dropoutWindow(atSeconds: number) {
  const n = Math.round(0.02 * RATE);
  const startSeconds = atSeconds - 0.01;
  const reference = new Float32Array(n);
  const capture = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = startSeconds + i / RATE;
    reference[i] = 0.5 * Math.sin(2 * Math.PI * 1000 * t);
    capture[i] = t >= atSeconds && t < atSeconds + 0.005 ? 0 : reference[i]!;
  }
  return { atSeconds, capture, reference, startSeconds };
}

/** Log-spaced 20 Hz – 20 kHz, 400 points, a gentle roll-off above 15 kHz (dB). */
function frequencyResponse() {
  const frequencies: number[] = [];
  const magnitudeDb: number[] = [];
  for (let i = 0; i < 400; i++) {
    const f = 20 * 1000 ** (i / 399);
    frequencies.push(f);
    magnitudeDb.push(f > 15_000 ? -((f - 15_000) / 1000) : 0.1 * Math.sin(i / 10));
  }
  return { frequencies, magnitudeDb, rippleDb: 0.1, bandHz: [20, 15_000] as [number, number] };
}

/** 8192-sample decaying impulse response (longer than the 2000-point plot budget), peak 1 at index 64. */
function impulseResponse() {
  const samples = new Float32Array(8192);
  for (let i = 64; i < samples.length; i++) samples[i] = Math.exp(-(i - 64) / 200) * Math.cos((i - 64) / 3);
  return { sampleRate: RATE, samples, preSamples: 64 };
}

export function makeReport(options: FixtureOptions): Report {
  const { passed } = options;
  const latencies = passed ? [25.716333, 25.9, 26.12345678] : [25.716333, 120.5, 26.1];
  const cases: CaseResult[] = latencies.map((ms, i) => ({
    suite: 'latency',
    name: `repeat ${i + 1}`,
    passed: ms < 100,
    metrics: { latencyMs: ms, latencySamples: (ms * RATE) / 1000, latencyConfidence: 0.97, snrDb: 71.3, captureBufferMsP99: 12.25 },
    failures: ms < 100 ? [] : [{ criterion: 'maxLatencyMs', message: `latency ${ms} ms is not below 100 ms`, measured: ms, limit: 100 }],
    durationMs: 1234.5678,
  }));
  const dropouts: Dropout[] = passed
    ? []
    : [
        { atSeconds: 1.35, durationMs: 5, kind: 'silence' },
        { atSeconds: 2.5, durationMs: 10, kind: 'gap' },
        { atSeconds: 3.75, durationMs: 0.5, kind: 'click' },
      ];
  cases.push({
    suite: 'dropouts & <glitches>',
    name: 'sine 60 s',
    passed: dropouts.length === 0,
    metrics: { dropouts, dropoutCount: dropouts.length, snrDb: Number.NaN, gainDb: Number.POSITIVE_INFINITY },
    failures: dropouts.length === 0 ? [] : [{ criterion: 'maxDropouts', message: `${dropouts.length} dropouts found, at most 0 allowed`, measured: dropouts.length, limit: 0 }],
    durationMs: 60_000,
    plots: { sampleRate: RATE, dropoutWindows: dropouts.map((d) => dropoutWindow(d.atSeconds)) },
  });
  cases.push({
    suite: 'fidelity',
    name: 'ess sweep',
    passed: true,
    metrics: { gainDb: -0.01, snrDb: 70.5, thdnDb: -80.2, driftPpm: 0.1 },
    failures: [],
    durationMs: 5000,
    analysis: {
      signalFound: true,
      sampleRate: RATE,
      channel: 0,
      latency: { samples: 1234.37, ms: 25.716, confidence: 0.97 },
      gainDb: -0.01,
      driftPpm: 0.1,
      snrDb: 70.5,
      dropouts: [],
      frequencyResponse: frequencyResponse(),
      impulseResponse: impulseResponse(),
    },
  });
  const maxLatency = Math.max(...latencies);
  return {
    tool: 'loopcheck',
    version: '0.1.0',
    passed,
    simulated: options.simulated ?? false,
    interrupted: options.interrupted ?? false,
    ...(options.interrupted ? { error: 'stopped by SIGINT <Ctrl-C>' } : {}),
    backend: options.simulated ? 'virtual' : 'pulse',
    device: { id: 'alsa_output.pci-0000_00_1f.3.analog-stereo', name: options.deviceName ?? 'Built-in Audio Analog Stereo' },
    format: { sampleRate: RATE, channels: 2, sampleFormat: 'f32', bufferMs: 20 },
    criteria: { maxLatencyMs: 100, maxDropouts: 0, minSnrDb: 60 },
    summary: {
      latencyMs: [...latencies].sort((a, b) => a - b)[1]!, // median of the 3 repeats (types.ts: latencyMs is the median)
      latencyMsMax: maxLatency,
      latencyMsMin: Math.min(...latencies),
      dropouts: dropouts.length,
      captureBufferMsP50: 8.5,
      captureBufferMsP99: 12.25,
      snrDbMin: 70.5,
    },
    cases,
    environment: { os: 'linux 6.1.0 x64', node: 'v20.19.0', hostname: 'ci-runner', impair: options.simulated ? { latencyMs: 25, dropouts: 3 } : undefined },
    startedAt: '2025-01-02T03:04:05.678Z',
    durationMs: 70_123.456789,
  } as Report;
}

/** Number of unmet criteria the failing fixture carries in its cases (latency repeat 2 and the dropouts case). */
export const FAILING_UNMET_CRITERIA = 2;

/**
 * The `virtual` backend: a simulated render → loopback device on a simulated clock, with seeded impairments
 * (impairments.ts). Exactly reproducible: the capture is a pure function of the seed, the options and the
 * sequence of play()/wait() calls with their simulated times.
 *
 * Model (all times ms on the simulated clock, which starts at 0 when the session opens):
 * - The capture clock runs `driftPpm` fast: ratio = 1 + driftPpm·1e−6, capture frame m is captured at
 *   m·1000 / (rate·ratio). Chunk k covers capture frames [k·P, (k+1)·P) (P = one device period = bufferMs);
 *   deviceTime = time of frame k·P; receivedAt = time of frame (k+1)·P plus |gaussian|·jitterMs (clamped to
 *   6σ, kept monotone); framePosition = k·P. Impairment gaps do NOT move framePosition (like PulseAudio,
 *   the loss is only visible in the signal); only our own backlog overruns do.
 * - play(x) at time T: writeTime = T and x's frame 0 lands at capture frame L = (T + latencyMs)·rate·ratio/1000
 *   (sub-sample): capture y[m] = gain · x((m − L)/ratio) (windowed-sinc, exact copy when L is an integer and
 *   driftPpm = 0). Overlapping plays add. Noise (noiseDb, dBFS RMS) is added to every chunk, idle or not.
 * - Gaps, zero-fills and clicks are placed (seeded) inside each played signal's image: away from its first and
 *   last 10 %, away from quiet stretches of the signal (1 ms envelope below −30 dB re its peak), ≥ 100 ms apart.
 * - A play registered at T contributes to chunk k iff T < end time of chunk k (a chunk whose frames were all
 *   captured before T is never changed afterwards): this keeps the result independent of when chunks are read.
 *
 * Clock driving (not realtime): wait()/play() advance the clock one period at a time, yielding to the event
 * loop (setImmediate) between steps so a consumer can drain. When nothing waits on the clock and a consumer
 * wants the next chunk, the clock advances to that chunk's receivedAt (standalone capture runs as fast as it
 * is read). With `realtime`, the clock is the process's monotonic clock and everything is paced by timers.
 */
import type { Audio } from '../audio.js';
import { LoopcheckError } from '../errors.js';
import { addClick, removeSpan, throughDevice, zeroSpan } from '../dsp/impair.js';
import { createRng, type Rng } from '../dsp/random.js';
import { HALF_TAPS } from '../dsp/sinc.js';
import { resolveImpairments, type Impairments } from './impairments.js';
import type {
  Backend,
  CaptureChunk,
  CaptureStream,
  DeviceInfo,
  LoopbackSession,
  OpenOptions,
  PlayResult,
  RenderStream,
  StreamFormat,
} from './types.js';

export const VIRTUAL_DEFAULT_DEVICE_NAME = 'loopcheck virtual device';
export const VIRTUAL_DEFAULTS = { sampleRate: 48000, channels: 2, bufferMs: 10 } as const;
/** A consumer further behind than this loses the oldest chunks (counted as overruns, framePosition jumps). */
export const DEFAULT_MAX_BACKLOG_MS = 60_000;

/** Fraction of a signal at each end where no impairment is placed. */
const EDGE_FRACTION = 0.1;
/** Minimum distance between two impairments of one play, ms (end of one to start of the next). */
const MIN_SEPARATION_MS = 100;
/** Envelope block and the level below which a block counts as quiet (dB re the signal's peak). */
const ENVELOPE_BLOCK_MS = 1;
const QUIET_DB = -30;
/** Loud signal required this far around an impairment, ms. */
const GUARD_MS = 5;
const CLICK_AMPLITUDE = 0.5;
/** Jitter is |gaussian|·jitterMs, clamped to this many σ so it is bounded. */
const JITTER_MAX_SIGMA = 6;

export interface VirtualBackendOptions {
  /** Where warnings go (e.g. an impairment that does not fit into a short signal). */
  log?: ((line: string) => void) | undefined;
  maxBacklogMs?: number | undefined;
}

/** Ground truth of one placed impairment, for tests and the harness. */
export interface PlacedImpairment {
  /** Index of the play() call in this session, from 0. */
  play: number;
  kind: 'gap' | 'silence' | 'click';
  /** Capture-stream frame where it is (a gap: where the audio after it now starts). */
  atFrame: number;
  /** Frames lost (gap), zeroed (silence) or 1 (click). */
  frames: number;
  /** Frame of the played signal where it starts. */
  signalFrame: number;
  /** Click amplitude (±0.5); 0 for gaps and zero-fills. */
  amplitude: number;
}

/** Ground truth of one play() call. */
export interface PlayInfo {
  index: number;
  writeTime: number;
  /** Capture frame (fractional) where the signal's frame 0 lands. */
  startFrame: number;
  frames: number;
}

// ---------------------------------------------------------------------------------------------- clocks

interface Clock {
  now(): number;
  /** Resolves once the clock reached `targetMs` (drives the simulated clock). */
  until(targetMs: number): Promise<void>;
  /** Consumer side: resolves when the clock moved (sim) or when `targetMs` is reached (realtime), or on `wake`. */
  waitForTime(targetMs: number, wake: Wake): Promise<void>;
}

/**
 * A one-shot signal (the capture was stopped) that waits can subscribe to and leave. Not a long-lived promise
 * raced against each wait: every Promise.race on a pending promise leaves a reaction behind until it settles
 * (~313 B per chunk, +110 MB in an hour of soak).
 */
class Wake {
  private fired = false;
  private readonly listeners = new Set<() => void>();

  /** Calls fn once on fire() (at once if fired already); returns the unsubscribe. */
  on(fn: () => void): () => void {
    if (this.fired) {
      fn();
      return () => {};
    }
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  fire(): void {
    if (this.fired) return;
    this.fired = true;
    for (const fn of this.listeners) fn();
    this.listeners.clear();
  }
}

/** Resolves with the first of `start(resolve)` or `wake`, then leaves `wake`. */
function untilOrWake(wake: Wake, start: (resolve: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const off = wake.on(resolve);
    start(() => {
      off();
      resolve();
    });
  });
}

const nextMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class SimulatedClock implements Clock {
  private t = 0;
  private waiters: { target: number; resolve: () => void }[] = [];
  private listeners: (() => void)[] = [];
  private pumping = false;

  constructor(private readonly stepMs: number) {}

  now(): number {
    return this.t;
  }

  until(targetMs: number): Promise<void> {
    if (targetMs <= this.t) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ target: targetMs, resolve });
      if (!this.pumping) void this.pump();
    });
  }

  waitForTime(targetMs: number, wake: Wake): Promise<void> {
    return untilOrWake(wake, (resolve) => {
      this.listeners.push(resolve);
      // Nobody drives the clock and the consumer wants data: let time pass up to the chunk it needs.
      // After a macrotask, so a driver continuing in a microtask (await wait(); play()) is seen first.
      setImmediate(() => {
        if (this.waiters.length === 0 && targetMs > this.t) this.advanceTo(targetMs);
      });
    });
  }

  private advanceTo(t: number): void {
    this.t = t;
    const ls = this.listeners;
    this.listeners = [];
    for (const l of ls) l();
  }

  /** One period per step; stops exactly on every waiter's target; yields between steps. */
  private async pump(): Promise<void> {
    this.pumping = true;
    // Yield first so that drivers started in the same tick (Promise.all of play and wait) start together.
    await nextMacrotask();
    while (this.waiters.length > 0) {
      let minTarget = Infinity;
      for (const w of this.waiters) minTarget = Math.min(minTarget, w.target);
      this.advanceTo(Math.min(this.t + this.stepMs, minTarget));
      const due = this.waiters.filter((w) => w.target <= this.t);
      this.waiters = this.waiters.filter((w) => w.target > this.t);
      for (const w of due) w.resolve();
      await nextMacrotask();
    }
    this.pumping = false;
  }
}

class RealtimeClock implements Clock {
  private readonly origin = performance.now();

  now(): number {
    return performance.now() - this.origin;
  }

  until(targetMs: number): Promise<void> {
    const ms = targetMs - this.now();
    return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, Math.ceil(ms)));
  }

  waitForTime(targetMs: number, wake: Wake): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    return untilOrWake(wake, (resolve) => {
      timer = setTimeout(resolve, Math.max(0, Math.ceil(targetMs - this.now())));
    }).finally(() => clearTimeout(timer));
  }
}

// ---------------------------------------------------------------------------------------------- helpers

/** Combines seed parts into one 32-bit seed (FNV-1a style with an avalanche step). */
function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
  }
  return h >>> 0;
}
const STREAM_NOISE = 0x6e6f6973;
const STREAM_JITTER = 0x6a697472;
const STREAM_PLACE = 0x706c6163;

function invalid(message: string, hint: string): LoopcheckError {
  return new LoopcheckError('INVALID_ARGUMENT', message, { hint });
}

interface DeviceFormat {
  sampleRate: number;
  channels: number;
  periodFrames: number;
  bufferMs: number;
}

function resolveFormat(options: OpenOptions): DeviceFormat {
  const sampleRate = options.sampleRate ?? VIRTUAL_DEFAULTS.sampleRate;
  if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 384000) {
    throw invalid(`sample rate must be an integer 8000…384000 Hz, got ${sampleRate}`, 'pass e.g. --rate 48000');
  }
  const channels = options.channels ?? VIRTUAL_DEFAULTS.channels;
  if (!Number.isInteger(channels) || channels < 1 || channels > 32) {
    throw invalid(`channels must be an integer 1…32, got ${channels}`, 'pass e.g. --channels 2');
  }
  const requestedMs = options.bufferMs ?? VIRTUAL_DEFAULTS.bufferMs;
  if (typeof requestedMs !== 'number' || !Number.isFinite(requestedMs) || requestedMs <= 0 || requestedMs > 2000) {
    throw invalid(`bufferMs must be a number 0 < bufferMs ≤ 2000, got ${requestedMs}`, 'pass e.g. --buffer-ms 10');
  }
  const periodFrames = Math.max(1, Math.round((requestedMs * sampleRate) / 1000));
  return { sampleRate, channels, periodFrames, bufferMs: (periodFrames / sampleRate) * 1000 };
}

function deviceIdentity(device: string | undefined): { id: string; name: string } {
  let name = typeof device === 'string' ? device.trim() : '';
  if (name.startsWith('virtual:')) name = name.slice('virtual:'.length);
  if (name.endsWith('.monitor')) name = name.slice(0, -'.monitor'.length); // the monitor opens its render device
  if (name === '') name = VIRTUAL_DEFAULT_DEVICE_NAME;
  return { id: `virtual:${name}`, name };
}

/**
 * Picks `count` start frames in the signal for spans of `spanFrames`: inside [10 %, 90 %] of the signal, on
 * loud stretches (every 1 ms envelope block within GUARD_MS of the span ≥ −30 dB re the peak), start-to-start
 * ≥ 100 ms + span apart. Seeded random tries, then a deterministic scan; returns fewer when they do not fit.
 */
function choosePositions(channels: Float32Array[], sampleRate: number, count: number, spanFrames: number, rng: Rng): number[] {
  const len = channels[0]!.length;
  if (count === 0 || len === 0) return [];
  const block = Math.max(1, Math.round((ENVELOPE_BLOCK_MS * sampleRate) / 1000));
  const blocks = Math.ceil(len / block);
  const env = new Float64Array(blocks);
  let peak = 0;
  for (const ch of channels) {
    for (let i = 0; i < len; i++) {
      const a = Math.abs(ch[i]!);
      const b = (i / block) | 0;
      if (a > env[b]!) env[b] = a;
      if (a > peak) peak = a;
    }
  }
  if (peak === 0) return [];
  const threshold = peak * 10 ** (QUIET_DB / 20);
  // quietBefore[b] = number of quiet blocks in [0, b).
  const quietBefore = new Int32Array(blocks + 1);
  for (let b = 0; b < blocks; b++) quietBefore[b + 1] = quietBefore[b]! + (env[b]! < threshold ? 1 : 0);
  const guard = Math.round((GUARD_MS * sampleRate) / 1000);
  const lo = Math.max(Math.ceil(EDGE_FRACTION * len), guard);
  const hi = Math.min(Math.floor((1 - EDGE_FRACTION) * len) - spanFrames, len - spanFrames - guard);
  if (hi < lo) return [];
  const separation = Math.round((MIN_SEPARATION_MS * sampleRate) / 1000) + spanFrames;
  const loud = (p: number): boolean => {
    const b0 = Math.floor((p - guard) / block);
    const b1 = Math.ceil((p + spanFrames + guard) / block);
    return quietBefore[Math.min(blocks, b1)]! - quietBefore[Math.max(0, b0)]! === 0;
  };
  const chosen: number[] = [];
  const fits = (p: number): boolean => loud(p) && chosen.every((q) => Math.abs(p - q) >= separation);
  for (let i = 0; i < count; i++) {
    let found = -1;
    for (let attempt = 0; attempt < 200 && found < 0; attempt++) {
      const p = rng.int(lo, hi + 1);
      if (fits(p)) found = p;
    }
    for (let p = lo; p <= hi && found < 0; p += block) if (fits(p)) found = p;
    if (found < 0) break;
    chosen.push(found);
  }
  return chosen;
}

// ---------------------------------------------------------------------------------------------- plays

interface ActivePlay {
  info: PlayInfo;
  /** First capture frame of the image (integer). */
  start: number;
  /** Per device channel (channels sharing a source share the array). */
  images: Float32Array[];
  end: number;
}

// ---------------------------------------------------------------------------------------------- streams

class VirtualCaptureStream implements CaptureStream {
  readonly format: StreamFormat;
  readonly bufferMs: number;
  private nextChunk = 0;
  private jitterIndex = -1;
  private jitterReceivedAt = -Infinity;
  private readonly jitterRng: Rng;
  private stoppedAt: number | null = null;
  private iterating = false;
  private readonly stopped = new Wake();
  private chain: Promise<unknown> = Promise.resolve();
  private pendingOverruns = 0;

  constructor(
    private readonly session: VirtualSession,
    private readonly clock: Clock,
    private readonly dev: DeviceFormat,
    private readonly imp: Impairments,
    private readonly maxBacklogMs: number,
  ) {
    this.format = { sampleRate: dev.sampleRate, channels: dev.channels, sampleFormat: 'f32' };
    this.bufferMs = dev.bufferMs;
    this.jitterRng = createRng(mixSeed(imp.seed, STREAM_JITTER));
  }

  private get framesPerMs(): number {
    return (this.dev.sampleRate * (1 + this.imp.driftPpm * 1e-6)) / 1000;
  }

  /** Simulated time at which capture frame m is captured, ms. */
  frameTime(m: number): number {
    return m / this.framesPerMs;
  }

  /** receivedAt of chunk k; k must not go below an index already asked for (jitter is drawn in order). */
  private receivedAtOf(k: number): number {
    while (this.jitterIndex < k) {
      this.jitterIndex++;
      const end = this.frameTime((this.jitterIndex + 1) * this.dev.periodFrames);
      let jitter = 0;
      if (this.imp.jitterMs > 0) jitter = Math.min(JITTER_MAX_SIGMA, Math.abs(this.jitterRng.gaussian())) * this.imp.jitterMs;
      this.jitterReceivedAt = Math.max(this.jitterReceivedAt, end + jitter);
    }
    return this.jitterReceivedAt;
  }

  /** Drops chunks older than the backlog limit (a consumer that stopped reading), counting overruns. */
  private applyBacklog(limit: number): void {
    const oldest = limit - this.maxBacklogMs;
    if (this.frameTime(this.nextChunk * this.dev.periodFrames) >= oldest) return;
    const skipTo = Math.ceil((oldest * this.framesPerMs) / this.dev.periodFrames);
    if (skipTo <= this.nextChunk) return;
    this.pendingOverruns += skipTo - this.nextChunk;
    this.nextChunk = skipTo;
    this.session.prune(this.nextChunk * this.dev.periodFrames);
  }

  private async pull(): Promise<IteratorResult<CaptureChunk>> {
    for (;;) {
      const limit = this.stoppedAt ?? this.clock.now();
      this.applyBacklog(limit);
      const at = this.receivedAtOf(this.nextChunk);
      if (at <= limit) return { done: false, value: this.makeChunk(this.nextChunk++, at) };
      if (this.stoppedAt !== null) return { done: true, value: undefined };
      await this.clock.waitForTime(at, this.stopped);
    }
  }

  private makeChunk(k: number, receivedAt: number): CaptureChunk {
    const { periodFrames: p, channels: nch, sampleRate } = this.dev;
    const samples = new Float32Array(p * nch);
    if (this.imp.noiseDb !== -Infinity) {
      // Gaussian noise at noiseDb dBFS RMS, one seeded stream per chunk so any chunk is reproducible alone.
      const sigma = 10 ** (this.imp.noiseDb / 20);
      const rng = createRng(mixSeed(this.imp.seed, STREAM_NOISE, k));
      for (let i = 0; i < samples.length; i++) samples[i] = sigma * rng.gaussian();
    }
    const first = k * p;
    const endTime = this.frameTime(first + p);
    this.session.mixInto(samples, first, p, endTime);
    const overruns = this.pendingOverruns;
    this.pendingOverruns = 0;
    this.session.prune(first + p);
    return {
      samples,
      frames: p,
      channels: nch,
      sampleRate,
      framePosition: first,
      deviceTime: this.frameTime(first),
      receivedAt,
      flags: { discontinuity: overruns > 0, silent: false, timestampError: false },
      overruns,
    };
  }

  [Symbol.asyncIterator](): AsyncIterator<CaptureChunk> {
    if (this.iterating) {
      throw new LoopcheckError('INVALID_ARGUMENT', 'this capture stream is already being iterated', {
        hint: 'iterate a capture stream once (use .readable() or for await, not both)',
      });
    }
    this.iterating = true;
    return {
      // Serialised: a second next() before the first settles waits for it.
      next: () => {
        const result = this.chain.then(() => this.pull());
        this.chain = result.catch(() => undefined);
        return result;
      },
      return: async () => {
        await this.stop();
        return { done: true, value: undefined };
      },
    };
  }

  stop(): Promise<void> {
    if (this.stoppedAt === null) {
      this.stoppedAt = this.clock.now();
      this.stopped.fire();
    }
    return Promise.resolve();
  }
}

class VirtualRenderStream implements RenderStream {
  readonly format: StreamFormat;
  readonly bufferMs: number;
  closed = false;

  constructor(
    private readonly session: VirtualSession,
    dev: DeviceFormat,
  ) {
    this.format = { sampleRate: dev.sampleRate, channels: dev.channels, sampleFormat: 'f32' };
    this.bufferMs = dev.bufferMs;
  }

  play(signal: Audio): Promise<PlayResult> {
    return this.session.play(signal);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

export class VirtualSession implements LoopbackSession {
  readonly backend = 'virtual' as const;
  readonly simulated = true;
  readonly device: { id: string; name: string };
  readonly capture: VirtualCaptureStream;
  readonly render: VirtualRenderStream;
  readonly impairments: Readonly<Impairments>;
  private readonly clock: Clock;
  private readonly dev: DeviceFormat;
  private active: ActivePlay[] = [];
  private readonly playLog: PlayInfo[] = [];
  private readonly placed: PlacedImpairment[] = [];
  private closed = false;

  constructor(options: OpenOptions, private readonly backendOptions: VirtualBackendOptions = {}) {
    this.dev = resolveFormat(options);
    this.impairments = resolveImpairments(options.impair);
    this.device = deviceIdentity(options.device);
    this.clock = options.realtime ? new RealtimeClock() : new SimulatedClock(this.dev.bufferMs);
    const backlog = backendOptions.maxBacklogMs ?? DEFAULT_MAX_BACKLOG_MS;
    this.capture = new VirtualCaptureStream(this, this.clock, this.dev, this.impairments, backlog);
    this.render = new VirtualRenderStream(this, this.dev);
  }

  now(): number {
    return this.clock.now();
  }

  wait(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !(ms >= 0) || !Number.isFinite(ms)) {
      return Promise.reject(invalid(`wait needs a finite number of ms ≥ 0, got ${ms}`, 'pass e.g. 100'));
    }
    return this.clock.until(this.clock.now() + ms);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.capture.stop();
    await this.render.close();
  }

  /** Every play() so far (ground truth for tests and the harness). */
  plays(): PlayInfo[] {
    return this.playLog.map((p) => ({ ...p }));
  }

  /** Every impairment placed so far, in capture frames (ground truth for tests and the harness). */
  placements(): PlacedImpairment[] {
    return this.placed.map((p) => ({ ...p }));
  }

  async play(signal: Audio): Promise<PlayResult> {
    if (this.closed || this.render.closed) {
      throw new LoopcheckError('INVALID_ARGUMENT', 'the render stream is closed', { hint: 'open a new session to play again' });
    }
    this.checkSignal(signal);
    const writeTime = this.clock.now();
    const frames = signal.channels[0]!.length;
    if (frames > 0) this.register(signal, writeTime);
    await this.clock.until(writeTime + (frames / this.dev.sampleRate) * 1000);
    return { writeTime, framesWritten: frames, underruns: 0 };
  }

  private checkSignal(signal: Audio): void {
    if (!signal || !Array.isArray(signal.channels) || signal.channels.length === 0) {
      throw invalid('play needs an Audio with at least one channel', 'pass { sampleRate, channels: [Float32Array] }');
    }
    if (signal.sampleRate !== this.dev.sampleRate) {
      throw new LoopcheckError(
        'FORMAT_UNSUPPORTED',
        `the signal is ${signal.sampleRate} Hz but the device runs at ${this.dev.sampleRate} Hz`,
        { hint: `generate the signal at ${this.dev.sampleRate} Hz or open the device with that sample rate` },
      );
    }
    const n = signal.channels[0]!.length;
    for (const ch of signal.channels) {
      if (!(ch instanceof Float32Array) || ch.length !== n) {
        throw invalid('every channel of the signal must be a Float32Array of the same length', 'pass planar float32 audio');
      }
    }
  }

  /** Builds the signal's image in the capture (delay, drift, gain, placed impairments) and starts mixing it. */
  private register(signal: Audio, writeTime: number): void {
    const imp = this.impairments;
    const rate = this.dev.sampleRate;
    const ratio = 1 + imp.driftPpm * 1e-6;
    const index = this.playLog.length;
    // Capture frame of the signal's frame 0: capture frames per simulated ms = rate·ratio/1000.
    const startFrame = ((writeTime + imp.latencyMs) * rate * ratio) / 1000;
    const start = Math.floor(startFrame) - HALF_TAPS; // keep the interpolator's pre-ringing
    const latencySamples = startFrame - start;

    const spanFrames = Math.max(1, Math.round((imp.dropoutMs * rate) / 1000));
    const kinds: PlacedImpairment['kind'][] = [
      ...Array<PlacedImpairment['kind']>(imp.dropouts).fill('gap'),
      ...Array<PlacedImpairment['kind']>(imp.zeroFills).fill('silence'),
      ...Array<PlacedImpairment['kind']>(imp.clicks).fill('click'),
    ];
    const rng = createRng(mixSeed(imp.seed, STREAM_PLACE, index));
    for (let i = kinds.length - 1; i > 0; i--) {
      const j = rng.int(0, i + 1);
      [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
    }
    const positions = choosePositions(signal.channels, rate, kinds.length, Math.ceil(spanFrames / ratio), rng);
    if (positions.length < kinds.length) {
      this.backendOptions.log?.(
        `virtual: placed ${positions.length} of ${kinds.length} impairments in play ${index} ` +
          `(${(signal.channels[0]!.length / rate).toFixed(3)} s signal; each needs ${MIN_SEPARATION_MS} ms of loud signal around it)`,
      );
    }
    const spans = positions.map((p, i) => {
      const kind = kinds[i]!;
      const amplitude = kind === 'click' ? (rng.next() < 0.5 ? -CLICK_AMPLITUDE : CLICK_AMPLITUDE) : 0;
      return { kind, signalFrame: p, imageAt: Math.round(latencySamples + p * ratio), amplitude };
    });
    spans.sort((a, b) => a.imageAt - b.imageAt);

    // One image per distinct source channel; device channel c plays source channel c mod source count.
    const bySource = new Map<number, Float32Array>();
    const imageOf = (source: Float32Array): Float32Array => {
      let y = throughDevice(source, { latencySamples, driftPpm: imp.driftPpm, gainDb: imp.gainDb });
      for (const s of spans) {
        if (s.kind === 'silence') y = zeroSpan(y, s.imageAt, spanFrames);
        else if (s.kind === 'click') y = addClick(y, s.imageAt, s.amplitude);
      }
      for (let i = spans.length - 1; i >= 0; i--) if (spans[i]!.kind === 'gap') y = removeSpan(y, spans[i]!.imageAt, spanFrames);
      return y;
    };
    const images: Float32Array[] = [];
    for (let c = 0; c < this.dev.channels; c++) {
      const s = c % signal.channels.length;
      if (!bySource.has(s)) bySource.set(s, imageOf(signal.channels[s]!));
      images.push(bySource.get(s)!);
    }

    let gapsBefore = 0;
    for (const s of spans) {
      this.placed.push({
        play: index,
        kind: s.kind,
        atFrame: start + s.imageAt - gapsBefore * spanFrames,
        frames: s.kind === 'click' ? 1 : spanFrames,
        signalFrame: s.signalFrame,
        amplitude: s.amplitude,
      });
      if (s.kind === 'gap') gapsBefore++;
    }
    const info: PlayInfo = { index, writeTime, startFrame, frames: signal.channels[0]!.length };
    this.playLog.push(info);
    this.active.push({ info, start, images, end: start + images[0]!.length });
  }

  /** Adds every play that overlaps capture frames [first, first + frames) and started before `endTime`. */
  mixInto(samples: Float32Array, first: number, frames: number, endTime: number): void {
    const nch = this.dev.channels;
    for (const play of this.active) {
      if (play.info.writeTime >= endTime) continue;
      const from = Math.max(first, play.start);
      const to = Math.min(first + frames, play.end);
      for (let c = 0; c < nch; c++) {
        const img = play.images[c]!;
        for (let m = from; m < to; m++) samples[(m - first) * nch + c]! += img[m - play.start]!;
      }
    }
  }

  /** Forgets plays whose image ends before capture frame `frame` (already delivered or dropped). */
  prune(frame: number): void {
    if (this.active.some((p) => p.end <= frame)) this.active = this.active.filter((p) => p.end > frame);
  }
}

export class VirtualBackend implements Backend {
  readonly name = 'virtual' as const;
  readonly simulated = true;

  constructor(private readonly options: VirtualBackendOptions = {}) {}

  listDevices(): Promise<DeviceInfo[]> {
    const { id, name } = deviceIdentity(undefined);
    const format = { sampleRate: VIRTUAL_DEFAULTS.sampleRate, channels: VIRTUAL_DEFAULTS.channels };
    return Promise.resolve([
      { id, name, kind: 'render', isDefault: true, ...format },
      { id: `${id}.monitor`, name: `Monitor of ${name}`, kind: 'monitor', isDefault: true, ...format },
    ]);
  }

  openLoopback(options: OpenOptions = {}): Promise<LoopbackSession> {
    try {
      return Promise.resolve(new VirtualSession(options, this.options));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /** Same as openLoopback, typed as the virtual session (for tests and the harness's ground truth). */
  openVirtual(options: OpenOptions = {}): Promise<VirtualSession> {
    try {
      return Promise.resolve(new VirtualSession(options, this.options));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }
}

export function createVirtualBackend(options: VirtualBackendOptions = {}): VirtualBackend {
  return new VirtualBackend(options);
}

/**
 * The `wasapi` backend (Windows; verified under Wine 10): render + loopback capture through the native addon's
 * WasapiSession (native/win). The capture client runs in shared mode with AUDCLNT_STREAMFLAGS_LOOPBACK on a
 * render endpoint; while it runs the addon keeps a render stream on the same endpoint (silence unless playing),
 * because Windows delivers no loopback packets when nothing renders.
 *
 * Clock: every time here is ms on the addon's monotonic clock (`nativeNowMs()`); the addon maps the packets'
 * QPC positions onto it (deviceTime = now − (QPC now − QPC position of the packet's first frame)).
 * The streams themselves are shared with pulse (src/backends/native-stream.ts).
 *
 * Beyond loopback (`--device` of a render endpoint, default): plain capture of a capture endpoint (`--device` of a
 * microphone), process loopback of one process tree (`process`, Windows 10 2004+), exclusive mode (`exclusive`)
 * and IAudioClient3 minimum periods (`minPeriod`) for render/capture endpoints — never for loopback —, and
 * `reopen`: a capture whose endpoint goes away (AUDCLNT_E_DEVICE_INVALIDATED) continues on the new default
 * endpoint, its next chunk flagged as a discontinuity, instead of ending with DEVICE_LOST.
 */
import { LoopcheckError } from '../errors.js';
import {
  callNative,
  native,
  toLoopcheckError,
  type NativeBinding,
  type NativeChunkCallback,
  type NativeDeviceEventCallback,
  type NativePlayResult,
} from '../native.js';
import { openNativeLoopback, watchNativeDevices } from './native-stream.js';
import type { Backend, DeviceEvent, DeviceInfo, DeviceWatch, LoopbackSession, OpenOptions } from './types.js';

/** First loopback packet: 12–30 ms after Start under Wine with a live render stream; allow 3 s like pulse. */
export const FIRST_DATA_TIMEOUT_MS = 3000;
/**
 * 50 ms render queue. Latency is per frame (every frame waits behind the queue), so 100 ms would put verify at
 * the 100 ms criterion (101 ms median measured under Wine); 20 ms underran under CPU load (wine-wasapi.md
 * pitfall 4). Bit-exact tests that must survive load ask for 100 ms themselves.
 */
const DEFAULT_BUFFER_MS = 50;

/** IMMDevice::GetState values. */
export const WASAPI_DEVICE_STATE = { active: 1, disabled: 2, notPresent: 4, unplugged: 8 } as const;

/** An endpoint as native/win/wasapi_binding.cc lists it. */
export interface NativeWasapiDevice {
  id: string;
  name: string;
  kind: 'render' | 'capture';
  isDefault: boolean;
  /** DEVICE_STATE_* (WASAPI_DEVICE_STATE). */
  state: number;
  /** Mix format (0 for endpoints that are not active). */
  sampleRate: number;
  channels: number;
  related: string;
}

/** What a WASAPI stream was granted. */
export interface NativeWasapiStreamInfo {
  device: string;
  name: string;
  sampleRate: number;
  channels: number;
  /** Capture: IAudioClient buffer; render: the queue target. */
  bufferMs: number;
  periodMs: number;
  /** false: the polling fallback (asked for, or EVENTCALLBACK refused). */
  eventDriven: boolean;
  /** AUTOCONVERTPCM was needed: the format differs from the mix format (not bit-exact). */
  converted: boolean;
  exclusive: boolean;
  /** IAudioClient3::InitializeSharedAudioStream at the engine's minimum period. */
  minPeriod: boolean;
  mode: 'render' | 'loopback' | 'capture' | 'process';
  /** What the client delivers or takes before conversion: f32, s16, s24, s32. */
  sampleFormat: string;
}

/** Packet counters (native/win/packet.h PacketStats) and render counters. */
export interface NativeWasapiStats {
  packets: number;
  capturedFrames: number;
  discontinuities: number;
  silentPackets: number;
  timestampErrors: number;
  gaps: number;
  gapFrames: number;
  overlaps: number;
  droppedFrames: number;
  renderFrames: number;
  renderEmptyPolls: number;
  wakeups: number;
  /** Captures re-opened on a new default endpoint (reopen). */
  reopens: number;
}

export interface NativeWasapiStreamOptions {
  device?: string;
  sampleRate: number;
  channels: number;
  bufferMs: number;
  polling?: boolean;
  exclusive?: boolean;
  minPeriod?: boolean;
  /** IAudioClient3 engine period, ms (render/capture endpoints, never loopback; excludes exclusive/minPeriod). */
  periodMs?: number;
  /** Capture only: loopback of a render endpoint (default), plain capture of a capture endpoint, one process tree. */
  mode?: 'loopback' | 'capture' | 'process';
  processId?: number;
  reopen?: boolean;
}

/** native/win/wasapi_binding.cc: one device thread (COM MTA), at most one loopback capture and one render stream. */
export interface NativeWasapiSession {
  listDevices(): NativeWasapiDevice[];
  /** "WASAPI", plus " (Wine 10.0)" under Wine. */
  libraryVersion(): string;
  openCapture(options: NativeWasapiStreamOptions, onChunk: NativeChunkCallback): NativeWasapiStreamInfo;
  stopCapture(): void;
  openPlayback(options: NativeWasapiStreamOptions): NativeWasapiStreamInfo;
  play(interleaved: Float32Array): Promise<NativePlayResult>;
  closePlayback(): void;
  stats(): NativeWasapiStats;
  close(): void;
}

/** native/win/wasapi_binding.cc: its own device thread with an IMMNotificationClient registered. */
export interface NativeWasapiDeviceWatch {
  /** Unregisters and joins the device thread; no callback runs afterwards. Idempotent. */
  close(): void;
}

type WasapiBinding = NativeBinding & {
  WasapiSession?: new (options?: { timeoutMs?: number }) => NativeWasapiSession;
  WasapiDeviceWatch?: new (options: object, onEvent: NativeDeviceEventCallback) => NativeWasapiDeviceWatch;
};

/** OpenOptions plus what only WASAPI has (the CLI's --min-period, --process, --reopen). */
export interface WasapiOpenOptions extends OpenOptions {
  /** Shared mode at IAudioClient3's minimum period (render/capture endpoints only). */
  minPeriod?: boolean | undefined;
  /** Process loopback: capture this process and its children (Windows 10 2004+). */
  process?: number | undefined;
  /** On AUDCLNT_E_DEVICE_INVALIDATED, continue on the new default endpoint instead of DEVICE_LOST. */
  reopen?: boolean | undefined;
}

function binding(): WasapiBinding {
  const b = native() as WasapiBinding;
  if (!b.WasapiSession) {
    const info = b.backendInfo();
    throw new LoopcheckError('BACKEND_UNAVAILABLE', `this loopcheck addon has no WASAPI backend (native backend: ${info.name})`, {
      hint: 'the wasapi backend exists on Windows only (npm run build:win cross-builds it); use --backend virtual',
    });
  }
  return b;
}

function openSession(): NativeWasapiSession {
  const Session = binding().WasapiSession!;
  return callNative(() => new Session({ timeoutMs: FIRST_DATA_TIMEOUT_MS }));
}

/** Active endpoints only (disabled / unplugged ones cannot be opened). */
export async function listWasapiDevices(): Promise<DeviceInfo[]> {
  const session = openSession();
  try {
    return callNative(() => session.listDevices())
      .filter((d) => d.state === WASAPI_DEVICE_STATE.active)
      .map((d) => ({ id: d.id, name: d.name, kind: d.kind, isDefault: d.isDefault, sampleRate: d.sampleRate, channels: d.channels }));
  } finally {
    session.close();
  }
}

/** The flags that cannot apply to a loopback (its capture is the shared mix of a render endpoint). */
function rejectLoopbackFlags(options: WasapiOpenOptions, what: string): void {
  const flag = options.exclusive ? '--exclusive' : options.minPeriod ? '--min-period' : undefined;
  if (!flag) return;
  throw new LoopcheckError(
    'FORMAT_UNSUPPORTED',
    `${what} is shared mode only: ${flag} applies to render and capture endpoints, never to loopback`,
    { hint: `drop ${flag}, or pass --device with the id of a capture endpoint (loopcheck devices --backend wasapi)` },
  );
}

/**
 * Opens a session: loopback of a render endpoint (default), plain capture of a capture endpoint (`device` names
 * one), or process loopback (`process`). Capture-endpoint and process sessions render to the default render
 * endpoint, opened on the first play().
 */
export async function openWasapiLoopback(options: WasapiOpenOptions): Promise<LoopbackSession> {
  if (options.process !== undefined) {
    rejectLoopbackFlags(options, 'process loopback');
    if (options.device !== undefined) {
      throw new LoopcheckError('INVALID_ARGUMENT', '--process and --device exclude each other', {
        hint: 'process loopback captures one process tree whatever endpoint it plays to: drop --device',
      });
    }
    if (options.reopen) {
      throw new LoopcheckError('INVALID_ARGUMENT', '--reopen does not apply to process loopback (its virtual endpoint never goes away)', { hint: 'drop --reopen' });
    }
  }
  const b = binding();
  const session = openSession();
  try {
    const active = callNative(() => session.listDevices()).filter((d) => d.state === WASAPI_DEVICE_STATE.active);
    const renders = active.filter((d) => d.kind === 'render');
    const defaultRender = renders.find((d) => d.isDefault);
    const named = options.device === undefined ? undefined : active.find((d) => d.id === options.device || d.name === options.device);
    const endpoint = options.process !== undefined ? defaultRender : options.device === undefined ? defaultRender : named;
    if (!endpoint) {
      throw new LoopcheckError(
        'DEVICE_NOT_FOUND',
        options.device === undefined ? 'there is no active default render endpoint' : `no active endpoint "${options.device}"`,
        { hint: `endpoints: ${active.map((d) => `${d.kind} ${d.name} (${d.id})`).join(', ') || '(none)'}` },
      );
    }
    const mode = options.process !== undefined ? 'process' : endpoint.kind === 'capture' ? 'capture' : 'loopback';
    if (mode === 'loopback') rejectLoopbackFlags(options, 'loopback capture');
    const modeFlags = { ...(options.exclusive ? { exclusive: true } : {}), ...(options.minPeriod ? { minPeriod: true } : {}) };
    // Exclusive / minimum-period streams take the endpoint's own format by default (no conversion there).
    const nativeFormat = mode === 'capture' && (options.exclusive || options.minPeriod);
    const format: NativeWasapiStreamOptions = {
      sampleRate: options.sampleRate ?? (endpoint.sampleRate || 48000),
      channels: options.channels ?? (nativeFormat && endpoint.channels ? endpoint.channels : 2),
      bufferMs: options.bufferMs ?? DEFAULT_BUFFER_MS,
    };
    const captureOptions: NativeWasapiStreamOptions = {
      ...format,
      bufferMs: Math.min(format.bufferMs, 20),
      mode,
      ...(mode === 'loopback' ? { device: endpoint.id } : {}),
      ...(mode === 'capture' ? { device: endpoint.id, ...modeFlags } : {}),
      ...(mode === 'process' ? { processId: options.process } : {}),
      ...(options.reopen ? { reopen: true } : {}),
    };
    // Loopback: render on the captured endpoint. Otherwise: the default render endpoint (the engine's default),
    // in the session's share mode.
    const renderPeriod = options.renderPeriodMs !== undefined && !options.exclusive && !options.minPeriod ? { periodMs: options.renderPeriodMs } : {};
    const renderOptions: NativeWasapiStreamOptions =
      mode === 'loopback' ? { ...format, device: endpoint.id, ...renderPeriod } : { ...format, ...modeFlags, ...renderPeriod };
    const source = mode === 'process' ? `process ${options.process}` : `"${endpoint.name}"`;
    // Capture first and wait for its first packet, then open the render stream (wine-wasapi.md pitfall 3).
    return await openNativeLoopback({
      backend: 'wasapi',
      binding: b,
      session,
      device: mode === 'process' ? { id: `process:${options.process}`, name: `process ${options.process} (and its children)` } : { id: endpoint.id, name: endpoint.name },
      captureOptions,
      renderOptions,
      lazyRender: mode !== 'loopback',
      firstData: {
        timeoutMs: FIRST_DATA_TIMEOUT_MS,
        message: (ms) => `no ${mode === 'loopback' ? 'loopback packets' : 'capture packets'} from ${source} within ${ms} ms`,
        hint: 'check that the endpoint is active (loopcheck devices); under Wine, that PulseAudio is reachable',
      },
    });
  } catch (e) {
    session.close();
    throw toLoopcheckError(e);
  }
}

/**
 * Hot-plug through IMMNotificationClient: endpoints added / removed (a state change to or from ACTIVE counts) and
 * default-changed (console role). Events carry `time` on the addon's monotonic clock (ms). Under Wine only
 * default changes arrive (its endpoint list is frozen per process).
 */
export function watchWasapiDevices(onEvent: (event: DeviceEvent) => void, _onError?: (error: Error) => void): DeviceWatch {
  const b = binding();
  if (!b.WasapiDeviceWatch) {
    throw new LoopcheckError('BACKEND_UNAVAILABLE', 'this loopcheck addon cannot watch WASAPI devices', { hint: 'rebuild the addon (npm run build:win)' });
  }
  const Watch = b.WasapiDeviceWatch;
  // COM notifications do not fail once registered: unlike pulse there is no connection to lose (no onLost).
  return watchNativeDevices((onNative) => new Watch({}, onNative), onEvent);
}

/** The `wasapi` backend: Windows (or Wine ≥ 9.12). */
export function createWasapiBackend(): Backend {
  return { name: 'wasapi', simulated: false, listDevices: listWasapiDevices, openLoopback: openWasapiLoopback, watchDevices: watchWasapiDevices };
}

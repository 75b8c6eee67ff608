/**
 * The `wasapi` backend (Windows; verified under Wine 10): render + loopback capture through the native addon's
 * WasapiSession (native/win). The capture client runs in shared mode with AUDCLNT_STREAMFLAGS_LOOPBACK on a
 * render endpoint; while it runs the addon keeps a render stream on the same endpoint (silence unless playing),
 * because Windows delivers no loopback packets when nothing renders.
 *
 * Clock: every time here is ms on the addon's monotonic clock (`nativeNowMs()`); the addon maps the packets'
 * QPC positions onto it (deviceTime = now − (QPC now − QPC position of the packet's first frame)).
 * The streams themselves are shared with pulse (src/backends/native-stream.ts).
 */
import { LoopcheckError } from '../errors.js';
import { callNative, native, toLoopcheckError, type NativeBinding, type NativeChunkCallback, type NativePlayResult } from '../native.js';
import { openNativeLoopback } from './native-stream.js';
import type { Backend, DeviceInfo, LoopbackSession, OpenOptions } from './types.js';

/** First loopback packet: 12–30 ms after Start under Wine with a live render stream; allow 3 s like pulse. */
export const FIRST_DATA_TIMEOUT_MS = 3000;
/** 100 ms: shorter render queues underrun under CPU load and split a burst (wine-wasapi.md pitfall 4). */
const DEFAULT_BUFFER_MS = 100;

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
}

export interface NativeWasapiStreamOptions {
  device?: string;
  sampleRate: number;
  channels: number;
  bufferMs: number;
  polling?: boolean;
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

type WasapiBinding = NativeBinding & { WasapiSession?: new (options?: { timeoutMs?: number }) => NativeWasapiSession };

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

export async function openWasapiLoopback(options: OpenOptions): Promise<LoopbackSession> {
  if (options.exclusive) {
    throw new LoopcheckError('FORMAT_UNSUPPORTED', 'loopback capture is shared mode only', { hint: 'drop --exclusive for --backend wasapi' });
  }
  const b = binding();
  const session = openSession();
  try {
    const renders = callNative(() => session.listDevices()).filter((d) => d.kind === 'render' && d.state === WASAPI_DEVICE_STATE.active);
    const endpoint = options.device === undefined ? renders.find((d) => d.isDefault) : renders.find((d) => d.id === options.device || d.name === options.device);
    if (!endpoint) {
      throw new LoopcheckError(
        'DEVICE_NOT_FOUND',
        options.device === undefined ? 'there is no active default render endpoint' : `no active render endpoint "${options.device}"`,
        { hint: `render endpoints: ${renders.map((d) => `${d.name} (${d.id})`).join(', ') || '(none)'}` },
      );
    }
    const format: NativeWasapiStreamOptions = {
      device: endpoint.id,
      sampleRate: options.sampleRate ?? (endpoint.sampleRate || 48000),
      channels: options.channels ?? 2,
      bufferMs: options.bufferMs ?? DEFAULT_BUFFER_MS,
    };
    // Capture first and wait for its first packet, then open the render stream (wine-wasapi.md pitfall 3).
    return await openNativeLoopback({
      backend: 'wasapi',
      binding: b,
      session,
      device: { id: endpoint.id, name: endpoint.name },
      captureOptions: { ...format, bufferMs: Math.min(format.bufferMs, 20) },
      renderOptions: format,
      firstData: {
        timeoutMs: FIRST_DATA_TIMEOUT_MS,
        message: (ms) => `no loopback packets from "${endpoint.name}" within ${ms} ms`,
        hint: 'check that the endpoint is active (loopcheck devices); under Wine, that PulseAudio is reachable',
      },
    });
  } catch (e) {
    session.close();
    throw toLoopcheckError(e);
  }
}

/** The `wasapi` backend: Windows (or Wine ≥ 9.12), shared-mode loopback on a render endpoint. No hot-plug yet. */
export function createWasapiBackend(): Backend {
  return { name: 'wasapi', simulated: false, listDevices: listWasapiDevices, openLoopback: openWasapiLoopback };
}

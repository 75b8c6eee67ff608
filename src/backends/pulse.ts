/**
 * The `pulse` backend (Linux): render + loopback capture through the native addon's PulseSession
 * (native/linux). The record stream reads the sink's `.monitor`; the playback stream writes to the sink.
 *
 * Clock: every time here is ms on the addon's monotonic clock (`nativeNowMs()`), onto which the addon maps
 * PulseAudio's stream timing (deviceTime = now − pa_stream_get_latency at the read callback).
 */
import { LoopcheckError } from '../errors.js';
import { callNative, native, toLoopcheckError, type NativeBinding, type NativePulseSession } from '../native.js';
import { openNativeLoopback, watchNativeDevices } from './native-stream.js';
import type { Backend, DeviceEvent, DeviceInfo, DeviceWatch, LoopbackSession, OpenOptions } from './types.js';

/** An idle null sink can take 1–2 s to deliver its first data (pulseaudio.md): never give up before 3 s. */
export const FIRST_DATA_TIMEOUT_MS = 3000;
const DEFAULT_BUFFER_MS = 50;

function binding(): NativeBinding {
  const b = native();
  if (!b.PulseSession) {
    const info = b.backendInfo();
    throw new LoopcheckError('BACKEND_UNAVAILABLE', `this loopcheck addon has no PulseAudio backend (native backend: ${info.name})`, {
      hint: 'the pulse backend exists on Linux only; use --backend virtual',
    });
  }
  return b;
}

function openSession(): NativePulseSession {
  const b = binding();
  const Session = b.PulseSession!;
  return callNative(() => new Session({ timeoutMs: FIRST_DATA_TIMEOUT_MS }));
}

export async function listPulseDevices(): Promise<DeviceInfo[]> {
  const session = openSession();
  try {
    return callNative(() => session.listDevices()).map((d) => ({
      id: d.id,
      name: d.name,
      kind: d.kind,
      isDefault: d.isDefault,
      sampleRate: d.sampleRate,
      channels: d.channels,
    }));
  } finally {
    session.close();
  }
}

export async function openPulseLoopback(options: OpenOptions): Promise<LoopbackSession> {
  if (options.exclusive) {
    throw new LoopcheckError('FORMAT_UNSUPPORTED', 'PulseAudio has no exclusive mode', { hint: 'drop --exclusive for --backend pulse' });
  }
  if (options.renderPeriodMs !== undefined) {
    throw new LoopcheckError('INVALID_ARGUMENT', 'PulseAudio streams have no device period to choose', { hint: 'drop --render-period-ms (wasapi only); --buffer-ms sets the queue' });
  }
  const b = binding();
  const session = openSession();
  try {
    const devices = callNative(() => session.listDevices());
    const sinks = devices.filter((d) => d.kind === 'render');
    const sink = options.device === undefined ? sinks.find((d) => d.isDefault) : sinks.find((d) => d.id === options.device);
    if (!sink) {
      throw new LoopcheckError(
        'DEVICE_NOT_FOUND',
        options.device === undefined ? 'PulseAudio has no default sink' : `no PulseAudio sink named "${options.device}"`,
        { hint: `render devices: ${sinks.map((d) => d.id).join(', ') || '(none)'}; scripts/ci/pulse.sh start creates "loop"` },
      );
    }
    const streamOptions = {
      device: sink.id,
      sampleRate: options.sampleRate ?? sink.sampleRate,
      channels: options.channels ?? 2,
      bufferMs: options.bufferMs ?? DEFAULT_BUFFER_MS,
    };
    return await openNativeLoopback({
      backend: 'pulse',
      binding: b,
      session,
      device: { id: sink.id, name: sink.name },
      captureOptions: streamOptions,
      renderOptions: streamOptions,
      firstData: {
        timeoutMs: FIRST_DATA_TIMEOUT_MS,
        message: (ms) => `no capture data from the PulseAudio monitor within ${ms} ms`,
        hint: 'check that the sink is running (pactl list short sinks) and not suspended',
      },
    });
  } catch (e) {
    session.close();
    throw toLoopcheckError(e);
  }
}

/**
 * Hot-plug on a dedicated PulseAudio connection (pa_context_subscribe SINK | SOURCE | SERVER). Throws
 * SERVICE_UNAVAILABLE when no server answers. Connection loss: onError(SERVICE_UNAVAILABLE, osCode 11),
 * after which the watch is already closed. Events carry `time` on the addon's monotonic clock (ms).
 */
export function watchPulseDevices(onEvent: (event: DeviceEvent) => void, onError?: (error: Error) => void): DeviceWatch {
  const b = binding();
  if (!b.PulseDeviceWatch) {
    throw new LoopcheckError('BACKEND_UNAVAILABLE', 'this loopcheck addon cannot watch PulseAudio devices', {
      hint: 'rebuild the addon (npm run build)',
    });
  }
  const Watch = b.PulseDeviceWatch;
  // Connection loss closes the watch (joins libpulse's thread), then reports.
  return watchNativeDevices((onNative) => new Watch({ timeoutMs: FIRST_DATA_TIMEOUT_MS }, onNative), onEvent, (error) =>
    onError?.(toLoopcheckError(error)),
  );
}

/** The `pulse` backend: Linux, a PulseAudio (or pipewire-pulse) server reachable via $PULSE_SERVER. */
export function createPulseBackend(): Backend {
  return {
    name: 'pulse',
    simulated: false,
    listDevices: listPulseDevices,
    openLoopback: openPulseLoopback,
    watchDevices: watchPulseDevices,
  };
}

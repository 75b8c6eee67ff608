/**
 * `loopcheck record [--seconds N] [--format f32|s16] [--rate HZ] [--channels N] OUT.wav | -`
 * Records the loopback of the render device. To a WAV file: the header is rewritten at every flush, so
 * a killed process leaves a valid file; to stdout (`-`): raw little-endian PCM, converted on the fly.
 * Ctrl-C / SIGTERM stop cleanly (file finalised, exit 130 / 143); a lost device keeps what was captured.
 */
import { Capture, openCapture } from '../capture.js';
import { getBackend } from '../backends/index.js';
import { openWasapiLoopback } from '../backends/wasapi.js';
import { LoopcheckError } from '../errors.js';
import { encodePcm, WavStreamWriter } from '../wav.js';
import type { CommandIo } from './io.js';
import { formatHelp, givenWasapiFlags, numberOption, parse, requireWasapiFor, WASAPI_HELP, WASAPI_OPTIONS, wasapiFlags } from './options.js';
import { downmix } from './pcm.js';
import { Resampler } from '../dsp/resample.js';

const HELP = formatHelp({
  usage: 'loopcheck record [--seconds N] [--format f32|s16] [--rate HZ] [--channels N] OUT.wav | -',
  summary:
    'Records what the render device plays (loopback) — or, on wasapi, the capture endpoint --device names\n' +
    '(a microphone) or one process tree (--process PID). OUT.wav gets a WAV that stays valid even if the\n' +
    'process is killed; `-` streams raw little-endian PCM to stdout. Ctrl-C stops cleanly (exit 130).',
  options: [
    ['--seconds N', 'stop after N seconds (default: until Ctrl-C)'],
    ['--format f32|s16', 'sample format (default f32); s16 rounds and counts clipped samples'],
    ['--rate HZ', "output rate (default: the device's); band-limited conversion, flat to 0.875 × Nyquist"],
    ['--channels N', "1 = mono (average of the device's channels), or the device's count (default)"],
    ['--buffer-ms N', 'requested device buffer, ms'],
    ...WASAPI_HELP,
  ],
});

/** How often the WAV header is rewritten, in frames of audio (~0.25 s). */
const FLUSH_EVERY_SECONDS = 0.25;

export async function record(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parse('record', argv, {
    seconds: { type: 'string' },
    format: { type: 'string', default: 'f32' },
    rate: { type: 'string' },
    channels: { type: 'string' },
    'buffer-ms': { type: 'string' },
    ...WASAPI_OPTIONS,
  }, true);
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new LoopcheckError('INVALID_ARGUMENT', `record: ${positionals.length === 0 ? 'an output (OUT.wav or -) is required' : 'only one output may be given'}`, {
      hint: 'loopcheck record --seconds 10 out.wav   or   loopcheck record - --format s16 > out.raw',
    });
  }
  const out = positionals[0]!;
  const format = values.format;
  if (format !== 'f32' && format !== 's16') {
    throw new LoopcheckError('INVALID_ARGUMENT', `record: --format must be f32 or s16, got "${String(format).slice(0, 20)}"`, { hint: 'use --format f32 or --format s16' });
  }
  const seconds = numberOption('record', 'seconds', values.seconds, { min: 0.001, max: 7 * 24 * 3600 });
  const rate = numberOption('record', 'rate', values.rate, { min: 1000, max: 768000, integer: true });
  const channelsWanted = numberOption('record', 'channels', values.channels, { min: 1, max: 64, integer: true });
  const bufferMs = numberOption('record', 'buffer-ms', values['buffer-ms'], { min: 1, max: 2000 });
  const backend = values.backend ?? 'auto';
  const flags = wasapiFlags('record', values);
  const wasapiOnly = givenWasapiFlags(flags);

  let capture: Capture;
  if (wasapiOnly.length > 0) {
    // Flags only WASAPI has: resolve the backend first (auto decides), refuse them elsewhere (exit 2).
    requireWasapiFor('record', (await getBackend(backend)).name, wasapiOnly);
    capture = new Capture(
      await openWasapiLoopback({ device: values.device, bufferMs, exclusive: flags.exclusive, minPeriod: flags.minPeriod, process: flags.process, reopen: flags.reopen }),
    );
  } else {
    capture = await openCapture({ backend, device: values.device, bufferMs, realtime: true });
  }
  const deviceRate = capture.format.sampleRate;
  const deviceChannels = capture.format.channels;
  const outRate = rate ?? deviceRate;
  const channels = channelsWanted ?? deviceChannels;
  if (channels !== 1 && channels !== deviceChannels) {
    await capture.stop();
    throw new LoopcheckError('INVALID_ARGUMENT', `record: --channels ${channels}: the device has ${deviceChannels}`, {
      hint: `use --channels 1 (mono mix) or --channels ${deviceChannels}`,
    });
  }
  if (capture.simulated) io.stderr.write('loopcheck: SIMULATED: recording the virtual device, not real audio\n');

  const toStdout = out === '-';
  let frames = 0;
  let clipped = 0;
  let sinceFlush = 0;
  // Mono first (less to resample), then band-limited rate conversion (src/dsp/resample.ts).
  const resampler = outRate === deviceRate ? null : new Resampler(deviceRate, outRate, channels);
  const writer = toStdout ? null : await WavStreamWriter.create(out, { sampleRate: outRate, channels, format: format === 's16' ? 'pcm16' : 'float32' });
  const emit = async (samples: Float32Array): Promise<void> => {
    if (samples.length === 0) return;
    if (writer) {
      clipped += writer.write(samples) ?? 0;
      sinceFlush += samples.length / channels;
      if (sinceFlush >= FLUSH_EVERY_SECONDS * outRate) {
        await writer.flush();
        sinceFlush = 0;
      }
    } else {
      const pcm = encodePcm(samples, format);
      clipped += pcm.clipped;
      if (!io.stdout.write(pcm.bytes)) await new Promise((resolve) => io.stdout.once('drain', resolve));
    }
  };
  const limitFrames = seconds === undefined ? Infinity : Math.round(seconds * deviceRate);
  let stopReason: 'SIGINT' | 'SIGTERM' | null = null;
  // First SIGINT/SIGTERM: stop the capture; the loop drains what is pending, the writer is finalised
  // and the exit code is 130 / 143. A second one exits at once, after a synchronous header rewrite so
  // the file still holds every frame written so far.
  const unsubscribe = io.onSignal((sig) => {
    if (stopReason) {
      writer?.closeSync();
      io.stderr.write(`loopcheck: ${sig} again: exiting now${writer ? `, ${out} holds ${(writer.framesWritten / outRate).toFixed(3)} s` : ''}\n`);
      io.exit(sig === 'SIGTERM' ? 143 : 130);
    }
    stopReason = sig;
    void capture.stop();
  });
  let failure: unknown = null;
  let chunks = 0;
  try {
    for await (const chunk of capture) {
      // --reopen: the endpoint went away and the capture continued on the new default one (the audio in between
      // is missing from the file; the chunk says so).
      if (flags.reopen && chunks++ > 0 && chunk.flags.discontinuity) {
        io.stderr.write(`loopcheck: discontinuity at ${(frames / deviceRate).toFixed(3)} s (device lost and re-opened, or data lost)\n`);
      }
      const take = Math.min(chunk.frames, limitFrames - frames);
      if (take <= 0) break;
      let samples = chunk.samples.subarray(0, take * chunk.channels);
      if (channels === 1 && chunk.channels !== 1) samples = downmix(samples, chunk.channels);
      await emit(resampler ? resampler.process(samples) : samples);
      frames += take;
      if (frames >= limitFrames) break;
    }
  } catch (e) {
    failure = e;
  } finally {
    unsubscribe();
    await capture.stop().catch(() => {});
    if (resampler) await emit(resampler.flush()).catch(() => {});
    await writer?.close();
  }
  const secondsDone = (frames / deviceRate).toFixed(3);
  if (clipped > 0) io.stderr.write(`loopcheck: warning: ${clipped} samples clipped converting to ${format}\n`);
  if (failure) {
    const line = failure instanceof LoopcheckError ? failure.toLine() : String((failure as Error).message ?? failure);
    io.stderr.write(`loopcheck: ${line} (kept ${secondsDone} s${writer ? ` in ${out}` : ''})\n`);
    return 1;
  }
  if (stopReason) {
    io.stderr.write(`loopcheck: ${stopReason}: stopped after ${secondsDone} s${writer ? `, ${out} finalised` : ''}\n`);
    return stopReason === 'SIGTERM' ? 143 : 130;
  }
  if (!toStdout) io.stderr.write(`loopcheck: recorded ${secondsDone} s to ${out}\n`);
  return 0;
}

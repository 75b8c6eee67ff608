/**
 * A PRIVATE PulseAudio daemon for one test (never the shared one of scripts/ci/pulse.sh, which CI may be using):
 * its own directory, socket and null sink `loop`, so a test may kill it or unload its sinks. Flags copied from
 * scripts/ci/pulse.sh. Used by test/integration/pulse-loss*.test.ts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sleep } from './cli.js';

export interface PrivateDaemon {
  /** `unix:<dir>/sock/native` */
  server: string;
  pid: number;
  /** Env for a client of this daemon only (private HOME for libpulse's cookie). */
  clientEnv: Record<string, string>;
  /** pactl against this daemon; throws on failure. */
  pactl(...args: string[]): string;
  kill(): void;
  /** Kills it if still alive and removes its directory. */
  dispose(): void;
}

export async function startPrivateDaemon(): Promise<PrivateDaemon> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lc-pulse-'));
  for (const d of ['home', 'runtime', 'config', 'state', 'sock']) mkdirSync(path.join(dir, d));
  chmodSync(path.join(dir, 'runtime'), 0o700);
  chmodSync(dir, 0o755);
  chmodSync(path.join(dir, 'sock'), 0o755);
  const socket = path.join(dir, 'sock', 'native');
  const server = `unix:${socket}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: path.join(dir, 'home'),
    XDG_RUNTIME_DIR: path.join(dir, 'runtime'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
    PULSE_RUNTIME_PATH: path.join(dir, 'runtime'),
    PULSE_STATE_PATH: path.join(dir, 'state'),
  }; // no DBUS_SESSION_BUS_ADDRESS, DISPLAY or PULSE_SERVER (pulseaudio.md)
  const log = openSync(path.join(dir, 'pulseaudio.log'), 'w');
  const realtime = process.getuid?.() === 0 ? 'true' : 'false';
  const child: ChildProcess = spawn(
    'pulseaudio',
    [
      '--daemonize=no', '--system=false', '-n', '--fail=true', '--exit-idle-time=-1', '--disallow-exit',
      '--use-pid-file=false', '--no-cpu-limit', `--realtime=${realtime}`, '--high-priority=true', '--log-target=stderr',
      `--load=module-native-protocol-unix socket=${socket} auth-anonymous=1`,
      '--load=module-null-sink sink_name=loop rate=48000 channels=2 format=float32le norewinds=1 sink_properties=device.description=loopcheck-loop',
      '--load=module-always-sink',
    ],
    { env, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const clientEnv = { HOME: env.HOME!, XDG_RUNTIME_DIR: env.XDG_RUNTIME_DIR!, PULSE_SERVER: server };
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const run = (args: string[]) => spawnSync('pactl', args, { env: { ...process.env, ...clientEnv }, encoding: 'utf8' });
  const daemon: PrivateDaemon = {
    server,
    pid: child.pid!,
    clientEnv,
    pactl: (...args) => {
      const r = run(args);
      if (r.status !== 0) throw new Error(`pactl ${args.join(' ')} failed: ${r.stderr}`);
      return r.stdout;
    },
    kill: () => {
      if (alive()) child.kill('SIGKILL');
    },
    dispose: () => {
      daemon.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // Ready when `loop` is listed (23–153 ms measured; hang guard 10 s).
  for (let i = 0; i < 200; i++) {
    const r = run(['list', 'short', 'sinks']);
    if (r.status === 0 && /^\d+\s+loop\s/m.test(r.stdout)) return daemon;
    if (!alive()) break;
    await sleep(50);
  }
  const text = readFileSync(path.join(dir, 'pulseaudio.log'), 'utf8').slice(-2000);
  daemon.dispose();
  throw new Error(`private pulseaudio did not come up:\n${text}`);
}

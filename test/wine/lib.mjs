// Shared by the standalone WASAPI scripts (test/wine/*.mjs, run with the Windows node.exe, e.g.
// scripts/ci/wine/run.sh test/wine/smoke.mjs): addon loading, command-line options, fail()/check() reporting, the
// seeded noise burst and its bit-exact search, and the CLI runner. Plain JS on purpose (no build step, no
// node_modules). Not a test file: vitest collects test/**/*.test.ts only.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The Windows addon (`npm run build:win`); LOOPCHECK_NATIVE_PATH overrides. */
export const addonPath = process.env.LOOPCHECK_NATIVE_PATH ?? path.join(root, 'build', 'win32-x64', 'loopcheck.node');

export const RATE = 48000;
export const CHANNELS = 2;
export const BURST_FRAMES = RATE / 4; // 250 ms

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- command line

const argv = process.argv.slice(2);
/** The word after `name` on the command line, `dflt` when `name` is absent. */
export function arg(name, dflt) {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
}
/** The number after `name`, `dflt` when `name` is absent. */
export function numArg(name, dflt) {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
}
/** Whether `name` is on the command line. */
export const flag = (name) => argv.includes(name);

// ---- verdict

/**
 * A script's verdict, every line prefixed `name:`. `fail(code, msg)`: a FAIL line on stderr, then exit `code`
 * (1 a check failed, 2 the addon or an endpoint is missing). `check(ok, what)`: an ok / FAIL line, failures
 * counted. `pass()`: exit 1 when a check failed, else the PASS line.
 */
export function verdict(name) {
  const v = {
    failures: 0,
    fail(code, msg) {
      console.error(`${name}: FAIL ${msg}`);
      process.exit(code);
    },
    check(ok, what) {
      console.log(`${name}: ${ok ? 'ok  ' : 'FAIL'} ${what}`);
      if (!ok) v.failures++;
    },
    pass() {
      if (v.failures > 0) v.fail(1, `${v.failures} check(s) failed`);
      console.log(`${name}: PASS`);
    },
  };
  return v;
}

/** The addon, or `fail(2, …)` when it does not load or has no export `need` (a build without WASAPI). */
export function loadAddon(fail, need = 'WasapiSession') {
  let addon;
  try {
    addon = createRequire(import.meta.url)(addonPath);
  } catch (e) {
    fail(2, `cannot load ${addonPath}: ${e.message} (npm run build:win)`);
  }
  if (!addon[need]) fail(2, `${addonPath} has no ${need} (backend ${addon.backendInfo().name})`);
  return addon;
}

// ---- the seeded burst, found bit-exact

/**
 * Seeded noise in [-0.5, 0.5), interleaved, every sample different (a swapped channel fails the match). The bare
 * program test/native/wasapi_bare_latency.cc has the same generator.
 */
export function burst(seed, frames = BURST_FRAMES, channels = CHANNELS) {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(frames * channels);
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** The chunks' interleaved samples end to end. */
export function flatten(chunks) {
  const flat = new Float32Array(chunks.reduce((n, c) => n + c.samples.length, 0));
  let o = 0;
  for (const c of chunks) {
    flat.set(c.samples, o);
    o += c.samples.length;
  }
  return flat;
}

const bits = (f) => new Uint32Array(f.buffer, f.byteOffset, f.length);

/** First frame of `flat` where all of `signal` follows bit-exactly (every float's bits equal), or -1. */
export function findExact(flat, signal, channels = CHANNELS) {
  const a = bits(flat);
  const b = bits(signal);
  for (let f = 0; f * channels + b.length <= a.length; f++) {
    if (a[f * channels] !== b[0]) continue;
    let i = 0;
    while (i < b.length && a[f * channels + i] === b[i]) i++;
    if (i === b.length) return f;
  }
  return -1;
}

/**
 * Diagnosis of a signal not found bit-exact: the first frame of `flat` equal to the signal's frame 0 (`start`,
 * -1 when none) and how many frames match exactly from there (`frames`).
 */
export function exactPrefix(flat, signal, channels = CHANNELS) {
  const a = bits(flat);
  const b = bits(signal);
  const frameEqual = (f) => {
    for (let c = 0; c < channels; c++) if (a[f * channels + c] !== b[c]) return false;
    return true;
  };
  let start = -1;
  for (let f = 0; f * channels < a.length && start < 0; f++) if (frameEqual(f)) start = f;
  let n = 0;
  while (start >= 0 && n < b.length && a[start * channels + n] === b[n]) n++;
  return { start, frames: Math.floor(n / channels) };
}

/**
 * Plays `signal` (interleaved) on the session, waits `waitMs`, and looks for it bit-exact in what arrived in
 * `chunks` (the capture callback's list) meanwhile: { played (play()'s result), got (those chunks), flat, at }.
 */
export async function playAndFind(session, chunks, signal, waitMs) {
  const from = chunks.length;
  const played = await session.play(signal);
  await sleep(waitMs);
  const got = chunks.slice(from);
  const flat = flatten(got);
  return { played, got, flat, at: findExact(flat, signal) };
}

/** The chunk holding frame `frame` of `flatten(chunks)`, and the frame's offset in it. */
export function chunkAt(chunks, frame) {
  let start = 0;
  let i = 0;
  while (start + chunks[i].frames <= frame) start += chunks[i++].frames;
  return { chunk: chunks[i], offset: frame - start };
}

// ---- the CLI (bin/loopcheck.js over dist/)

export const cliPath = path.join(root, 'bin', 'loopcheck.js');
/** Whether dist/ is built (`npm run build:ts`); when it is not, a failed check says so. */
export function cliReady(check) {
  if (existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'))) return true;
  check(false, 'CLI checks need dist/ (npm run build:ts)');
  return false;
}
/** A fresh folder for the CLI's output files. */
export const tmpDir = (prefix) => mkdtempSync(path.join(os.tmpdir(), prefix));
/** Runs the CLI with this node.exe and waits (60 s: a hang guard). */
export const runCli = (args) => spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', timeout: 60000 });
/** `s` (stderr) is one line, no stack trace: the CLI's contract for usage and setup errors. */
export const oneLine = (s) => s.trim().split('\n').length === 1 && !/\n\s+at /.test(s);

/**
 * Builds the native unit tests (CMake target `loopcheck_native_tests`, separate from the addon, in
 * build/native-tests) and runs them: SPSC ring wrap-around and overrun counting, chunk assembly (positions,
 * device times, discontinuity cuts). Also compiles the libpulse layout check when libpulse-dev is installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/native.js';
import { requireCommand } from '../support/require.js';

const root = packageRoot();
const buildDir = path.join(root, 'build', 'native-tests');
// Multi-config generators (Visual Studio on Windows) put executables under <config>/ and add .exe.
const exe = (name: string): string => {
  const candidates = [path.join(buildDir, name), path.join(buildDir, 'Debug', `${name}.exe`), path.join(buildDir, `${name}.exe`)];
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
};
const haveCmake = requireCommand('cmake', 'apt-get install -y cmake g++');

function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

describe.skipIf(!haveCmake)('native engine (C++ unit tests)', () => {
  it('builds loopcheck_native_tests with cmake', () => {
    const configure = run('cmake', ['-S', root, '-B', buildDir, '-DLOOPCHECK_BUILD_TESTS=ON', '-DCMAKE_BUILD_TYPE=Debug']);
    expect(configure.status, configure.out).toBe(0);
    const build = run('cmake', ['--build', buildDir, '--config', 'Debug']);
    expect(build.status, build.out).toBe(0);
  });

  it('ring wrap-around, overrun counting and chunk assembly pass', () => {
    const r = run(exe('loopcheck_native_tests'), []);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/\d+ checks, 0 failures/);
  });

  it.skipIf(!existsSync('/usr/include/pulse/pulseaudio.h'))('hand-declared libpulse layouts match libpulse-dev headers', () => {
    // The check is compile-time (static_assert); a mismatch fails the build step above.
    const r = run(exe('loopcheck_pulse_layout_check'), []);
    expect(r.status, r.out).toBe(0);
  });
});

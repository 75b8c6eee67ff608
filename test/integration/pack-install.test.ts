/**
 * The package as users get it (issue 8): `npm pack` → install the tarball into an empty project with no cmake,
 * compiler or make on PATH → `npx loopcheck verify` and `devices` work on the prebuilt addon; the same installed
 * tarball under Wine (Windows node.exe) loads prebuilds/win32-x64 and lists WASAPI endpoints.
 *
 * Prebuilds: by default the pack reuses the existing build outputs (LOOPCHECK_PREBUILD_REUSE=1: prepack's
 * scripts/prebuild.sh copies build/Release-cmake and build/win32-x64 into prebuilds/, compiling nothing), so
 * this test never recompiles the build/ folder other work uses; LOOPCHECK_PACK_TEST_REBUILD=1 runs the full
 * `npm run prebuilds` compile instead. `prepare` still compiles dist/ from src/ (tsc), as every pack does.
 * The installed project lives under .scratch/ (gitignored) because the Wine chroot mounts only the checkout.
 */
import { execa } from 'execa';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';
import { hasCommand, strict } from '../support/require.js';

const linuxX64 = process.platform === 'linux' && process.arch === 'x64';
const rebuild = process.env.LOOPCHECK_PACK_TEST_REBUILD === '1';
// win32-x64 goes into the tarball when its cross build exists (or is compiled now); Wine needs the chroot.
const withWin = rebuild || existsSync(path.join(ROOT, 'build', 'win32-x64', 'loopcheck.node'));
const wineReady = existsSync(path.join(process.env.LOOPCHECK_WINE_DIR ?? '/var/cache/loopcheck-wine', 'root', 'usr', 'lib', 'wine', 'wineserver'));
if (linuxX64 && !(withWin && wineReady)) {
  const why = `the win32 half needs build/win32-x64/loopcheck.node (npm run build:win) and the Wine chroot (sudo sh scripts/ci/wine/setup.sh)`;
  if (strict) throw new Error(`${why} (LOOPCHECK_REQUIRE_REAL_AUDIO=1)`);
  process.stderr.write(`[skip] ${why}\n`);
}

const work = path.join(ROOT, '.scratch', `pack-test-${process.pid}`);
const project = path.join(work, 'project');
const installed = path.join(project, 'node_modules', 'loopcheck');
/** PATH for the "no compiler" machine: symlinks to node, npm, npx and sh, nothing else. */
const bareBin = path.join(work, 'bin');

/** The environment without npm's per-script variables (a parent `npm test` sets npm_config_*) and loader overrides. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  const drop = /^(npm_|LOOPCHECK_(NATIVE_PATH|DEBUG_NATIVE|BUILD_FROM_SOURCE|PREBUILD_))/i;
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !drop.test(k)) env[k] = v;
  return { ...env, NO_COLOR: '1', ...extra };
}

async function run(file: string, args: string[], options: { cwd: string; env: Record<string, string>; timeoutMs?: number }) {
  // Timeouts are hang guards, never speed assertions.
  const r = await execa(file, args, { cwd: options.cwd, env: options.env, extendEnv: false, reject: false, stdin: 'ignore', timeout: options.timeoutMs ?? 240_000 });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}
let packed: Packed;
let tarball: string;
let installMs = 0;
let installLog = '';
const bare = () => cleanEnv({ PATH: bareBin });

describe.skipIf(!linuxX64)('npm pack → install without a compiler', () => {
  beforeAll(async () => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(bareBin, { recursive: true });
    mkdirSync(project, { recursive: true });
    for (const tool of ['node', 'npm', 'npx', 'sh']) {
      const found = await run('sh', ['-c', `command -v ${tool}`], { cwd: ROOT, env: cleanEnv() });
      symlinkSync(found.stdout.trim(), path.join(bareBin, tool));
    }

    const targets = withWin ? 'linux-x64 win32-x64' : 'linux-x64';
    const env = cleanEnv({ LOOPCHECK_PREBUILD_TARGETS: targets, ...(rebuild ? {} : { LOOPCHECK_PREBUILD_REUSE: '1' }) });
    const pack = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, env, timeoutMs: 600_000 });
    expect(pack.exitCode, pack.stderr).toBe(0);
    // Lifecycle output goes to stderr; stdout is the JSON.
    packed = (JSON.parse(pack.stdout) as Packed[])[0]!;
    tarball = path.join(work, packed.filename);

    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'pack-test', private: true, type: 'module' }));
    const t0 = performance.now();
    // The registry is reachable; --prefer-offline takes the dependencies from npm's cache when it has them.
    const install = await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts'], { cwd: project, env: bare() });
    installMs = performance.now() - t0;
    installLog = install.stdout + install.stderr;
    expect(install.exitCode, installLog).toBe(0);
    process.stderr.write(
      `[pack-install] ${packed.filename}: ${(packed.size / 1024).toFixed(0)} KiB packed, ${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked, ` +
        `${packed.files.length} files; install ${(installMs / 1000).toFixed(1)} s\n`,
    );
  }, 900_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('the bare PATH really has no cmake, compiler or make (and the machine does, so the test means something)', async () => {
    for (const tool of ['cmake', 'g++', 'c++', 'cc', 'make']) {
      expect((await run('sh', ['-c', `command -v ${tool}`], { cwd: project, env: bare() })).exitCode, tool).not.toBe(0);
    }
    expect(hasCommand('cmake') || hasCommand('g++')).toBe(true);
  });

  it('the tarball holds dist, types, bin, prebuilds and the native sources, and no tests or TS sources', () => {
    const files = new Set(packed.files.map((f) => f.path));
    for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/suites/index.js', 'bin/loopcheck.js', 'scripts/install.js', 'scripts/native-build-failed.js', 'prebuilds/linux-x64/loopcheck.node', 'CMakeLists.txt', 'native/addon.cc', 'native/linux/pulse_engine.cc', 'native/win/wasapi_engine.cc', 'docs/prebuilds.md']) {
      expect(files.has(f), f).toBe(true);
    }
    if (withWin) expect(files.has('prebuilds/win32-x64/loopcheck.node')).toBe(true);
    expect([...files].filter((f) => /^(test|src|bench|signals|build)\//.test(f) || f.endsWith('.map') || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toEqual([]);
  });

  it('install used the prebuild: nothing compiled', () => {
    expect(installLog).toContain('loopcheck: using the prebuilt addon prebuilds/linux-x64/loopcheck.node');
    expect(installLog).not.toMatch(/did not build|building from source/);
    expect(existsSync(path.join(installed, 'build'))).toBe(false);
  });

  it('npx loopcheck verify --backend virtual passes and writes the reports', async () => {
    const r = await run('npx', ['--no', '--', 'loopcheck', 'verify', '--backend', 'virtual', '--out', 'out'], { cwd: project, env: bare() });
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(path.join(project, 'out', 'report.json'), 'utf8')) as { passed: boolean; simulated: boolean; version: string };
    expect(report).toMatchObject({ passed: true, simulated: true, version: (JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as { version: string }).version });
    for (const f of ['junit.xml', 'report.html']) expect(existsSync(path.join(project, 'out', f)), f).toBe(true);
  });

  it('npx loopcheck devices loads prebuilds/linux-x64 (LOOPCHECK_DEBUG_NATIVE=1 says which file)', async () => {
    const r = await run('npx', ['--no', '--', 'loopcheck', 'devices'], { cwd: project, env: { ...bare(), LOOPCHECK_DEBUG_NATIVE: '1' } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`loopcheck: native: loaded ${path.join(installed, 'prebuilds', 'linux-x64', 'loopcheck.node')}`);
    expect(r.stdout).toMatch(/^\* render /m);
  });

  it("the shipped .d.ts files type-check a consumer's import of 'loopcheck'", () => {
    const consumer = path.join(project, 'consumer.ts');
    writeFileSync(
      consumer,
      "import { openCapture, runSuites, BUILTIN_SUITES, LoopcheckError, type OpenStreamOptions } from 'loopcheck';\n" +
        "const options: OpenStreamOptions = { backend: 'virtual', sampleRate: 48000 };\n" +
        'const capture = await openCapture(options);\n' +
        "for await (const bytes of capture.pcm({ sampleRate: 16000, channels: 1, format: 's16' })) console.log(bytes.length);\n" +
        "const report = await runSuites({ backend: 'virtual', suites: BUILTIN_SUITES });\n" +
        "if (!report.passed) throw new LoopcheckError('INTERNAL', 'failed');\n",
    );
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      types: ['node'],
      typeRoots: [path.join(ROOT, 'node_modules', '@types')],
    };
    const program = ts.createProgram([consumer], options);
    const resolved = ts.resolveModuleName('loopcheck', consumer, options, ts.sys).resolvedModule?.resolvedFileName;
    expect(resolved).toBe(path.join(installed, 'dist', 'src', 'index.d.ts'));
    const diagnostics = ts.getPreEmitDiagnostics(program);
    expect(ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => project, getNewLine: () => '\n' })).toBe('');
  });

  it.skipIf(!(withWin && wineReady))('under Wine, the installed tarball loads prebuilds/win32-x64 and lists WASAPI endpoints', async () => {
    // The installed node_modules came from Linux: fine for node.exe, as loopcheck's runtime dependencies are
    // JavaScript and WebAssembly only (cmake-js and node-addon-api are used by a source build alone).
    const r = await run('sh', [path.join(ROOT, 'scripts', 'ci', 'wine', 'run.sh'), path.join(installed, 'bin', 'loopcheck.js'), 'devices'], {
      cwd: project,
      env: cleanEnv({ LOOPCHECK_DEBUG_NATIVE: '1' }),
    });
    expect(r.exitCode, r.stderr).toBe(0);
    // node.exe sees the checkout as Z:\work\main\…
    const winPath = `Z:${path.join(installed, 'prebuilds', 'win32-x64', 'loopcheck.node').replaceAll('/', '\\')}`;
    expect(r.stderr).toContain(`loopcheck: native: loaded ${winPath}`);
    expect(r.stdout).toMatch(/^\* render +\{/m); // a WASAPI endpoint id, e.g. {0.0.0.00000000}.{…}
  });
});

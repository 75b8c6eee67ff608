// `npm install` hook (docs/prebuilds.md). Uses the addon prebuilt for this platform when it loads here
// (prebuilds/<platform>-<arch>/loopcheck.node: no compiler needed); otherwise builds from source with
// cmake-js; when that fails too, the package still works on the virtual backend and
// scripts/native-build-failed.js says what to install. `npm install --build-from-source` (or
// LOOPCHECK_BUILD_FROM_SOURCE=1) skips the prebuild.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const target = `${process.platform}-${process.arch}`;
const prebuild = path.join(root, 'prebuilds', target, 'loopcheck.node');
const fromSource = process.env.npm_config_build_from_source === 'true' || process.env.LOOPCHECK_BUILD_FROM_SOURCE === '1';

if (!fromSource && existsSync(prebuild)) {
  try {
    // Loading proves the binary fits this machine (libc, Node-API version); version() that it is ours.
    const version = require(prebuild).version();
    process.stdout.write(`loopcheck: using the prebuilt addon prebuilds/${target}/loopcheck.node (${version})\n`);
    process.exit(0);
  } catch (e) {
    process.stderr.write(`loopcheck: prebuilds/${target}/loopcheck.node does not load here (${String(e?.message ?? e).split('\n')[0]}); building from source\n`);
  }
}
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const build = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build/Release-cmake', '--log-level', 'warn'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) await import('./native-build-failed.js');

import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native.js';
import { VERSION } from '../../src/version.js';
import { loopcheck, ROOT } from '../support/cli.js';
import { strict } from '../support/require.js';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

/** The addon, when it was built (npm ci builds it); a missing build skips visibly, and fails under CI. */
function addon(): ReturnType<typeof native> | null {
  try {
    return native();
  } catch (e) {
    if (strict) throw e;
    process.stderr.write(`[skip] native addon not built (${(e as Error).message.slice(0, 80)}); run npm run build\n`);
    return null;
  }
}
const binding = addon();

describe('versions', () => {
  it('package.json holds a semver version and src/version.ts reads it', () => {
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    expect(VERSION).toBe(pkg.version);
  });

  it('loopcheck --version and -v print the package version, nothing else', async () => {
    for (const flag of ['--version', '-v']) {
      const r = await loopcheck([flag]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toBe(pkg.version); // execa strips the one trailing newline
    }
  });

  it('the CHANGELOG has an entry for the package version', () => {
    expect(readFileSync(path.join(ROOT, 'CHANGELOG.md'), 'utf8')).toMatch(new RegExp(`^## \\[${pkg.version.replace(/\./g, '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}$`, 'm'));
  });

  it.skipIf(!binding)('the native addon reports the package version', () => {
    expect(binding!.version()).toBe(pkg.version);
  });

  it('report.json is stamped with the loopcheck and Node versions and the host', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lc-version-'));
    const r = await loopcheck(['verify', '--backend', 'virtual', '--suite', 'latency', '--out', out]);
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as { tool: string; version: string; environment: Record<string, unknown> };
    expect(report.tool).toBe('loopcheck');
    expect(report.version).toBe(pkg.version);
    expect(report.environment.node).toBe(process.version); // the CLI runs on this test's node binary
    expect(report.environment.hostname).toBe(os.hostname());
    // The virtual backend never touches the addon, so it is not stamped with one.
    expect(report.environment.addon).toBeUndefined();
  });
});

/**
 * .github/workflows/*.yml cannot run here (no Windows, no GitHub), so this is their check:
 *  - every workflow parses as YAML and passes action-validator (@action-validator/core: the wasm build of
 *    mpalmer/action-validator, which validates against SchemaStore's github-workflow schema, offline);
 *  - the validator rejects broken workflows (negative cases), so a pass means something;
 *  - windows.yml keeps what issue 5 asks for: windows-latest, Node 20, VB-CABLE with a pinned SHA-256 checked by
 *    Get-FileHash, npm ci → npm test → npm run verify --backend wasapi, reports uploaded with if: always();
 *  - ci.yml runs `bash .ci/run`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { ROOT } from '../support/cli.js';

const DIR = path.join(ROOT, '.github', 'workflows');
const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
// CRLF → LF: a checkout with core.autocrlf=true must not change the verdict.
const read = (name: string) => readFileSync(path.join(DIR, name), 'utf8').replace(/\r\n/g, '\n');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}
interface Job {
  'runs-on': string;
  env?: Record<string, unknown>;
  steps: Step[];
}

/** Problems found by the schema (and the YAML parser): [] when valid. */
function schemaProblems(src: string): string[] {
  const doc = parseDocument(src);
  if (doc.errors.length) return doc.errors.map((e) => `YAML: ${e.message}`);
  return validateWorkflow(src).errors.map((e) => `${e.title}${'path' in e && e.path ? ` at ${e.path}` : ''}${e.detail ? `: ${e.detail}` : ''}`);
}

/** Every `uses:` pinned to a major version tag or a full commit SHA (never a branch, never unpinned). */
function unpinnedActions(src: string): string[] {
  const jobs = Object.values((parse(src) as { jobs: Record<string, Job> }).jobs);
  return jobs.flatMap((j) => j.steps.map((s) => s.uses).filter((u): u is string => !!u && !/@(v\d+(\.\d+)*|[0-9a-f]{40})$/.test(u)));
}

/** The facts issue 5 asks of windows.yml: [] when all hold. Kept separate so a mutated copy can prove it fails. */
function windowsProblems(src: string): string[] {
  const problems: string[] = [];
  const jobs = Object.values((parse(src) as { jobs: Record<string, Job> }).jobs);
  const job = jobs.find((j) => j['runs-on'] === 'windows-latest');
  if (!job) return ['no job runs on windows-latest'];
  const steps = job.steps;
  const at = (pred: (s: Step) => boolean) => steps.findIndex(pred);
  const runs = (re: RegExp) => (s: Step) => typeof s.run === 'string' && re.test(s.run);

  const node = steps.find((s) => s.uses?.startsWith('actions/setup-node@'));
  if (String(node?.with?.['node-version']) !== '20') problems.push('actions/setup-node with node-version 20');
  if (at((s) => !!s.uses?.startsWith('actions/checkout@')) < 0) problems.push('actions/checkout');

  // The pinned hash is a 64-hex-digit literal, and the step that downloads the driver pack compares it.
  const hash = String(job.env?.VBCABLE_SHA256 ?? '');
  if (!/^[0-9a-f]{64}$/.test(hash)) problems.push('env VBCABLE_SHA256 pinned to a 64-hex-digit SHA-256');
  if (!/^https:\/\//.test(String(job.env?.VBCABLE_URL ?? ''))) problems.push('env VBCABLE_URL over https');
  const install = at(runs(/Get-FileHash[^\n]*-Algorithm SHA256/));
  const installRun = steps[install]?.run ?? '';
  if (install < 0) problems.push('a step hashing the download with Get-FileHash -Algorithm SHA256');
  else if (!/-ne \$env:VBCABLE_SHA256\s*\)\s*\{[^}]*exit 1/.test(installRun)) problems.push('the hash step exits 1 on mismatch');
  else if (!/VBCABLE_Setup_x64\.exe/.test(installRun)) problems.push('the hash step installs VBCABLE_Setup_x64.exe');

  const ci = at(runs(/^npm ci$/m));
  const test = at(runs(/^npm test$/m));
  const verify = at(runs(/^npm run verify -- .*--backend wasapi/m));
  if (ci < 0) problems.push('a `npm ci` step');
  if (test < 0) problems.push('a `npm test` step');
  if (verify < 0) problems.push('a `npm run verify -- --backend wasapi` step');
  if (!(install < ci && ci < test && test < verify)) problems.push('order: VB-CABLE install < npm ci < npm test < npm run verify');

  const upload = at((s) => !!s.uses?.startsWith('actions/upload-artifact@v4'));
  if (upload < 0) problems.push('actions/upload-artifact@v4');
  else {
    if (!/^(\$\{\{\s*)?always\(\)(\s*\}\})?$/.test(steps[upload].if ?? '')) problems.push('upload-artifact with if: always()');
    if (!String(steps[upload].with?.path ?? '').startsWith('reports')) problems.push('upload-artifact of reports/');
    if (upload < verify) problems.push('upload after verify');
  }
  return problems;
}

describe('GitHub workflows (.github/workflows)', () => {
  it('has the Windows runner and the Linux CI workflow', () => {
    expect(files).toEqual(expect.arrayContaining(['ci.yml', 'windows.yml']));
  });

  it.each(files)('%s passes action-validator (SchemaStore github-workflow schema)', (name) => {
    expect(schemaProblems(read(name))).toEqual([]);
  });

  it.each(files)('%s pins every action by major version or commit', (name) => {
    expect(unpinnedActions(read(name))).toEqual([]);
  });

  it('the validator rejects broken workflows', () => {
    const good = read('windows.yml');
    // runs-on removed; an unknown step key; a step with both uses and run; no `on`; not YAML at all.
    const broken = {
      noRunsOn: good.replace(/^ {4}runs-on: windows-latest\n/m, ''),
      unknownKey: good.replace('      - name: npm test\n', '      - name: npm test\n        iff: always()\n'),
      usesAndRun: good.replace('      - uses: actions/checkout@v4\n', '      - uses: actions/checkout@v4\n        run: echo\n'),
      noOn: good.replace(/^on:\n(?: {2}.*\n)+/m, ''),
      badYaml: `${good}\n  : : [\n`,
    };
    for (const [what, src] of Object.entries(broken)) {
      expect(src, `${what}: the mutation applied`).not.toBe(good);
      expect(schemaProblems(src), what).not.toEqual([]);
    }
    expect(unpinnedActions(good.replace('actions/checkout@v4', 'actions/checkout@main'))).toEqual(['actions/checkout@main']);
  });

  it('windows.yml: windows-latest, Node 20, pinned VB-CABLE hash, npm ci/test/verify, reports uploaded always', () => {
    expect(windowsProblems(read('windows.yml'))).toEqual([]);
  });

  it('the windows.yml fact checks fail on a workflow that drops them', () => {
    const good = read('windows.yml');
    expect(windowsProblems(good.replace('node-version: 20', 'node-version: 18'))).toEqual(['actions/setup-node with node-version 20']);
    expect(windowsProblems(good.replace(/VBCABLE_SHA256: [0-9a-f]{64}/, 'VBCABLE_SHA256: ${{ vars.VBCABLE_SHA256 }}'))).toEqual([
      'env VBCABLE_SHA256 pinned to a 64-hex-digit SHA-256',
    ]);
    expect(windowsProblems(good.replace(/\n {12}exit 1\n {10}\}\n {10}\$dir/, '\n          }\n          $dir'))).toEqual([
      'the hash step exits 1 on mismatch',
    ]);
    expect(windowsProblems(good.replace(/^ {10}npm test$/m, '          npx vitest run'))).toEqual([
      'a `npm test` step',
      'order: VB-CABLE install < npm ci < npm test < npm run verify',
    ]);
    expect(windowsProblems(good.replace(/(upload-artifact@v4\n) {8}if: always\(\)\n/, '$1'))).toEqual(['upload-artifact with if: always()']);
    expect(windowsProblems(good.replace('runs-on: windows-latest', 'runs-on: ubuntu-latest'))).toEqual(['no job runs on windows-latest']);
  });

  it('ci.yml runs the project CI entry point (bash .ci/run) with Node 20', () => {
    const jobs = Object.values((parse(read('ci.yml')) as { jobs: Record<string, Job> }).jobs);
    const steps = jobs.flatMap((j) => j.steps);
    expect(steps.some((s) => s.run?.trim() === 'bash .ci/run')).toBe(true);
    expect(String(steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with?.['node-version'])).toBe('20');
  });
});

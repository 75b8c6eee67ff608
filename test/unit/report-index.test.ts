import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPORTERS, writeReports } from '../../src/report/index.js';
import { makeReport } from './report-fixture.js';

describe('writeReports', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('creates the directory, writes json/junit/html and leaves no temp files', async () => {
    const base = await mkdtemp(join(tmpdir(), 'loopcheck-report-'));
    dirs.push(base);
    const out = join(base, 'nested', 'reports');
    const report = makeReport({ passed: false, simulated: true });
    const paths = await writeReports(report, out);
    expect(paths).toEqual(['report.json', 'junit.xml', 'report.html'].map((f) => resolve(out, f)));
    expect((await readdir(out)).sort()).toEqual(['junit.xml', 'report.html', 'report.json']);
    expect(JSON.parse(await readFile(paths[0]!, 'utf8')).passed).toBe(false);
    expect(await readFile(paths[2]!, 'utf8')).toBe(REPORTERS.html.render(report));
    // Overwrite in place with a subset.
    const again = await writeReports(makeReport({ passed: true }), out, ['json', 'json']);
    expect(again).toEqual([resolve(out, 'report.json')]);
    expect(JSON.parse(await readFile(again[0]!, 'utf8')).passed).toBe(true);
    expect((await readdir(out)).length).toBe(3);
  });

  it('rejects unknown formats with INVALID_ARGUMENT before writing anything', async () => {
    const base = await mkdtemp(join(tmpdir(), 'loopcheck-report-'));
    dirs.push(base);
    await expect(writeReports(makeReport({ passed: true }), join(base, 'x'), ['json', 'pdf'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await readdir(base)).toEqual([]);
    expect(Object.keys(REPORTERS)).toEqual(['json', 'junit', 'html']);
    for (const [name, r] of Object.entries(REPORTERS)) expect(r.name).toBe(name);
  });
});

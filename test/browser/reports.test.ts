/**
 * report.html and bench.html rendered in headless Chromium (Debian's package, driven by playwright-core): no
 * console errors or dialogs, every plot visible with a non-zero box and drawn marks, and a hostile device name
 * shown as text, never as markup. Screenshots go to reports/screenshots/ (CI artefacts).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopcheck, ROOT } from '../support/cli.js';
import { requireCommand } from '../support/require.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
const available = requireCommand('chromium', 'apt-get install -y chromium');
const SHOTS = path.join(ROOT, 'reports', 'screenshots');

let browser: BrowserContext | undefined;
let dir: string;

beforeAll(async () => {
  if (!available) return;
  dir = mkdtempSync(path.join(tmpdir(), 'lc-browser-'));
  mkdirSync(SHOTS, { recursive: true });
  const [verify, bench] = await Promise.all([
    // Dropouts impaired so the page also carries the zoomed dropout plots and the dropout bars.
    loopcheck(['verify', '--backend', 'virtual', '--device', HOSTILE, '--impair', 'dropouts=2,seed=3', '--duration', '2', '--out', path.join(dir, 'verify')]),
    loopcheck(['bench', '--backend', 'virtual', '--device', HOSTILE, '--buffers', '10,20', '--repeat', '1', '--duration', '1', '--out', path.join(dir, 'bench')]),
  ]);
  // verify exits 1 (the impaired run fails its criteria); 2 would be a setup error.
  expect([0, 1], verify.stderr).toContain(verify.exitCode);
  expect(bench.exitCode, bench.stderr).toBe(0);
  // A fresh profile per run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(mkdtempSync(path.join(tmpdir(), 'lc-chromium-')), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
});

async function check(file: string, shot: string): Promise<number> {
  const page = await browser!.newPage();
  await page.setViewportSize({ width: 1100, height: 900 });
  const errors: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  const svgs = page.locator('svg');
  const n = await svgs.count();
  expect(n).toBeGreaterThan(0);
  for (let i = 0; i < n; i++) {
    const svg = svgs.nth(i);
    await svg.scrollIntoViewIfNeeded();
    await expect.poll(() => svg.isVisible()).toBe(true);
    const box = await svg.boundingBox();
    expect(box && box.width > 0 && box.height > 0, `svg #${i} box`).toBe(true);
    // Drawn data: a series path, a point, a whisker or a bar (the frame rect alone does not count).
    const marks = await svg.locator('path.series, circle, line.whisker, g.bars rect').count();
    expect(marks, `svg #${i} has no drawn marks`).toBeGreaterThan(0);
  }
  await expect.poll(() => page.getByText(HOSTILE).count()).toBeGreaterThan(0);
  expect(await page.locator('img').count()).toBe(0);
  await page.screenshot({ path: path.join(SHOTS, shot), fullPage: true });
  expect(errors).toEqual([]);
  expect(dialogs).toEqual([]);
  await page.close();
  return n;
}

describe.skipIf(!available)('reports in headless Chromium', () => {
  it('report.html: plots drawn, no console errors, hostile device name shown as text', async () => {
    const plots = await check(path.join(dir, 'verify', 'report.html'), 'report.png');
    expect(plots).toBeGreaterThan(2);
  });

  it('bench.html: latency whisker plot and dropout bars drawn, name escaped', async () => {
    const plots = await check(path.join(dir, 'bench', 'bench.html'), 'bench.png');
    expect(plots).toBe(2);
  });
});

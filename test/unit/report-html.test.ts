import { describe, expect, it } from 'vitest';
import { HtmlReporter, MAX_DROPOUT_PLOTS_PER_CASE } from '../../src/report/html.js';
import { HOSTILE_NAME, makeReport } from './report-fixture.js';

const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link', 'col', 'wbr']);

/** Checks that tags nest properly (no regexps): returns the opening tags (name and full text) in order. */
function checkNesting(html: string): { name: string; tag: string }[] {
  const opened: { name: string; tag: string }[] = [];
  const stack: string[] = [];
  let i = 0;
  for (;;) {
    const lt = html.indexOf('<', i);
    if (lt < 0) break;
    const gt = html.indexOf('>', lt);
    const tag = html.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('!')) continue;
    if (tag.startsWith('/')) {
      const top = stack.pop();
      if (top !== tag.slice(1)) throw new Error(`</${tag.slice(1)}> closes <${top}>`);
      continue;
    }
    let end = 0;
    while (end < tag.length && tag[end] !== ' ' && tag[end] !== '/' && tag[end] !== '\n') end++;
    const name = tag.slice(0, end).toLowerCase();
    opened.push({ name, tag });
    if (!tag.endsWith('/') && !VOID.has(name)) stack.push(name);
  }
  if (stack.length) throw new Error(`unclosed: ${stack.join(', ')}`);
  return opened;
}

describe('HtmlReporter', () => {
  const reporter = new HtmlReporter();
  const failing = reporter.render(makeReport({ passed: false, simulated: true, deviceName: HOSTILE_NAME }));
  const passing = reporter.render(makeReport({ passed: true }));

  it('is self-contained: inline SVG and CSS, no script, no external resources', () => {
    for (const html of [failing, passing]) {
      expect(html).toContain('<svg');
      expect(html).toContain('<style>');
      expect(html.toLowerCase()).not.toContain('<script');
      expect(html).not.toMatch(/https?:\/\//);
      expect(html).not.toContain('src="http');
      expect(html).not.toMatch(/@import|url\(/i);
      const tags = checkNesting(html);
      const names = new Set(tags.map((t) => t.name));
      for (const banned of ['script', 'img', 'link', 'iframe', 'object', 'embed', 'image', 'use', 'foreignobject']) expect(names.has(banned)).toBe(false);
      for (const { tag } of tags) {
        expect(tag).not.toMatch(/\s(src|xlink:href)=/i);
        expect(tag).not.toMatch(/\shref="(?!#)/);
        expect(tag).not.toMatch(/\son\w+=/i); // no event-handler attributes
      }
    }
  });

  it('escapes a hostile device name and suite name everywhere', () => {
    expect(failing).not.toContain('<img src=x');
    expect(failing).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(failing).toContain('&quot;Speakers&quot; &amp; &#39;Co&#39;');
    expect(failing).toContain('dropouts &amp; &lt;glitches&gt;');
    expect(failing).not.toContain('<glitches>');
    expect(failing).not.toContain('\u0007');
  });

  it('shows the verdict, SIMULATED only when simulated, INTERRUPTED only when interrupted', () => {
    expect(failing).toContain('<h1>FAIL</h1>');
    expect(failing).toContain('SIMULATED — no real audio device was measured');
    expect(passing).toContain('<h1>PASS</h1>');
    expect(passing).not.toContain('SIMULATED');
    expect(passing).not.toContain('INTERRUPTED');
    const cut = reporter.render(makeReport({ passed: true, interrupted: true }));
    expect(cut).toContain('INTERRUPTED — partial report');
    expect(cut).toContain('stopped by SIGINT &lt;Ctrl-C&gt;');
  });

  it('has a criteria table with limit, measured, margin and result', () => {
    const table = failing.slice(failing.indexOf('id="criteria"'), failing.indexOf('id="summary"'));
    expect(table).toContain('Latency (max over repeats)');
    expect(table).toContain('&lt; 100 ms</td><td class="num">120.5 ms</td><td class="num">-20.5 ms</td><td class="fail-text">FAIL</td>');
    expect(table).toContain('≥ 60 dB</td><td class="num">70.5 dB</td><td class="num">10.5 dB</td><td class="pass-text">PASS</td>');
  });

  it('plots latency, frequency response, impulse response and every dropout window', () => {
    const svgCount = (html: string) => html.split('<svg').length - 1;
    // failing: latency + 3 dropout windows + frequency response + impulse response
    expect(svgCount(failing)).toBe(6);
    expect(svgCount(passing)).toBe(3);
    expect(failing).toContain('Latency per repeat');
    expect(failing).toContain('Frequency response (magnitude)');
    expect(failing).toContain('Impulse response');
    expect(failing).toContain('Dropout at 1.35 s (silence, 5 ms)');
    expect(failing).toContain('Dropout at 2.5 s (gap, 10 ms)');
    expect(failing).not.toMatch(/NaN|Infinity/);
    // Bounded: the fixture's 8192-sample impulse response and 3 × 960-sample windows stay well under 200 kB.
    expect(failing.length).toBeLessThan(200_000);
  });

  it('links every table-of-contents entry to an anchor on the page', () => {
    let i = 0;
    let links = 0;
    for (;;) {
      const at = failing.indexOf('href="#', i);
      if (at < 0) break;
      const end = failing.indexOf('"', at + 7);
      const id = failing.slice(at + 7, end);
      expect(failing).toContain(`id="${id}"`);
      links++;
      i = end;
    }
    expect(links).toBe(5 + 5); // criteria, summary, latency, cases, environment + 5 cases
  });

  it('caps dropout plots per case and says how many were left out', () => {
    const report = makeReport({ passed: false });
    const c = report.cases.find((x) => x.plots)!;
    const w = c.plots!.dropoutWindows![0]!;
    c.plots!.dropoutWindows = Array.from({ length: MAX_DROPOUT_PLOTS_PER_CASE + 5 }, () => w);
    const html = reporter.render(report);
    expect(html.split('<svg').length - 1).toBe(3 + MAX_DROPOUT_PLOTS_PER_CASE);
    expect(html).toContain('5 more dropout window(s) not plotted');
  });
});

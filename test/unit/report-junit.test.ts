import { describe, expect, it } from 'vitest';
import { JunitReporter } from '../../src/report/junit.js';
import { FAILING_UNMET_CRITERIA, HOSTILE_NAME, makeReport } from './report-fixture.js';

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '&') {
      out += s[i];
      continue;
    }
    const end = s.indexOf(';', i);
    if (end < 0) throw new Error(`bare & at ${i}`);
    const ent = s.slice(i + 1, end);
    if (ent.startsWith('#')) out += String.fromCodePoint(Number.parseInt(ent.slice(1), 10));
    else if (ENTITIES[ent] !== undefined) out += ENTITIES[ent];
    else throw new Error(`unknown entity &${ent};`);
    i = end;
  }
  return out;
}

/**
 * A tiny strict XML parser (no regexps): elements, attributes in double quotes, text, the XML declaration.
 * Throws on mismatched tags, raw `<`/`&` in text or attributes, and code points XML 1.0 forbids.
 */
function parseXml(xml: string): XmlElement {
  for (const ch of xml) {
    const c = ch.codePointAt(0)!;
    if ((c < 0x20 && c !== 0x9 && c !== 0xa && c !== 0xd) || c === 0xfffe || c === 0xffff) throw new Error(`forbidden char U+${c.toString(16)}`);
  }
  let i = 0;
  if (xml.startsWith('<?xml')) i = xml.indexOf('?>') + 2;
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    if (text.includes('>')) throw new Error('raw > in text');
    stack[stack.length - 1]!.text += decode(text);
    if (lt < 0) break;
    const gt = xml.indexOf('>', lt);
    const tag = xml.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('/')) {
      const open = stack.pop()!;
      if (open.name !== tag.slice(1)) throw new Error(`</${tag.slice(1)}> closes <${open.name}>`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const sp = body.search(/\s|$/);
    const el: XmlElement = { name: body.slice(0, sp), attributes: {}, children: [], text: '' };
    let rest = body.slice(sp).trim();
    while (rest.length) {
      const eq = rest.indexOf('="');
      const close = rest.indexOf('"', eq + 2);
      if (eq < 0 || close < 0) throw new Error(`bad attributes in <${tag}>`);
      const value = rest.slice(eq + 2, close);
      if (value.includes('<')) throw new Error('raw < in attribute');
      el.attributes[rest.slice(0, eq)] = decode(value);
      rest = rest.slice(close + 1).trim();
    }
    stack[stack.length - 1]!.children.push(el);
    if (!selfClosing) stack.push(el);
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (root.children.length !== 1) throw new Error('not exactly one root element');
  return root.children[0]!;
}

function all(el: XmlElement, name: string): XmlElement[] {
  return el.children.flatMap((c) => (c.name === name ? [c, ...all(c, name)] : all(c, name)));
}

describe('JunitReporter', () => {
  const reporter = new JunitReporter();

  it('has one testsuite per suite, one testcase per case, one failure per unmet criterion', () => {
    const report = makeReport({ passed: false, simulated: true, deviceName: HOSTILE_NAME });
    const root = parseXml(reporter.render(report));
    expect(root.name).toBe('testsuites');
    const suites = all(root, 'testsuite');
    expect(suites.map((s) => s.attributes.name)).toEqual(['latency', 'dropouts & <glitches>', 'fidelity']);
    const cases = all(root, 'testcase');
    expect(cases).toHaveLength(report.cases.length);
    expect(cases[0]!.attributes).toEqual({ classname: 'loopcheck.latency', name: 'repeat 1', time: '1.235' });
    const failures = all(root, 'failure');
    expect(failures).toHaveLength(FAILING_UNMET_CRITERIA);
    expect(failures.map((f) => f.attributes.type)).toEqual(['maxLatencyMs', 'maxDropouts']);
    expect(failures[0]!.text).toContain('measured: 120.5');
    expect(root.attributes.tests).toBe(String(report.cases.length));
    expect(root.attributes.failures).toBe(String(FAILING_UNMET_CRITERIA));
    expect(root.attributes.errors).toBe('0');
    expect(root.attributes.time).toBe('70.123');
    expect(suites.map((s) => s.attributes.failures)).toEqual(['1', '1', '0']);
  });

  it('escapes <>&"\' and replaces XML-forbidden control characters in attributes and properties', () => {
    const xml = reporter.render(makeReport({ passed: false, simulated: true, deviceName: HOSTILE_NAME }));
    expect(xml).not.toContain('<img');
    expect(xml).not.toContain('\u0007');
    expect(xml).toContain('&lt;img src=x onerror=alert(1)&gt; &quot;Speakers&quot; &amp; &apos;Co&apos; \\u0007');
    const props = all(parseXml(xml), 'property');
    const get = (name: string) => props.find((p) => p.attributes.name === name)?.attributes.value;
    expect(get('device')).toBe(`<img src=x onerror=alert(1)> "Speakers" & 'Co' \\u0007`);
    expect(get('backend')).toBe('virtual');
    expect(get('simulated')).toBe('true');
    expect(get('version')).toBe('0.1.0');
  });

  it('passing report: no failures; interrupted run: an error test case', () => {
    const pass = parseXml(reporter.render(makeReport({ passed: true })));
    expect(all(pass, 'failure')).toHaveLength(0);
    expect(pass.attributes.failures).toBe('0');
    const cut = parseXml(reporter.render(makeReport({ passed: true, interrupted: true })));
    const errors = all(cut, 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.attributes.message).toBe('INTERRUPTED — partial report: stopped by SIGINT <Ctrl-C>');
    expect(cut.attributes.errors).toBe('1');
  });

  it('reports a run-level unmet criterion that no case carries', () => {
    const report = makeReport({ passed: true });
    report.passed = false;
    report.summary.snrDbMin = 40; // below minSnrDb 60, but no case failure says so
    const root = parseXml(reporter.render(report));
    const failures = all(root, 'failure');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.attributes.type).toBe('minSnrDb');
    expect(all(root, 'testsuite').at(-1)!.attributes.name).toBe('criteria');
  });
});

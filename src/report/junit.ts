/**
 * junit.xml: one <testsuite> per suite name (in first-seen order), one <testcase classname="loopcheck.<suite>">
 * per case, one <failure type="<criterion>"> per unmet criterion (`error` criteria become <error>).
 * Run-level problems get their own suites so a FAIL is never green in CI: `run` (interrupted / error) and
 * `criteria` (a criterion the summary misses that no case reported).
 * Counts follow JUnit semantics: `failures`/`errors` count test cases, not <failure> elements.
 * Every attribute and text is escaped (including code points XML 1.0 forbids).
 */
import type { CaseFailure } from '../harness/types.js';
import { criteriaRows } from './criteria.js';
import { escapeXml, escapeXmlAttr } from './escape.js';
import { formatValue } from './format.js';
import type { Report, Reporter } from './types.js';

interface JunitCase {
  classname: string;
  name: string;
  timeSeconds: number;
  failures: CaseFailure[];
  errors: CaseFailure[];
}

function seconds(ms: number): string {
  return Number.isFinite(ms) && ms > 0 ? (ms / 1000).toFixed(3) : '0.000';
}

function failureDetails(f: CaseFailure): string {
  const lines = [f.message];
  if (f.measured !== undefined) lines.push(`measured: ${f.measured === null ? 'n/a' : String(f.measured)}`);
  if (f.limit !== undefined) lines.push(`limit: ${String(f.limit)}`);
  return lines.join('\n');
}

function failureElement(tag: 'failure' | 'error', f: CaseFailure): string {
  return `      <${tag} message="${escapeXmlAttr(f.message)}" type="${escapeXmlAttr(f.criterion)}">${escapeXml(failureDetails(f))}</${tag}>\n`;
}

function testcaseElement(c: JunitCase): string {
  const open = `    <testcase classname="${escapeXmlAttr(c.classname)}" name="${escapeXmlAttr(c.name)}" time="${(c.timeSeconds).toFixed(3)}"`;
  if (c.failures.length === 0 && c.errors.length === 0) return `${open}/>\n`;
  return `${open}>\n${c.failures.map((f) => failureElement('failure', f)).join('')}${c.errors.map((f) => failureElement('error', f)).join('')}    </testcase>\n`;
}

function propertiesElement(report: Report): string {
  const props: [string, string][] = [
    ['backend', report.backend],
    ['device', report.device.name],
    ['device.id', report.device.id],
    ['simulated', String(report.simulated)],
    ['interrupted', String(report.interrupted)],
    ['version', report.version],
    ['format', `${report.format.sampleRate} Hz, ${report.format.channels} ch, ${report.format.sampleFormat}, buffer ${report.format.bufferMs} ms`],
  ];
  return `    <properties>\n${props.map(([k, v]) => `      <property name="${escapeXmlAttr(k)}" value="${escapeXmlAttr(v)}"/>\n`).join('')}    </properties>\n`;
}

/** Group cases into suites, adding the synthetic `run` and `criteria` suites when needed. */
function collectSuites(report: Report): Map<string, JunitCase[]> {
  const suites = new Map<string, JunitCase[]>();
  const add = (suite: string, c: JunitCase) => {
    const list = suites.get(suite) ?? [];
    list.push(c);
    suites.set(suite, list);
  };
  for (const c of report.cases) {
    add(c.suite, {
      classname: `loopcheck.${c.suite}`,
      name: c.name,
      timeSeconds: Number(seconds(c.durationMs)),
      failures: c.failures.filter((f) => f.criterion !== 'error'),
      errors: c.failures.filter((f) => f.criterion === 'error'),
    });
  }
  if (report.interrupted || report.error) {
    const message = `${report.interrupted ? 'INTERRUPTED — partial report' : 'run error'}${report.error ? `: ${report.error}` : ''}`;
    add('run', { classname: 'loopcheck.run', name: 'run', timeSeconds: 0, failures: [], errors: [{ criterion: 'error', message }] });
  }
  for (const row of criteriaRows(report)) {
    const reportedByCase = report.cases.some((c) => c.failures.some((f) => f.criterion === row.key));
    if (row.status !== 'fail' || reportedByCase) continue;
    const message = `${row.label}: measured ${formatValue(row.measured, row.unit)}, limit ${row.comparator} ${formatValue(row.limit, row.unit)}`;
    const failure: CaseFailure = { criterion: row.key, message, measured: row.measured, limit: row.limit };
    add('criteria', { classname: 'loopcheck.criteria', name: row.key, timeSeconds: 0, failures: [failure], errors: [] });
  }
  return suites;
}

export class JunitReporter implements Reporter {
  readonly name = 'junit';
  readonly fileName = 'junit.xml';

  render(report: Report): string {
    const suites = collectSuites(report);
    let tests = 0;
    let failures = 0;
    let errors = 0;
    let body = '';
    for (const [suite, cases] of suites) {
      const f = cases.filter((c) => c.failures.length > 0 && c.errors.length === 0).length;
      const e = cases.filter((c) => c.errors.length > 0).length;
      const time = cases.reduce((s, c) => s + c.timeSeconds, 0);
      tests += cases.length;
      failures += f;
      errors += e;
      body +=
        `  <testsuite name="${escapeXmlAttr(suite)}" tests="${cases.length}" failures="${f}" errors="${e}" skipped="0"` +
        ` time="${time.toFixed(3)}" timestamp="${escapeXmlAttr(report.startedAt)}" hostname="${escapeXmlAttr(report.environment.hostname)}">\n` +
        propertiesElement(report) +
        cases.map(testcaseElement).join('') +
        '  </testsuite>\n';
    }
    return (
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<testsuites name="loopcheck" tests="${tests}" failures="${failures}" errors="${errors}" time="${seconds(report.durationMs)}" timestamp="${escapeXmlAttr(report.startedAt)}">\n` +
      body +
      '</testsuites>\n'
    );
  }
}

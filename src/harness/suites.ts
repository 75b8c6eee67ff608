/** Suite definitions: validation at definition time and selection by name. */
import { LoopcheckError } from '../errors.js';
import type { SuiteDefinition } from './types.js';

const METRICS = new Set(['latency', 'dropouts', 'gain', 'snr', 'thdn', 'drift', 'frequencyResponse', 'impulseResponse']);

/** Declares a suite; checks the declaration so a broken suite fails at load, not mid-run. */
export function defineSuite(suite: SuiteDefinition): SuiteDefinition {
  if (!/^[a-z][a-z0-9-]*$/.test(suite.name)) throw new LoopcheckError('INTERNAL', `suite name "${suite.name}" must be kebab-case`);
  if (!Number.isInteger(suite.repeats) || suite.repeats < 1) throw new LoopcheckError('INTERNAL', `suite ${suite.name}: repeats must be ≥ 1`);
  for (const m of suite.metrics) if (!METRICS.has(m)) throw new LoopcheckError('INTERNAL', `suite ${suite.name}: unknown metric ${m}`);
  return Object.freeze({ ...suite });
}

/** Picks suites by name (all when `names` is empty); unknown names are a usage error listing the valid ones. */
export function selectSuites(all: readonly SuiteDefinition[], names: readonly string[] = []): SuiteDefinition[] {
  if (names.length === 0) return [...all];
  const byName = new Map(all.map((s) => [s.name, s]));
  return names.map((n) => {
    const s = byName.get(n);
    if (!s) {
      throw new LoopcheckError('INVALID_ARGUMENT', `unknown suite "${n.slice(0, 60)}"`, {
        hint: `valid suites: ${all.map((x) => x.name).join(', ')}`,
      });
    }
    return s;
  });
}

/** The built-in suites, in the order `verify` runs them. */
import latency from './latency.suite.js';
import dropouts from './dropouts.suite.js';
import fidelity from './fidelity.suite.js';
import type { SuiteDefinition } from '../src/harness/types.js';

export const BUILTIN_SUITES: readonly SuiteDefinition[] = [latency, dropouts, fidelity];

import { defineSuite } from '../src/harness/suites.js';
import { steadyStimulus } from '../src/signals/verification.js';

/** Dropouts: a steady stimulus with no silent stretch (10 s, --duration to lengthen); gaps, zero-fills, clicks. */
export default defineSuite({
  name: 'dropouts',
  description: 'gaps, zero-fills and clicks in a continuous stimulus (10 s; --duration S to lengthen)',
  signal: (sampleRate, { durationSeconds }) => steadyStimulus(sampleRate, durationSeconds ?? 10),
  repeats: 1,
  metrics: ['dropouts', 'latency', 'drift', 'gain', 'snr'],
  criteria: ['maxDropouts', 'maxLatencyMs', 'maxDriftPpm', 'maxOverruns'],
});

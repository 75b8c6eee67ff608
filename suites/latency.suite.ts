import { defineSuite } from '../src/harness/suites.js';
import { verificationStimulus } from '../src/signals/verification.js';

/** Write→delivery latency: the composite stimulus (broadband start) played 5 times, each aligned sub-sample. */
export default defineSuite({
  name: 'latency',
  description: 'write→delivery latency of the composite stimulus, 5 repeats (max judged)',
  signal: (sampleRate) => verificationStimulus(sampleRate),
  repeats: 5,
  metrics: ['latency'],
  criteria: ['maxLatencyMs', 'maxCaptureBufferMsP99'],
});

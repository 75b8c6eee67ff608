import { defineSuite } from '../src/harness/suites.js';
import { verificationStimulus } from '../src/signals/verification.js';

/** Fidelity: frequency and impulse response from the sweep, THD+N at 997 Hz, SNR and gain. */
export default defineSuite({
  name: 'fidelity',
  description: 'frequency response, impulse response, THD+N at 997 Hz, SNR and gain',
  signal: (sampleRate) => verificationStimulus(sampleRate),
  repeats: 1,
  metrics: ['gain', 'snr', 'thdn', 'frequencyResponse', 'impulseResponse'],
  criteria: ['minSnrDb', 'maxGainErrorDb', 'maxThdnDb'],
});

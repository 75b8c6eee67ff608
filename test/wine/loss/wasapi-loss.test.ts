/**
 * The endpoint disappears under a running capture: Wine's render endpoint is PulseAudio's sink, and the host
 * agent (scripts/ci/wine/test.sh) unloads it. Runs after every other WASAPI test (vitest project
 * `wasapi-loss`, groupOrder 3): the sink does not come back within this Wine session. On a real Windows
 * runner there is no agent, so this file reports why it skipped — or fails with LOOPCHECK_REQUIRE_REAL_AUDIO=1.
 */
import { describe, expect, it } from 'vitest';
import { getBackend } from '../../../src/backends/index.js';
import { LoopcheckError } from '../../../src/errors.js';
import { collect } from '../../support/loopback.js';
import { strict } from '../../support/require.js';
import { hostAction, hostAgent } from '../host-agent.js';

const agent = hostAgent();
if (!agent) {
  const why = 'no host agent to remove the endpoint (LOOPCHECK_WINE_AGENT): run through npm run test:wine';
  if (strict) throw new Error(why);
  process.stderr.write(`[wasapi-loss] skipped: ${why}\n`);
}

describe.runIf(agent)('wasapi: the endpoint disappears mid-capture', () => {
  it('ends the capture with DEVICE_LOST naming AUDCLNT_E_DEVICE_INVALIDATED, keeping the chunks before it', async () => {
    const backend = await getBackend('wasapi');
    const session = await backend.openLoopback({ bufferMs: 20 });
    const cap = collect(session);
    await session.wait(300);
    const before = cap.chunks.length;
    expect(before).toBeGreaterThan(0);
    const r = await hostAction('unload-sink');
    expect(r.code, r.output).toBe(0);
    // The capture must end by itself (a hang guard, not a speed assertion: the recipe saw ~10 ms).
    const ended = await Promise.race([cap.done.then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), 10_000))]);
    expect(ended, 'the capture did not end within 10 s of the sink disappearing').toBe(true);
    const err = cap.error();
    expect(err).toBeInstanceOf(LoopcheckError);
    expect((err as LoopcheckError).code).toBe('DEVICE_LOST');
    expect((err as LoopcheckError).osCode).toBe(0x88890004);
    expect((err as LoopcheckError).message).toContain('AUDCLNT_E_DEVICE_INVALIDATED (0x88890004)');
    expect(cap.chunks.length).toBeGreaterThanOrEqual(before);
    await session.close();
  });
});

/**
 * Bounded property-based fuzzing (fast-check, fixed seed so a failure reproduces): the v2 JSON, binary
 * and raw-binary request decoders, and the embedded `infer` argument handling. Every input is accepted
 * with consistent tensors that survive a response round trip, or rejected with a 4xx ServalError; no
 * crash, no hang. The long run is `npm run fuzz` (bench/fuzz/main.ts).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DECODER_CASES, embeddedInferProperty } from '../bench/fuzz/properties.js';
import { buildScalarIo } from '../src/model-generator/onnx/scalar-io.js';
import { Runtime } from '../src/index.js';
import { generatedRepo } from './helpers/generated-repo.js';

const SEED = 20261125;

describe('fuzz: v2 request decoders', () => {
  it.each(DECODER_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    fc.assert(fc.property(c.arb, c.check), { seed: SEED, numRuns: 1000 });
  });
});

describe('fuzz: embedded infer arguments', () => {
  const repo = generatedRepo({ scalar_io: { onnx: buildScalarIo() } });
  let rt: Runtime;
  beforeAll(async () => { rt = await Runtime.open({ modelRepository: repo.root }); });
  afterAll(async () => { await rt?.close(); repo.cleanup(); });

  it('scalar_io: exact outputs or a 4xx ServalError', async () => {
    const tally = { accepted: 0, rejected: 0 };
    await fc.assert(embeddedInferProperty(rt, tally), { seed: SEED, numRuns: 250 });
    // The generator is useful only if both sides are exercised.
    expect(tally.accepted).toBeGreaterThan(25);
    expect(tally.rejected).toBeGreaterThan(25);
  });
});

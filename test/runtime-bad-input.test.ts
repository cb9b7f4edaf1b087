// Bad input to the embedded API: each case rejects with a ServalError whose code says why, and the
// message names the offending model/input/dtype/shape. Other requests are unaffected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, Runtime, ServalError } from '../src/index.js';
import { BUNDLED_REPOSITORY } from '../src/model-generator/generate.js';
import { rejected } from './helpers/caught.js';

const features = (n = 1) => ({ data: new Float32Array(128 * n), dims: [n, 128] });

describe('bad input', () => {
  let rt: Runtime;
  beforeAll(async () => { rt = await Runtime.open({ modelRepository: BUNDLED_REPOSITORY, loadModels: ['fraud_mlp', 'tabular_mixed'] }); });
  afterAll(async () => { await rt.close(); });

  const cases: [string, () => Promise<unknown>, string, RegExp][] = [
    ['unknown model', () => rt.infer('nope', {}), 'UNKNOWN_MODEL', /nope/],
    ['unknown version', () => rt.infer('fraud_mlp', { features: features() }, { version: 9 }), 'UNKNOWN_MODEL', /version 9/],
    ['missing input', () => rt.infer('fraud_mlp', {}), 'INVALID_INPUT', /missing input 'features'/],
    ['unexpected input', () => rt.infer('fraud_mlp', { features: features(), extra: features() }), 'INVALID_INPUT', /unexpected input 'extra'/],
    ['wrong rank', () => rt.infer('fraud_mlp', { features: { data: new Float32Array(128), dims: [128] } }), 'INVALID_INPUT', /shape \[128\], expected \[-1,128\]/],
    ['wrong width', () => rt.infer('fraud_mlp', { features: { data: new Float32Array(64), dims: [1, 64] } }), 'INVALID_INPUT', /expected \[-1,128\]/],
    ['wrong dtype array', () => rt.infer('fraud_mlp', { features: { data: new Float64Array(128), dims: [1, 128] } }), 'INVALID_INPUT', /FP32.*Float32Array/],
    ['declared dtype mismatch', () => rt.infer('fraud_mlp', { features: { type: 'FP64', data: new Float32Array(128), dims: [1, 128] } }), 'INVALID_INPUT', /datatype FP64, expected FP32/],
    ['element count mismatch', () => rt.infer('fraud_mlp', { features: { data: new Float32Array(100), dims: [1, 128] } }), 'INVALID_INPUT', /100 elements/],
    ['batch over max', () => rt.infer('fraud_mlp', { features: features(257) }), 'INVALID_INPUT', /batch size 257/],
    ['zero batch', () => rt.infer('fraud_mlp', { features: { data: new Float32Array(0), dims: [0, 128] } }), 'INVALID_INPUT', /batch size 0/],
    ['negative dim', () => rt.infer('fraud_mlp', { features: { data: new Float32Array(128), dims: [-1, 128] } }), 'INVALID_INPUT', /non-negative integers/],
    ['inputs not an object', () => rt.infer('fraud_mlp', null as never), 'INVALID_INPUT', /must be an object/],
    ['tensor not an object', () => rt.infer('fraud_mlp', { features: 5 as never }), 'INVALID_INPUT', /must be a tensor/],
    ['strings for numbers', () => rt.infer('fraud_mlp', { features: { data: ['a'] as never, dims: [1, 1] } }), 'INVALID_INPUT', /shape/],
    ['numbers for strings', () => rt.infer('tabular_mixed', {
      ids: { data: new BigInt64Array(4), dims: [1, 4] }, flags: { data: new Uint8Array(4), dims: [1, 4] },
      text: { data: new Uint8Array(1) as never, dims: [1, 1] } }), 'INVALID_INPUT', /BYTES.*array of strings/],
    ['NUL in a string', () => rt.infer('tabular_mixed', {
      ids: { data: new BigInt64Array(4), dims: [1, 4] }, flags: { data: new Uint8Array(4), dims: [1, 4] },
      text: { data: ['a\u0000b'], dims: [1, 1] } }), 'INVALID_INPUT', /NUL/],
    ['batch sizes disagree', () => rt.infer('tabular_mixed', {
      ids: { data: new BigInt64Array(8), dims: [2, 4] }, flags: { data: new Uint8Array(4), dims: [1, 4] },
      text: { data: ['a', 'b'], dims: [2, 1] } }), 'INVALID_INPUT', /disagree on the batch size/],
    ['unknown output', () => rt.infer('fraud_mlp', { features: features() }, { outputs: ['nope'] }), 'INVALID_INPUT', /unknown output 'nope'/],
    ['output requested twice', () => rt.infer('fraud_mlp', { features: features() }, { outputs: ['probability', 'probability'] }), 'INVALID_INPUT', /output 'probability' of model 'fraud_mlp' is requested more than once/],
    ['negative priority', () => rt.infer('fraud_mlp', { features: features() }, { priority: -1 }), 'INVALID_ARGUMENT', /priority/],
    ['bad timeout', () => rt.infer('fraud_mlp', { features: features() }, { timeoutMs: Number.NaN }), 'INVALID_ARGUMENT', /timeoutMs/],
    ['priority beyond uint32', () => rt.infer('fraud_mlp', { features: features() }, { priority: 2 ** 32 + 1 }), 'INVALID_ARGUMENT', /priority must be an integer in \[0, 4294967295\], got 4294967297/],
    ['fractional priority', () => rt.infer('fraud_mlp', { features: features() }, { priority: 1.5 }), 'INVALID_ARGUMENT', /priority/],
    ['timeout beyond 2^53 ns', () => rt.infer('fraud_mlp', { features: features() }, { timeoutMs: 1e13 }), 'INVALID_ARGUMENT', /timeoutMs must be a number in \[0, 9007199254\]/],
    ['signal that is not an AbortSignal', () => rt.infer('fraud_mlp', { features: features() }, { signal: {} as AbortSignal }), 'INVALID_ARGUMENT', /signal must be an AbortSignal/],
    ['infinite timeout', () => rt.infer('fraud_mlp', { features: features() }, { timeoutMs: Infinity }), 'INVALID_ARGUMENT', /timeoutMs/],
  ];

  for (const [name, call, code, message] of cases) {
    it(`${name} → ${code}`, async () => {
      const err = await rejected(call());
      expect(err).toBeInstanceOf(ServalError);
      expect(err.code).toBe(code);
      expect(err.message).toMatch(message);
    });
  }

  it('errors are typed subclasses', async () => {
    const err = await rejected(rt.infer('fraud_mlp', {}));
    expect(err).toBeInstanceOf(InvalidInputError);
  });

  it('bad requests do not harm concurrent good ones', async () => {
    const good = Array.from({ length: 50 }, () => rt.infer('fraud_mlp', { features: features() }));
    const bad = Array.from({ length: 50 }, () => rt.infer('fraud_mlp', { features: { data: new Float32Array(3), dims: [1, 3] } }).catch((e) => e));
    await expect(Promise.all(good)).resolves.toHaveLength(50);
    for (const e of await Promise.all(bad)) expect(e.code).toBe('INVALID_INPUT');
  });
});

describe('bad options to Runtime.open', () => {
  it('rejects an unknown policy with INVALID_ARGUMENT', async () => {
    const err = await rejected(Runtime.open({ modelRepository: BUNDLED_REPOSITORY, policy: 'fastest' as never }));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(/fastest/);
  });

  it('rejects a missing repository with INVALID_ARGUMENT', async () => {
    const err = await rejected(Runtime.open({ modelRepository: '/nonexistent/serval-repo' }));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(/does not exist/);
  });

  it('rejects path traversal in model names', async () => {
    const rt = await Runtime.open({ modelRepository: BUNDLED_REPOSITORY, loadModels: 'none' });
    try {
      const err = await rejected(rt.loadModel('../etc'));
      expect(err.code).toBe('INVALID_ARGUMENT');
    } finally {
      await rt.close();
    }
  });
});

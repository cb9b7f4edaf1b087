import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures, generateModels, MODEL_NAMES } from '../src/model-generator/generate.js';
import { modelInfoFromSession } from '../src/repository/autocomplete.js';
import { ModelRepository } from '../src/repository/repository.js';

let out: string;
const sessions = new Map<string, ort.InferenceSession>();

async function session(name: string): Promise<ort.InferenceSession> {
  let s = sessions.get(name);
  if (!s) {
    s = await ort.InferenceSession.create(join(out, name, '1', 'model.onnx'), { intraOpNumThreads: 1 });
    sessions.set(name, s);
  }
  return s;
}

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'serval-models-'));
  generateModels(out);
  generateFixtures(out);
});

afterAll(async () => {
  for (const s of sessions.values()) await s.release();
  rmSync(out, { recursive: true, force: true });
});

describe('model generator', () => {
  it('knows the bundled models and the fixtures', () => {
    expect(MODEL_NAMES).toEqual([
      'fraud_mlp', 'fraud_mlp_s1', 'fraud_mlp_s2', 'fraud_mlp_s3', 'image_cnn', 'tabular_mixed', 'identity_all_types', 'slow_identity',
    ]);
  });

  it('is deterministic and leaves identical files alone', () => {
    const again = generateModels(out, MODEL_NAMES);
    expect(again.map((m) => m.changed)).toEqual(MODEL_NAMES.map(() => false));
    for (const m of again) expect(readFileSync(m.path).length).toBe(m.bytes);
  });

  it('copies the committed config.pbtxt next to each model written elsewhere, so the output is a repository', async () => {
    const entries = await new ModelRepository(out).list();
    expect(entries.map((e) => [e.name, e.versions, e.configPath !== undefined])).toEqual([
      ['fraud_mlp', [1], true], ['fraud_mlp_s1', [1], true], ['fraud_mlp_s2', [1], true], ['fraud_mlp_s3', [1], true],
      ['identity_all_types', [1], false], ['image_cnn', [1], true],
      ['slow_identity', [1], true], ['tabular_mixed', [1], true],
    ]);
  });

  it('rejects an unknown model name', () => {
    expect(() => generateModels(out, ['nope'])).toThrow(/unknown model 'nope'/);
  });
});

describe('generated models', () => {
  it.each(MODEL_NAMES)('%s agrees with its config.pbtxt (auto-complete accepts it)', async (name) => {
    const model = await new ModelRepository(out).resolve(name, async () => modelInfoFromSession(await session(name)));
    expect(model.versions).toEqual([1]);
    expect(model.config.input.length).toBeGreaterThan(0);
  });

  it('fraud_mlp gives a probability per row', async () => {
    const s = await session('fraud_mlp');
    const features = new Float32Array(4 * 128).map((_, i) => Math.sin(i));
    const { probability } = await s.run({ features: new ort.Tensor('float32', features, [4, 128]) });
    expect(probability!.dims).toEqual([4, 1]);
    for (const p of probability!.data as Float32Array) expect(p > 0 && p < 1).toBe(true);
  });

  it('image_cnn gives logits and probabilities that sum to 1', async () => {
    const s = await session('image_cnn');
    const image = new Float32Array(2 * 3 * 32 * 32).map((_, i) => Math.cos(i));
    const { logits, probabilities } = await s.run({ image: new ort.Tensor('float32', image, [2, 3, 32, 32]) });
    expect(logits!.dims).toEqual([2, 10]);
    const p = probabilities!.data as Float32Array;
    expect(p.slice(0, 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('tabular_mixed sums ids, ors flags and passes text through', async () => {
    const s = await session('tabular_mixed');
    const r = await s.run({
      ids: new ort.Tensor('int64', BigInt64Array.from([1n, 2n, 3n, 4n, -5n, 0n, 0n, 5n]), [2, 4]),
      flags: new ort.Tensor('bool', Uint8Array.from([0, 0, 0, 0, 0, 1, 0, 0]), [2, 4]),
      text: new ort.Tensor('string', ['héllo', ''], [2, 1]),
    });
    expect([...(r.id_sum!.data as BigInt64Array)]).toEqual([10n, 0n]);
    expect([...(r.any_flag!.data as Uint8Array)]).toEqual([0, 1]);
    expect(r.text_out!.data).toEqual(['héllo', '']);
  });

  it('identity_all_types copies every type', async () => {
    const s = await session('identity_all_types');
    const feeds: Record<string, ort.Tensor> = {
      in_bool: new ort.Tensor('bool', Uint8Array.from([1, 0, 1]), [1, 3]),
      in_uint8: new ort.Tensor('uint8', Uint8Array.from([1, 2, 255]), [1, 3]),
      in_uint16: new ort.Tensor('uint16', Uint16Array.from([1, 2, 65535]), [1, 3]),
      in_uint32: new ort.Tensor('uint32', Uint32Array.from([1, 2, 4294967295]), [1, 3]),
      in_uint64: new ort.Tensor('uint64', BigUint64Array.from([1n, 2n, 2n ** 64n - 1n]), [1, 3]),
      in_int8: new ort.Tensor('int8', Int8Array.from([1, -2, -128]), [1, 3]),
      in_int16: new ort.Tensor('int16', Int16Array.from([1, -2, -32768]), [1, 3]),
      in_int32: new ort.Tensor('int32', Int32Array.from([1, -2, -(2 ** 31)]), [1, 3]),
      in_int64: new ort.Tensor('int64', BigInt64Array.from([1n, -2n, -(2n ** 63n)]), [1, 3]),
      in_fp16: new ort.Tensor('float16', Uint16Array.from([0x3c00, 0x4000, 0xc200]), [1, 3]),
      in_fp32: new ort.Tensor('float32', Float32Array.from([1.5, -2, 3]), [1, 3]),
      in_fp64: new ort.Tensor('float64', Float64Array.from([1.5, -2, 1e300]), [1, 3]),
      in_bytes: new ort.Tensor('string', ['a', '', 'ü'], [1, 3]),
    };
    const r = await s.run(feeds);
    for (const [name, tensor] of Object.entries(feeds)) {
      const outName = name.replace(/^in_/, 'out_');
      expect(r[outName]!.type).toBe(tensor.type);
      expect(r[outName]!.data).toEqual(tensor.data);
    }
  });

  it('slow_identity returns its input', async () => {
    const s = await session('slow_identity');
    const x = Float32Array.from([1, -2, 3.5, 4, 5, 6, 7, 8]);
    const { y } = await s.run({ x: new ort.Tensor('float32', x, [2, 4]) });
    expect(y!.dims).toEqual([2, 4]);
    expect(y!.data).toEqual(x);
  });
});

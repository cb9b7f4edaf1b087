// Outputs of serval equal those of onnxruntime-node run directly, for every bundled model and every
// tensor type onnxruntime supports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { Runtime } from '../src/index.js';
import { BUNDLED_REPOSITORY, FIXTURE_REPOSITORY } from '../src/model-generator/generate.js';
import { modelFile } from './helpers/temp-repo.js';

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

async function direct(file: string, feeds: Record<string, ort.Tensor>) {
  const session = await ort.InferenceSession.create(file);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

describe('bundled models match onnxruntime-node', () => {
  let rt: Runtime;
  beforeAll(async () => { rt = await Runtime.open({ modelRepository: BUNDLED_REPOSITORY }); });
  afterAll(async () => { await rt.close(); });

  it('fraud_mlp: batched concurrent requests equal direct single runs', async () => {
    const rand = seeded(1);
    const inputs = Array.from({ length: 40 }, () => Float32Array.from({ length: 128 }, () => rand() * 2 - 1));
    const outs = await Promise.all(inputs.map((x) => rt.infer('fraud_mlp', { features: { data: x, dims: [1, 128] } })));
    const stacked = new Float32Array(40 * 128);
    inputs.forEach((x, i) => stacked.set(x, i * 128));
    const ref = await direct(modelFile('fraud_mlp'), { features: new ort.Tensor('float32', stacked, [40, 128]) });
    const refData = ref.probability!.data as Float32Array;
    outs.forEach((o, i) => {
      expect(o.probability!.type).toBe('FP32');
      expect(o.probability!.dims).toEqual([1, 1]);
      expect((o.probability!.data as Float32Array)[0]).toBeCloseTo(refData[i]!, 5);
    });
  });

  it('image_cnn: multi-row request equals direct run', async () => {
    const rand = seeded(2);
    const x = Float32Array.from({ length: 3 * 3 * 32 * 32 }, () => rand());
    const out = await rt.infer('image_cnn', { image: { data: x, dims: [3, 3, 32, 32] } });
    const ref = await direct(modelFile('image_cnn'), { image: new ort.Tensor('float32', x, [3, 3, 32, 32]) });
    for (const name of Object.keys(ref)) {
      expect(out[name]!.dims).toEqual([...ref[name]!.dims]);
      const a = out[name]!.data as Float32Array;
      const b = ref[name]!.data as Float32Array;
      a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 5));
    }
  });

  it('tabular_mixed: INT64, BOOL and STRING inputs and outputs', async () => {
    const out = await rt.infer('tabular_mixed', {
      ids: { data: new BigInt64Array([1n, 2n, 3n, 4n, 10n, 20n, 30n, -5n]), dims: [2, 4] },
      flags: { data: new Uint8Array([0, 0, 0, 0, 0, 1, 0, 0]), dims: [2, 4] },
      text: { data: ['héllo', ''], dims: [2, 1] },
    });
    expect(out.id_sum).toEqual({ type: 'INT64', dims: [2, 1], data: new BigInt64Array([10n, 55n]) });
    expect(out.any_flag).toEqual({ type: 'BOOL', dims: [2, 1], data: new Uint8Array([0, 1]) });
    expect(out.text_out).toEqual({ type: 'BYTES', dims: [2, 1], data: ['héllo', ''] });
  });

  it('accepts onnxruntime-node Tensors as inputs', async () => {
    const x = new Float32Array(128).fill(0.25);
    const a = await rt.infer('fraud_mlp', { features: new ort.Tensor('float32', x, [1, 128]) });
    const b = await rt.infer('fraud_mlp', { features: { data: x, dims: [1, 128] } });
    expect(a.probability!.data).toEqual(b.probability!.data);
  });

  it('returns only the requested outputs', async () => {
    const x = new Float32Array(3 * 32 * 32);
    const all = await rt.infer('image_cnn', { image: { data: x, dims: [1, 3, 32, 32] } });
    expect(Object.keys(all).length).toBeGreaterThan(1);
    const one = await rt.infer('image_cnn', { image: { data: x, dims: [1, 3, 32, 32] } }, { outputs: ['logits'] });
    expect(Object.keys(one)).toEqual(['logits']);
  });

  it('an empty outputs list returns every output, as no list does', async () => {
    const x = new Float32Array(3 * 32 * 32);
    const all = await rt.infer('image_cnn', { image: { data: x, dims: [1, 3, 32, 32] } });
    const empty = await rt.infer('image_cnn', { image: { data: x, dims: [1, 3, 32, 32] } }, { outputs: [] });
    expect(Object.keys(empty)).toEqual(Object.keys(all));
  });
});

describe('every onnxruntime tensor type round-trips', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await Runtime.open({ modelRepository: FIXTURE_REPOSITORY, loadModels: ['identity_all_types'] });
  });
  afterAll(async () => { await rt.close(); });

  const cases: [string, () => unknown][] = [
    ['bool', () => new Uint8Array([1, 0, 1, 0, 0, 1])],
    ['uint8', () => new Uint8Array([0, 1, 255, 7, 8, 9])],
    ['uint16', () => new Uint16Array([0, 1, 65535, 7, 8, 9])],
    ['uint32', () => new Uint32Array([0, 1, 4294967295, 7, 8, 9])],
    ['uint64', () => new BigUint64Array([0n, 1n, 18446744073709551615n, 7n, 8n, 9n])],
    ['int8', () => new Int8Array([-128, 127, 0, -1, 5, 6])],
    ['int16', () => new Int16Array([-32768, 32767, 0, -1, 5, 6])],
    ['int32', () => new Int32Array([-2147483648, 2147483647, 0, -1, 5, 6])],
    ['int64', () => new BigInt64Array([-9223372036854775808n, 9223372036854775807n, 0n, -1n, 5n, 6n])],
    ['fp16', () => new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x3555])],
    ['fp32', () => new Float32Array([1.5, -2, 3.25, Number.MAX_VALUE > 0 ? 3.4e38 : 0, -0, 1e-40])],
    ['fp64', () => new Float64Array([1.5, -2, Math.PI, 1e308, -0, 5e-324])],
    ['bytes', () => ['', 'a', 'ünïcode ✓', 'x'.repeat(1000), 'tab\tsep', 'last']],
  ];

  it('metadata lists every type', () => {
    const md = rt.metadata('identity_all_types');
    expect(md.inputs.map((i) => i.datatype).sort()).toEqual(
      ['BOOL', 'BYTES', 'FP16', 'FP32', 'FP64', 'INT16', 'INT32', 'INT64', 'INT8', 'UINT16', 'UINT32', 'UINT64', 'UINT8']);
  });

  it('each type comes back unchanged, batched with others', async () => {
    const md = rt.metadata('identity_all_types');
    const suffixes = cases.map(([s]) => s);
    const inputs: Record<string, { data: unknown; dims: number[] }> = {};
    for (const [suffix, make] of cases) inputs[`in_${suffix}`] = { data: make(), dims: [2, 3] };
    expect(Object.keys(inputs).sort()).toEqual(md.inputs.map((i) => i.name).sort());
    const [a, b] = await Promise.all([
      rt.infer('identity_all_types', inputs as never),
      rt.infer('identity_all_types', inputs as never),
    ]);
    for (const suffix of suffixes) {
      const want = inputs[`in_${suffix}`]!.data;
      for (const out of [a!, b!]) {
        const got = out[`out_${suffix}`]!;
        expect(got.dims).toEqual([2, 3]);
        expect(got.data).toEqual(want);
      }
    }
  });

  it('large outputs (32 KiB or more per batch, handed over without a second copy) come back unchanged', async () => {
    // Strings of 6000 characters: 36 KiB of BYTES per request, in the batch's arena; the other outputs stay small.
    const make = (k: number) => ({
      ...Object.fromEntries(cases.map(([suffix, data]) => [`in_${suffix}`, { data: data(), dims: [2, 3] }])),
      in_bytes: { data: Array.from({ length: 6 }, (_, i) => `${k}:${i}:`.padEnd(6000, String.fromCharCode(97 + i + k))), dims: [2, 3] },
    });
    const inputs = [0, 1, 2, 3].map(make);
    const results = await Promise.all(inputs.map((i) => rt.infer('identity_all_types', i as never)));
    results.forEach((r, k) => {
      expect(r.out_bytes!.data).toEqual(inputs[k]!.in_bytes.data);
      expect(r.out_fp64!.data).toEqual(inputs[k]!.in_fp64!.data);
      expect(r.out_int64!.data).toEqual(inputs[k]!.in_int64!.data);
    });
  });
});

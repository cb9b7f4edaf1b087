/**
 * Request inputs generated from model metadata, and the v2 bodies the HTTP target sends: serval's own server
 * decoder reads back exactly what the harness encoded, JSON and binary (the binary tensor extension).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildRequests, type ModelInfo, parseInputDataMode, parseShapeOverride } from '../bench/inputs.js';
import { checkInferResponse, encodeInferRequest, HEADER_LENGTH } from '../bench/protocol/v2-codec.js';
import { Rng } from '../bench/rng.js';
import { decodeInferRequest, encodeInferResponse, parseHeaderLength } from '../src/server/v2-codec.js';

const model: ModelInfo = {
  name: 'mixed',
  inputs: [
    { name: 'features', datatype: 'FP32', shape: [-1, 8] },
    { name: 'ids', datatype: 'INT64', shape: [-1, 4] },
    { name: 'flags', datatype: 'BOOL', shape: [-1, 4] },
    { name: 'text', datatype: 'BYTES', shape: [-1, 1] },
    { name: 'half', datatype: 'FP16', shape: [2, -1] },
  ],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }],
};

describe('generated inputs', () => {
  it('random: one value per element, variable dimensions become 1, seeded', async () => {
    const [first] = await buildRequests(model, { kind: 'random' }, new Rng(3));
    expect(first.map((t) => [t.name, t.datatype, t.shape, t.data.length])).toEqual([
      ['features', 'FP32', [1, 8], 8],
      ['ids', 'INT64', [1, 4], 4],
      ['flags', 'BOOL', [1, 4], 4],
      ['text', 'BYTES', [1, 1], 1],
      ['half', 'FP16', [2, 1], 2],
    ]);
    expect(first[0].data).toBeInstanceOf(Float32Array);
    expect(first[1].data).toBeInstanceOf(BigInt64Array);
    expect([...(first[0].data as Float32Array)].some((v) => v !== 0)).toBe(true);
    const random = { kind: 'random' } as const;
    expect(await buildRequests(model, random, new Rng(3))).toEqual(await buildRequests(model, random, new Rng(3)));
    expect(await buildRequests(model, random, new Rng(4))).not.toEqual(await buildRequests(model, random, new Rng(3)));
  });

  it('zeros and --shape overrides', async () => {
    const shapes = parseShapeOverride('features:4,8');
    const [req] = await buildRequests(model, { kind: 'zeros' }, new Rng(1), { shapes });
    expect(req[0].shape).toEqual([4, 8]);
    expect([...(req[0].data as Float32Array)].every((v) => v === 0)).toBe(true);
    await expect(buildRequests(model, { kind: 'zeros' }, new Rng(1), { shapes: parseShapeOverride('features:4,9') })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('FILE.json in perf_analyzer layout, cycled per request; bad files are INVALID_FILE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-inputs-'));
    const file = join(dir, 'data.json');
    const one = { content: [1, 2, 3, 4, 5, 6, 7, 8], shape: [1, 8] };
    writeFileSync(file, JSON.stringify({ data: [{ x: one }, { x: [[8, 7, 6, 5, 4, 3, 2, 1]] }] }));
    const m: ModelInfo = { name: 'm', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 8] }], outputs: [] };
    const reqs = await buildRequests(m, parseInputDataMode(file), new Rng(1));
    expect(reqs.map((r) => [...(r[0].data as Float32Array)][0])).toEqual([1, 8]);
    writeFileSync(file, JSON.stringify({ data: [{ y: [1] }] }));
    await expect(buildRequests(m, parseInputDataMode(file), new Rng(1))).rejects.toMatchObject({ code: 'INVALID_FILE' });
    writeFileSync(file, JSON.stringify({ data: [{ x: [1, 2] }] }));
    await expect(buildRequests(m, parseInputDataMode(file), new Rng(1))).rejects.toThrow(/2 elements for shape \[1,8\]/);
    expect(() => parseInputDataMode('lots')).toThrow(/--input-data/);
  });
});

describe('v2 bodies', () => {
  it('JSON and binary requests decode, with serval\'s server codec, to the generated tensors', async () => {
    const [req] = await buildRequests(model, { kind: 'random' }, new Rng(9));
    for (const binary of [false, true]) {
      const { body, headers } = encodeInferRequest(req, binary);
      const decoded = decodeInferRequest(body, parseHeaderLength(headers[HEADER_LENGTH], body.length));
      for (const t of req) {
        expect(decoded.inputs[t.name].dims, `${t.name} binary=${binary}`).toEqual(t.shape);
        if (t.datatype === 'FP16') continue; // JSON carries FP16 as numbers: compared through the binary path
        expect(decoded.inputs[t.name].data, `${t.name} binary=${binary}`).toEqual(t.data);
      }
      expect(decoded.plan.binaryDefault).toBe(binary);
      expect(decoded.inputs['half'].data).toEqual(req[4].data);
    }
  });

  it('responses are checked: binary sizes must add up, JSON must have outputs', () => {
    const outputs = { y: { type: 'FP32' as const, dims: [1, 1], data: new Float32Array([0.25]) } };
    for (const binaryDefault of [false, true]) {
      const res = encodeInferResponse('m', 1, outputs, { binaryDefault });
      const length = res.headers['inference-header-content-length'];
      expect(() => checkInferResponse(res.body, length === undefined ? undefined : Number(length))).not.toThrow();
      if (length !== undefined) expect(() => checkInferResponse(res.body.subarray(0, res.body.length - 1), Number(length))).toThrow(/promises/);
    }
    expect(() => checkInferResponse(Buffer.from('{"model_name":"m"}'), undefined)).toThrow(/no "outputs"/);
    expect(() => checkInferResponse(Buffer.from('<html>'), undefined)).toThrow(/not JSON/);
  });
});

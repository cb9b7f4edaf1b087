import { describe, expect, it } from 'vitest';
import type { InferOutputs } from '../src/api-types.js';
import { DATA_TYPES, type DataType } from '../src/dtypes.js';
import { ServalError } from '../src/errors.js';
import {
  decodeInferRequest,
  encodeInferResponse,
  fromHalfBits,
  parseHeaderLength,
  toHalfBits,
} from '../src/server/v2-codec.js';

const json = (obj: unknown): Buffer => Buffer.from(JSON.stringify(obj));

/** A body of the binary data extension: JSON header then segments; returns body and header length. */
function binaryBody(header: unknown, ...segments: Uint8Array[]): { body: Buffer; headerLength: number } {
  const head = json(header);
  return { body: Buffer.concat([head, ...segments]), headerLength: head.byteLength };
}

function expectInvalid(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ServalError);
    expect((err as ServalError).code).toBe('INVALID_INPUT');
    expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected an INVALID_INPUT error');
}

const SAMPLES: Record<DataType, unknown[]> = {
  BOOL: [true, false, true, false],
  UINT8: [0, 1, 254, 255],
  UINT16: [0, 1, 65534, 65535],
  UINT32: [0, 1, 4294967294, 4294967295],
  UINT64: [0, 1, 2 ** 40, Number.MAX_SAFE_INTEGER],
  INT8: [-128, -1, 0, 127],
  INT16: [-32768, -1, 0, 32767],
  INT32: [-2147483648, -1, 0, 2147483647],
  INT64: [-(2 ** 50), -1, 0, 2 ** 50],
  FP16: [0, -2, 0.5, 65504],
  FP32: [0, -1.5, 0.25, 1e10],
  FP64: [0, -1.5, Math.PI, 1e300],
  BYTES: ['a', '', 'héllo', 'x y'],
};

describe('fp16 conversion', () => {
  it('round-trips exactly representable values', () => {
    for (const v of [0, 1, -1, 0.5, 2 ** -14, 2 ** -24, 65504, -65504, 1.5, 3.140625]) {
      expect(fromHalfBits(toHalfBits(v))).toBe(v);
    }
  });
  it('encodes known bit patterns', () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(2 ** -24)).toBe(0x0001);
    expect(toHalfBits(-0)).toBe(0x8000);
  });
  it('rounds to nearest even, overflows to infinity and keeps NaN', () => {
    expect(fromHalfBits(toHalfBits(1 + 2 ** -11))).toBe(1); // halfway, rounds to even
    expect(fromHalfBits(toHalfBits(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
    expect(fromHalfBits(toHalfBits(70000))).toBe(Infinity);
    expect(fromHalfBits(toHalfBits(-Infinity))).toBe(-Infinity);
    expect(Number.isNaN(fromHalfBits(toHalfBits(NaN)))).toBe(true);
    expect(fromHalfBits(toHalfBits(2 ** -26))).toBe(0);
    expect(fromHalfBits(toHalfBits(0.1))).toBeCloseTo(0.1, 3);
  });
});

describe('decodeInferRequest: JSON tensors', () => {
  it.each(DATA_TYPES)('decodes %s from flat and nested data', (type) => {
    const flat = SAMPLES[type];
    const nested = [flat.slice(0, 2), flat.slice(2)];
    for (const data of [flat, nested]) {
      const { inputs } = decodeInferRequest(json({ inputs: [{ name: 'x', shape: [2, 2], datatype: type, data }] }), undefined);
      const t = inputs['x']!;
      expect(t.type).toBe(type);
      expect(t.dims).toEqual([2, 2]);
      const got = Array.from(t.data as ArrayLike<unknown>);
      if (type === 'BOOL') expect(got).toEqual([1, 0, 1, 0]);
      else if (type === 'INT64' || type === 'UINT64') expect(got).toEqual(flat.map((v) => BigInt(v as number)));
      else if (type === 'FP16') expect(got.map((b) => fromHalfBits(b as number))).toEqual(flat);
      else expect(got).toEqual(flat);
    }
  });

  it('reads id, priority, timeout (µs → ms) and output selection', () => {
    const { options, plan } = decodeInferRequest(
      json({
        id: 'req-7',
        parameters: { priority: 2, timeout: 1500, binary_data_output: true },
        inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }],
        outputs: [{ name: 'a' }, { name: 'b', parameters: { binary_data: false } }],
      }),
      undefined,
    );
    expect(options).toEqual({ priority: 2, timeoutMs: 1.5, outputs: ['a', 'b'] });
    expect(plan).toEqual({ id: 'req-7', binaryDefault: true, outputs: [{ name: 'a', binary: true }, { name: 'b', binary: false }] });
  });

  it('bad input: malformed JSON', () => {
    expectInvalid(() => decodeInferRequest(Buffer.from('{"inputs": ['), undefined), /malformed JSON/);
    expectInvalid(() => decodeInferRequest(Buffer.from('[1]'), undefined), /must be a JSON object/);
  });
  it('bad input: shape and data size disagree', () => {
    expectInvalid(
      () => decodeInferRequest(json({ inputs: [{ name: 'x', shape: [2, 3], datatype: 'FP32', data: [1, 2, 3, 4, 5] }] }), undefined),
      /shape \[2,3\] needs 6 elements, but "data" has 5/,
    );
  });
  it('bad input: negative or fractional dims', () => {
    expectInvalid(() => decodeInferRequest(json({ inputs: [{ name: 'x', shape: [-1], datatype: 'FP32', data: [] }] }), undefined), /non-negative integers/);
    expectInvalid(() => decodeInferRequest(json({ inputs: [{ name: 'x', shape: [1.5], datatype: 'FP32', data: [1] }] }), undefined), /non-negative integers/);
  });
  it('bad input: unknown datatype, missing name, missing inputs, duplicate input', () => {
    expectInvalid(() => decodeInferRequest(json({ inputs: [{ name: 'x', shape: [1], datatype: 'FP8', data: [1] }] }), undefined), /unknown datatype "FP8"/);
    expectInvalid(() => decodeInferRequest(json({ inputs: [{ shape: [1], datatype: 'FP32', data: [1] }] }), undefined), /"name" must be/);
    expectInvalid(() => decodeInferRequest(json({ inputs: [] }), undefined), /non-empty array/);
    const x = { name: 'x', shape: [1], datatype: 'FP32', data: [1] };
    expectInvalid(() => decodeInferRequest(json({ inputs: [x, x] }), undefined), /more than once/);
  });
  it('bad input: element of the wrong kind or out of range', () => {
    const one = (datatype: string, data: unknown[]) => () =>
      decodeInferRequest(json({ inputs: [{ name: 'x', shape: [data.length], datatype, data }] }), undefined);
    expectInvalid(one('UINT8', [256]), /element 0 is 256, expected an integer in \[0, 255\]/);
    expectInvalid(one('INT8', [-129]), /expected an integer in/);
    expectInvalid(one('INT32', [1.5]), /expected an integer/);
    expectInvalid(one('UINT64', [-1]), /expected an integer in \[0, 18446744073709551615\]/);
    expectInvalid(one('FP32', ['1']), /expected a number/);
    expectInvalid(one('BOOL', ['yes']), /true or false/);
    expectInvalid(one('BYTES', [5]), /a string/);
  });
  it('bad input: bad parameters', () => {
    const x = { name: 'x', shape: [1], datatype: 'FP32', data: [1] };
    expectInvalid(() => decodeInferRequest(json({ parameters: { priority: -1 }, inputs: [x] }), undefined), /"priority" must be an integer in \[0, 4294967295\]/);
    expectInvalid(() => decodeInferRequest(json({ parameters: { timeout: 'soon' }, inputs: [x] }), undefined), /"timeout"/);
    expectInvalid(() => decodeInferRequest(json({ id: 5, inputs: [x] }), undefined), /"id" must be a string/);
    expectInvalid(() => decodeInferRequest(json({ inputs: [x], outputs: [{ name: 'y', parameters: { classification: 3 } }] }), undefined), /classification/);
  });
});

describe('decodeInferRequest: binary tensor data extension', () => {
  it('reads segments in input order at unaligned offsets', () => {
    const f = new Float32Array([1.5, -2, 3.25]);
    const i64 = new BigInt64Array([-5n, 2n ** 60n]);
    const header = {
      id: 'x',
      inputs: [
        { name: 'a', shape: [3], datatype: 'FP32', parameters: { binary_data_size: 12 } },
        { name: 'b', shape: [1], datatype: 'INT32', data: [7] },
        { name: 'c', shape: [2], datatype: 'INT64', parameters: { binary_data_size: 16 } },
      ],
    };
    if (json(header).byteLength % 4 === 0) header.id = 'xy';
    const { body, headerLength } = binaryBody(header, new Uint8Array(f.buffer), new Uint8Array(i64.buffer));
    expect(headerLength % 4).not.toBe(0); // the segments really start unaligned
    const { inputs } = decodeInferRequest(body, parseHeaderLength(String(headerLength), body.length));
    expect(Array.from(inputs['a']!.data as Float32Array)).toEqual([1.5, -2, 3.25]);
    expect(Array.from(inputs['b']!.data as Int32Array)).toEqual([7]);
    expect(Array.from(inputs['c']!.data as BigInt64Array)).toEqual([-5n, 2n ** 60n]);
  });

  it('reads BYTES as 4-byte little-endian length-prefixed elements, and BOOL as bytes', () => {
    const strings = ['ab', '', 'é'];
    const enc = Buffer.concat(strings.flatMap((s) => {
      const b = Buffer.from(s);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      return [len, b];
    }));
    const { body, headerLength } = binaryBody(
      {
        inputs: [
          { name: 's', shape: [3], datatype: 'BYTES', parameters: { binary_data_size: enc.length } },
          { name: 'f', shape: [2], datatype: 'BOOL', parameters: { binary_data_size: 2 } },
        ],
      },
      enc,
      Uint8Array.of(1, 0),
    );
    const { inputs } = decodeInferRequest(body, headerLength);
    expect(inputs['s']!.data).toEqual(strings);
    expect(Array.from(inputs['f']!.data as Uint8Array)).toEqual([1, 0]);
  });

  it('bad input: segment sizes that do not match the shape or the body', () => {
    const seg = new Uint8Array(8);
    const mk = (size: number, extra = 0, count = 3) => {
      const { body, headerLength } = binaryBody(
        { inputs: [{ name: 'a', shape: [count], datatype: 'FP32', parameters: { binary_data_size: size } }] },
        seg,
        new Uint8Array(extra),
      );
      return () => decodeInferRequest(body, headerLength);
    };
    expectInvalid(mk(8), /binary_data_size is 8 bytes, but shape and FP32 need 12/);
    expectInvalid(mk(12), /runs past the end/);
    expectInvalid(mk(8, 3, 2), /no input's binary_data_size accounts for/);
  });

  it('bad input: binary_data_size without the header, both data and binary, bad header value', () => {
    const input = { name: 'a', shape: [1], datatype: 'FP32', parameters: { binary_data_size: 4 } };
    expectInvalid(() => decodeInferRequest(json({ inputs: [input] }), undefined), /no Inference-Header-Content-Length/);
    const { body, headerLength } = binaryBody({ inputs: [{ ...input, data: [1] }] }, new Uint8Array(4));
    expectInvalid(() => decodeInferRequest(body, headerLength), /both "data" and binary_data_size/);
    expectInvalid(() => parseHeaderLength('12abc', 100), /must be a byte count/);
    expectInvalid(() => parseHeaderLength('101', 100), /only 100 bytes/);
    expect(parseHeaderLength(undefined, 10)).toBeUndefined();
  });

  it('bad input: truncated BYTES element', () => {
    const bad = Buffer.from([5, 0, 0, 0, 65, 66]);
    const { body, headerLength } = binaryBody(
      { inputs: [{ name: 's', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: bad.length } }] },
      bad,
    );
    expectInvalid(() => decodeInferRequest(body, headerLength), /claims 5 bytes past the end/);
  });

  it('decodes a raw binary request (header length 0) against the single input', () => {
    const f = new Float32Array([1, 2, 3, 4, 5, 6]);
    const { inputs, plan } = decodeInferRequest(Buffer.from(f.buffer), 0, () => ({ name: 'x', datatype: 'FP32', shape: [-1, 3] }));
    expect(inputs['x']!.dims).toEqual([2, 3]);
    expect(plan.binaryDefault).toBe(true);
    expectInvalid(
      () => decodeInferRequest(Buffer.alloc(8), 0, () => ({ name: 'x', datatype: 'FP32', shape: [-1, 3] })),
      /do not fill shape/,
    );
  });
});

describe('encodeInferResponse', () => {
  const outputs: InferOutputs = {
    prob: { type: 'FP32', dims: [2, 1], data: new Float32Array([0.5, 0.25]) },
    big: { type: 'INT64', dims: [1], data: new BigInt64Array([2n ** 62n + 1n]) },
    half: { type: 'FP16', dims: [1], data: Uint16Array.of(0x3c00) },
    flag: { type: 'BOOL', dims: [2], data: Uint8Array.of(1, 0) },
    label: { type: 'BYTES', dims: [2], data: ['yes', 'né'] },
  };

  it('writes all outputs as JSON by default, INT64 digit for digit, and echoes the id', () => {
    const { headers, body } = encodeInferResponse('m', 3, outputs, { id: 'r1', binaryDefault: false });
    expect(headers['content-type']).toBe('application/json');
    const text = body.toString();
    expect(text).toContain('"data":[4611686018427387905]');
    const res = JSON.parse(text);
    expect(res).toMatchObject({ model_name: 'm', model_version: '3', id: 'r1' });
    expect(res.outputs.map((o: { name: string }) => o.name)).toEqual(['prob', 'big', 'half', 'flag', 'label']);
    expect(res.outputs[0]).toEqual({ name: 'prob', datatype: 'FP32', shape: [2, 1], data: [0.5, 0.25] });
    expect(res.outputs[2].data).toEqual([1]);
    expect(res.outputs[3].data).toEqual([true, false]);
    expect(res.outputs[4].data).toEqual(['yes', 'né']);
  });

  it('omits id when the request had none and keeps the requested order and subset', () => {
    const { body } = encodeInferResponse('m', 1, outputs, { binaryDefault: false, outputs: [{ name: 'label', binary: false }, { name: 'prob', binary: false }] });
    const res = JSON.parse(body.toString());
    expect(res.id).toBeUndefined();
    expect(res.outputs.map((o: { name: string }) => o.name)).toEqual(['label', 'prob']);
  });

  it('writes binary outputs after the JSON header with Inference-Header-Content-Length', () => {
    const { headers, body } = encodeInferResponse('m', 1, outputs, {
      binaryDefault: true,
      outputs: [{ name: 'prob', binary: true }, { name: 'flag', binary: false }, { name: 'label', binary: true }],
    });
    expect(headers['content-type']).toBe('application/octet-stream');
    const n = Number(headers['inference-header-content-length']);
    const head = JSON.parse(body.subarray(0, n).toString());
    expect(head.outputs[0]).toEqual({ name: 'prob', datatype: 'FP32', shape: [2, 1], parameters: { binary_data_size: 8 } });
    expect(head.outputs[1].data).toEqual([true, false]);
    const rest = body.subarray(n);
    const prob = new Float32Array(rest.buffer.slice(rest.byteOffset, rest.byteOffset + 8));
    expect(Array.from(prob)).toEqual([0.5, 0.25]);
    const label = rest.subarray(8);
    expect(head.outputs[2].parameters.binary_data_size).toBe(label.length);
    expect(label.readUInt32LE(0)).toBe(3);
    expect(label.subarray(4, 7).toString()).toBe('yes');
    expect(label.readUInt32LE(7)).toBe(Buffer.byteLength('né'));
  });

  it.each(DATA_TYPES)('%s survives encode → binary → decode', (type) => {
    const { inputs } = decodeInferRequest(json({ inputs: [{ name: 'x', shape: [4], datatype: type, data: SAMPLES[type] }] }), undefined);
    const t = inputs['x']!;
    const { headers, body } = encodeInferResponse('m', 1, { x: { type, dims: [4], data: t.data } }, { binaryDefault: true });
    const n = Number(headers['inference-header-content-length']);
    const head = JSON.parse(body.subarray(0, n).toString());
    const size = head.outputs[0].parameters.binary_data_size;
    const back = binaryBody({ inputs: [{ name: 'x', shape: [4], datatype: type, parameters: { binary_data_size: size } }] }, body.subarray(n));
    expect(decodeInferRequest(back.body, back.headerLength).inputs['x']!.data).toEqual(t.data);
  });
});

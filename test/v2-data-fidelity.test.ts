/**
 * Data fidelity of the v2 request decoder, JSON and binary-header paths: INT64/UINT64 literals read from
 * their digits (never through a double), nested `data` checked level by level against the shape, float
 * literals beyond the type's range rejected, `"outputs": []` meaning every output, and request parameters
 * bounded to what the core holds. Every bad input is an INVALID_INPUT error (HTTP 400).
 */
import { describe, expect, it } from 'vitest';
import { decodeInferRequest } from '../src/server/v2-codec.js';
import { parseJsonExact, JsonInteger } from '../src/server/v2-json.js';
import { caught } from './helpers/caught.js';

/** Decodes `request` twice: as a JSON body, and as the JSON header of a binary-extension body. */
function bothPaths(request: string): ReturnType<typeof decodeInferRequest>[] {
  const body = Buffer.from(request);
  return [decodeInferRequest(body, undefined), decodeInferRequest(body, body.byteLength)];
}

function invalidOnBothPaths(request: string, message: RegExp): void {
  const body = Buffer.from(request);
  for (const headerLength of [undefined, body.byteLength]) {
    const err = caught(() => decodeInferRequest(body, headerLength));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toMatch(message);
  }
}

const tensor = (datatype: string, shape: unknown, data: string) =>
  `{"inputs":[{"name":"x","datatype":"${datatype}","shape":${JSON.stringify(shape)},"data":${data}}]}`;

describe('exact INT64 / UINT64 in JSON', () => {
  it('reads 2^53+1, the INT64 extremes and the UINT64 maximum digit for digit', () => {
    for (const d of bothPaths(tensor('INT64', [4], '[9007199254740993, 9223372036854775807, -9223372036854775808, -9007199254740993]'))) {
      expect(Array.from(d.inputs['x']!.data as BigInt64Array)).toEqual(
        [9007199254740993n, 9223372036854775807n, -9223372036854775808n, -9007199254740993n]);
    }
    for (const d of bothPaths(tensor('UINT64', [2], '[18446744073709551615, 9007199254740993]'))) {
      expect(Array.from(d.inputs['x']!.data as BigUint64Array)).toEqual([18446744073709551615n, 9007199254740993n]);
    }
  });

  it('bad input: out-of-range 64-bit literals', () => {
    invalidOnBothPaths(tensor('INT64', [1], '[9223372036854775808]'), /element 0 is "9223372036854775808", expected an integer in \[-9223372036854775808, 9223372036854775807\]/);
    invalidOnBothPaths(tensor('INT64', [1], '[-9223372036854775809]'), /expected an integer in/);
    invalidOnBothPaths(tensor('UINT64', [1], '[18446744073709551616]'), /expected an integer in \[0, 18446744073709551615\]/);
    invalidOnBothPaths(tensor('UINT64', [1], '[-1]'), /expected an integer in/);
    invalidOnBothPaths(tensor('INT64', [1], '[1.5]'), /expected an integer/);
  });

  it('bad input: long literals for narrower integer types and BOOL', () => {
    invalidOnBothPaths(tensor('INT32', [1], '[9007199254740993]'), /expected an integer in \[-2147483648, 2147483647\]/);
    invalidOnBothPaths(tensor('UINT32', [1], '[4294967296]'), /expected an integer in \[0, 4294967295\]/);
    invalidOnBothPaths(tensor('BOOL', [1], '[2]'), /true or false/);
    invalidOnBothPaths(tensor('BOOL', [1], '[10000000000000001]'), /true or false/);
  });

  it('long literals still read as numbers for float types', () => {
    for (const d of bothPaths(tensor('FP64', [2], '[9007199254740993, 12345678901234567890]'))) {
      expect(Array.from(d.inputs['x']!.data as Float64Array)).toEqual([9007199254740992, 12345678901234567000]);
    }
  });

  it('an INT64 input beyond 2^53 next to other tensors and parameters: all read as the exact parser reads them', () => {
    const text = '{"id":"r1","parameters":{"priority":2},"inputs":[{"name":"f","datatype":"FP32","shape":[2],"data":[0.1,1e-7]},' +
      '{"name":"i","datatype":"INT64","shape":[1],"data":[-9007199254740993]},{"name":"s","datatype":"BYTES","shape":[1],"data":["12345678901234567"]}]}';
    for (const d of bothPaths(text)) {
      expect(d.plan.id).toBe('r1');
      expect(d.options.priority).toBe(2);
      expect(d.inputs['f']!.data).toEqual(new Float32Array([0.1, 1e-7]));
      expect(d.inputs['i']!.data).toEqual(new BigInt64Array([-9007199254740993n]));
      expect(d.inputs['s']!.data).toEqual(['12345678901234567']);
    }
  });

  it('an INT64 literal in float form (1e16) reads as the number it denotes', () => {
    for (const d of bothPaths(tensor('INT64', [2], '[1e16, 9.007199254740993e15]'))) {
      expect(Array.from(d.inputs['x']!.data as BigInt64Array)).toEqual([10000000000000000n, 9007199254740992n]);
    }
  });

  it('keeps digits inside strings, fractions and exponents as they are', () => {
    const text = '{"id":"12345678901234567890","a":0.30000000000000004,"b":1.1234567890123456789,"c":1e-1234567890123456,' +
      '"d":"say \\"9007199254740993\\"","e":[9007199254740993]}';
    const v = parseJsonExact(text) as Record<string, unknown>;
    expect(v['id']).toBe('12345678901234567890');
    expect(v['a']).toBe(0.30000000000000004);
    expect(v['b']).toBe(1.1234567890123457);
    expect(v['c']).toBe(0);
    expect(v['d']).toBe('say "9007199254740993"');
    expect(v['e']).toEqual([new JsonInteger('9007199254740993')]);
  });

  it('a client string that looks like a rewritten literal stays a string', () => {
    const v = parseJsonExact('{"s":"\\u0001#5","t":"\\u0001","n":[1234567890123456]}') as Record<string, unknown>;
    expect(v).toEqual({ s: '\u0001#5', t: '\u0001', n: [new JsonInteger('1234567890123456')] });
  });

  it('bad input: malformed JSON with a long literal is reported at its position in the client text', () => {
    const err = caught(() => decodeInferRequest(Buffer.from('{"inputs": [12345678901234567890,]}'), undefined));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toMatch(/malformed JSON in request body/);
  });
});

describe('nested data follows the shape', () => {
  it('accepts flat and fully nested data', () => {
    for (const data of ['[1,2,3,4,5,6]', '[[1,2,3],[4,5,6]]']) {
      for (const d of bothPaths(tensor('FP32', [2, 3], data))) expect(Array.from(d.inputs['x']!.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it('bad input: ragged or mis-nested data, even when the total matches', () => {
    const row = (n: number) => `[${Array.from({ length: n }, () => 0).join(',')}]`;
    invalidOnBothPaths(tensor('FP32', [1, 128], `[${row(64)},${row(63)},${row(1)}]`), /"data" does not follow shape \[1,128\]: expected an array of 1 elements, found 3/);
    invalidOnBothPaths(tensor('FP32', [2, 3], '[[1,2],[3,4,5,6]]'), /"data"\[0\] does not follow shape \[2,3\]: expected an array of 3 elements, found 2/);
    invalidOnBothPaths(tensor('FP32', [2, 2], '[[1,2],3]'), /"data"\[1\] does not follow shape \[2,2\]: expected an array of 2 elements, found a value/);
    invalidOnBothPaths(tensor('FP32', [2], '[[1],[2]]'), /"data"\[0\] does not follow shape \[2\]: expected a value, found an array/);
  });
});

describe('deeply nested data', () => {
  const deep = (depth: number, leaf: string) =>
    tensor('FP32', Array(depth).fill(1), `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`);
  it('bad input: a value nested 200000 deep in any field is a 400 with a short message', () => {
    const deepObject = '{"a":'.repeat(200_000) + '1' + '}'.repeat(200_000);
    invalidOnBothPaths(tensor('FP32', [1], `[${deepObject}]`), /element 0 is an object, expected a number for FP32/);
    invalidOnBothPaths(tensor(deepObject as never, [1], '[1]').replace(`"${deepObject}"`, deepObject), /unknown datatype an object/);
    invalidOnBothPaths(`{"parameters":{"priority":${deepObject}},"inputs":[]}`, /"priority" must be an integer in \[0, 4294967295\], got an object/);
    // 2^53+1 sends the body to the exact parser, whose reviver meets the deep value.
    invalidOnBothPaths(tensor('INT64', [2], `[9007199254740993,${deepObject}]`), /./);
  });

  it('200000 levels decode without recursion', () => {
    for (const d of bothPaths(deep(200_000, '7'))) expect(Array.from(d.inputs['x']!.data as Float32Array)).toEqual([7]);
  });
  it('bad input: one level too many, 200000 deep, is a 400 with a short message (not a stack overflow)', () => {
    invalidOnBothPaths(deep(200_000, '[7]'), /"data"\[0\]\[0\]\[0\]\[0\]\[0\]\[0\]\[0\]\[0\]\.\.\. does not follow shape \[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,\.\.\. \(200000 dimensions\)\]: expected a value, found an array$/);
  });
});

describe('float literals within the type range', () => {
  it('bad input: beyond FP32, FP16 and FP64 range (never a silent Infinity)', () => {
    invalidOnBothPaths(tensor('FP32', [2], '[1, 1e39]'), /element 1 is 1e\+39, expected a number within ±3.40282346638528\d*e\+38 for FP32/);
    invalidOnBothPaths(tensor('FP32', [1], '[-3.5e38]'), /FP32/);
    invalidOnBothPaths(tensor('FP16', [1], '[65520]'), /within ±65504 for FP16/);
    invalidOnBothPaths(tensor('FP64', [1], '[1e400]'), /element 0 is null, expected a number within/);
  });

  it('accepts the largest finite values and rounds within range', () => {
    for (const d of bothPaths(tensor('FP32', [2], '[3.4028234663852886e38, 1e-50]'))) {
      expect(Array.from(d.inputs['x']!.data as Float32Array)).toEqual([3.4028234663852886e38, 0]);
    }
    for (const d of bothPaths(tensor('FP16', [1], '[65504]'))) expect(Array.from(d.inputs['x']!.data as Uint16Array)).toEqual([0x7bff]);
  });
});

describe('rank-0 (scalar) tensors', () => {
  it('shape [] takes one element, flat or bare', () => {
    for (const data of ['[7]', '7']) {
      for (const d of bothPaths(tensor('INT64', [], data))) expect(d.inputs['x']).toEqual({ type: 'INT64', dims: [], data: new BigInt64Array([7n]) });
    }
    invalidOnBothPaths(tensor('INT64', [], '[1,2]'), /shape \[\] needs 1 elements, but "data" has 2/);
  });
});

describe('"outputs": [] means every output', () => {
  it('no output list is passed on, as when "outputs" is absent', () => {
    for (const d of bothPaths('{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}],"outputs":[]}')) {
      expect(d.options.outputs).toBeUndefined();
      expect(d.plan.outputs).toBeUndefined();
    }
  });
});

describe('request parameters the core can hold', () => {
  const withParams = (p: string) => `{"parameters":${p},"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]}`;
  it('accepts the uint32 maximum priority', () => {
    for (const d of bothPaths(withParams('{"priority":4294967295,"timeout":5000}'))) expect(d.options).toMatchObject({ priority: 4294967295, timeoutMs: 5 });
  });
  it('bad input: priority beyond uint32, fractional or huge; timeout beyond 2^53 ns', () => {
    invalidOnBothPaths(withParams('{"priority":4294967297}'), /"priority" must be an integer in \[0, 4294967295\], got 4294967297/);
    invalidOnBothPaths(withParams('{"priority":1.5}'), /"priority"/);
    invalidOnBothPaths(withParams('{"priority":18446744073709551617}'), /"priority" must be an integer in \[0, 4294967295\], got 18446744073709552000/);
    invalidOnBothPaths(withParams('{"timeout":9007199254741000}'), /"timeout" must be an integer in \[0, 9007199254000\]/);
  });
});

/**
 * fast-check generators for the fuzz suite: v2 inference request bodies (JSON, binary data extension, raw
 * binary) built to be nearly valid, then bent (wrong types, shapes, sizes, 64-bit literals, ragged nesting,
 * byte flips), and embedded `infer` arguments (typed arrays on shared, resizable and detached memory).
 */
import fc from 'fast-check';
import { DATA_TYPES, dataTypeInfo, type DataType } from '../../src/dtypes.js';

/** A JSON text whose integers may exceed 2^53: bigint leaves are written as their digits. */
export type JsonLike = null | boolean | number | bigint | string | JsonLike[] | { [k: string]: JsonLike };

export function jsonText(v: JsonLike): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? '1e400' : v < 0 ? '-1e400' : 'null';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(jsonText).join(',')}]`;
  return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${jsonText(x)}`).join(',')}}`;
}

const BIG = 2n ** 65n;
/** One scalar a client might put in `data`: in range, at the edges, beyond them, or of the wrong kind. */
export const scalarArb: fc.Arbitrary<JsonLike> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -300, max: 300 }) },
  { weight: 2, arbitrary: fc.bigInt({ min: -BIG, max: BIG }) },
  { weight: 2, arbitrary: fc.constantFrom<JsonLike>(
    9007199254740993n, 9223372036854775807n, 9223372036854775808n, -9223372036854775808n, 18446744073709551615n,
    18446744073709551616n, 4294967295, 4294967296, 65504, 65520, 3.4028234663852886e38, 1e39, -1e39, 1e308, 0.5, -0, 1e-320) },
  { weight: 2, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
  { weight: 1, arbitrary: fc.constant(null) },
);

/** Values of `type` that a correct decoder must accept. */
export function validScalarArb(type: DataType): fc.Arbitrary<JsonLike> {
  switch (type) {
    case 'BOOL': return fc.boolean();
    case 'BYTES': return fc.string({ maxLength: 8, unit: 'grapheme' });
    case 'FP16': return fc.double({ min: -65504, max: 65504, noNaN: true });
    case 'FP32': return fc.float({ noNaN: true, noDefaultInfinity: true }).map((f) => (Object.is(f, -0) ? 0 : f));
    case 'FP64': return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'INT64': return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'UINT64': return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    default: {
      const bits = dataTypeInfo(type).size * 8;
      const signed = type.startsWith('INT');
      return fc.integer({ min: signed ? -(2 ** (bits - 1)) : 0, max: signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1 });
    }
  }
}

export const dataTypeArb: fc.Arbitrary<DataType> = fc.constantFrom(...DATA_TYPES);
export const smallShapeArb = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 4 });
export const anyShapeArb: fc.Arbitrary<JsonLike> = fc.oneof(
  { weight: 5, arbitrary: smallShapeArb },
  { weight: 1, arbitrary: fc.array(fc.oneof(fc.integer(), fc.constantFrom<JsonLike>(-1, 1.5, 2 ** 53, 9007199254740993n, '2', null, 1e300)), { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.constantFrom<JsonLike>(null, 3, 'x', {}) },
);

/** Nests flat `values` by `shape` (row-major); the v2 protocol accepts both forms. */
export function nest(values: JsonLike[], shape: readonly number[]): JsonLike {
  if (shape.length <= 1) return values;
  const [, ...inner] = shape;
  const step = inner.reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0]! }, (_, i) => nest(values.slice(i * step, (i + 1) * step), inner));
}

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A JSON input tensor: well formed (flat or nested) most of the time, otherwise with a defect. */
export const jsonInputArb: fc.Arbitrary<{ [k: string]: JsonLike }> = fc
  .record({ name: fc.oneof({ weight: 9, arbitrary: fc.constantFrom('x', 'y', 'in_fp32') }, { weight: 1, arbitrary: fc.constant('') }), type: dataTypeArb, shape: smallShapeArb, nested: fc.boolean(), defect: fc.nat(9) })
  .chain(({ name, type, shape, nested, defect }) =>
    fc.array(validScalarArb(type), { minLength: count(shape), maxLength: count(shape) }).chain((values): fc.Arbitrary<{ [k: string]: JsonLike }> => {
      const data = nested ? nest(values, shape) : values;
      const good: { [k: string]: JsonLike } = { name, datatype: type, shape, data };
      switch (defect) {
        case 0: return fc.record<{ [k: string]: JsonLike }>({ name: fc.constant(name), datatype: fc.oneof(dataTypeArb, fc.string()), shape: anyShapeArb, data: fc.array(scalarArb, { maxLength: 9 }) });
        case 1: return fc.array(scalarArb, { minLength: 1, maxLength: 4 }).map((extra) => ({ ...good, data: [...values, ...extra] }));
        case 2: return fc.constant({ ...good, data: nested && shape.length > 1 ? nest([...values, 0], [shape[0]!, count(shape.slice(1)) + 1]) : [[values]] });
        case 3: return scalarArb.map((v) => ({ ...good, data: values.length > 0 ? [v, ...values.slice(1)] : [v] }));
        default: return fc.constant(good);
      }
    }));

/** A whole JSON request object. */
export const jsonRequestArb: fc.Arbitrary<{ [k: string]: JsonLike }> = fc.record(
  {
    id: fc.oneof({ weight: 15, arbitrary: fc.string({ maxLength: 8 }) }, { weight: 1, arbitrary: fc.integer() }),
    parameters: fc.record({
      priority: fc.oneof({ weight: 15, arbitrary: fc.nat(10) }, { weight: 1, arbitrary: scalarArb }),
      timeout: fc.oneof({ weight: 15, arbitrary: fc.nat(100000) }, { weight: 1, arbitrary: scalarArb }),
      binary_data_output: fc.oneof({ weight: 15, arbitrary: fc.boolean() }, { weight: 1, arbitrary: scalarArb }),
    }, { requiredKeys: [] }),
    inputs: fc.oneof({ weight: 9, arbitrary: fc.uniqueArray(jsonInputArb, { minLength: 1, maxLength: 3, selector: (i) => i['name'] }) }, { weight: 1, arbitrary: fc.array(jsonInputArb, { maxLength: 3 }) }),
    outputs: fc.array(fc.record({ name: fc.constantFrom('y', 'out_fp32', 'x', ''), parameters: fc.record({ binary_data: fc.oneof(fc.boolean(), scalarArb) }, { requiredKeys: [] }) }, { requiredKeys: ['name'] }), { maxLength: 3 }),
  },
  { requiredKeys: ['inputs'] },
);

/** Byte-level damage applied to a body (none half of the time): flips, cuts and insertions (16+ digit runs included). */
export const damageArb = fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(
  fc.record({ at: fc.nat(), kind: fc.constantFrom('flip', 'cut', 'insert'), text: fc.oneof(fc.constantFrom('"', '\\', '[', ']', '{', ',', '-', '.', 'e', '12345678901234567890', '\\u0001', '\u0001'), fc.string({ maxLength: 3 })) }),
  { minLength: 1, maxLength: 3 },
) });

export function damage(text: string, edits: readonly { at: number; kind: string; text: string }[]): string {
  let out = text;
  for (const e of edits) {
    const at = out.length === 0 ? 0 : e.at % out.length;
    if (e.kind === 'cut') out = out.slice(0, at) + out.slice(at + 1 + (e.text.length % 4));
    else if (e.kind === 'insert') out = out.slice(0, at) + e.text + out.slice(at);
    else out = out.slice(0, at) + String.fromCharCode((out.charCodeAt(at) ^ (1 + e.text.length)) & 0x7f) + out.slice(at + 1);
  }
  return out;
}

/** A binary-extension body: a JSON header with binary_data_size per input, then the segments. */
export const binaryRequestArb: fc.Arbitrary<{ body: Buffer; headerLength: number | undefined }> = fc
  .record({
    inputs: fc.uniqueArray(fc.record({ name: fc.constantFrom('x', 'y', 'z'), type: dataTypeArb, shape: smallShapeArb, sizeSkew: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -5, max: 5 }) }), seed: fc.uint8Array({ maxLength: 64 }) }), { minLength: 1, maxLength: 3, selector: (i) => i.name }),
    headerSkew: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -8, max: 8 }) }),
    trailing: fc.oneof({ weight: 8, arbitrary: fc.constant(new Uint8Array(0)) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 3 }) }),
    parameters: fc.option(fc.record({ priority: fc.oneof({ weight: 4, arbitrary: fc.nat(10) }, { weight: 1, arbitrary: scalarArb }) }, { requiredKeys: [] }), { nil: undefined }),
  })
  .map(({ inputs, headerSkew, trailing, parameters }) => {
    const segments = inputs.map((i) => segmentFor(i.type, i.shape, i.seed));
    const header = Buffer.from(jsonText({
      ...(parameters ? { parameters } : {}),
      inputs: inputs.map((i, k) => ({ name: i.name, datatype: i.type, shape: i.shape, parameters: { binary_data_size: Math.max(0, segments[k]!.byteLength + i.sizeSkew) } })),
    }));
    const body = Buffer.concat([header, ...segments, trailing]);
    const headerLength = header.byteLength + headerSkew;
    return { body, headerLength: headerLength < 0 ? undefined : headerLength };
  });

/** Bytes for `shape` elements of `type` from `seed` (BYTES: length-prefixed strings, sometimes malformed). */
export function segmentFor(type: DataType, shape: readonly number[], seed: Uint8Array): Uint8Array {
  const n = count(shape);
  if (type === 'BYTES') {
    const parts: number[] = [];
    for (let i = 0; i < n; i++) {
      const len = seed.length > 0 ? seed[i % seed.length]! % 5 : 0;
      parts.push(len, 0, 0, 0, ...Array.from({ length: len }, (_, k) => seed.length > 0 ? seed[(i + k) % seed.length]! : 65));
    }
    return Uint8Array.from(parts);
  }
  const out = new Uint8Array(n * dataTypeInfo(type).size);
  for (let i = 0; i < out.length; i++) out[i] = seed.length > 0 ? seed[i % seed.length]! : 0;
  if (type === 'BOOL') for (let i = 0; i < out.length; i++) out[i] = out[i]! & (seed.length > 3 ? 0xff : 1);
  return out;
}

/**
 * The fuzz suite's properties. Each takes one generated input and throws (a property failure) when serval
 * misbehaves: a thrown error that is not a ServalError with a 4xx code, a decoded tensor whose element count
 * does not match its shape, values that change on a response round trip, or wrong embedded outputs.
 * Used by the bounded run in `npm test` (test/fuzz-inputs.test.ts) and the long run (`npm run fuzz`).
 */
import fc from 'fast-check';
import type { InferOutputs, Tensor, TensorMetadata } from '../../src/api-types.js';
import { dataMatchesType, type DataType, type TensorData } from '../../src/dtypes.js';
import { httpStatusFor, ServalError } from '../../src/errors.js';
import type { Runtime } from '../../src/runtime.js';
import { fromHalfBits } from '../../src/server/fp16.js';
import { decodeInferRequest, encodeInferResponse } from '../../src/server/v2-codec.js';
import {
  binaryRequestArb, damage, damageArb, dataTypeArb, jsonRequestArb, jsonText, nest, segmentFor, smallShapeArb, validScalarArb,
  type JsonLike,
} from './arbitraries.js';
import { toHalfBits } from '../../src/server/fp16.js';

/** Rethrows `err` unless it is a ServalError whose code maps to a 4xx status (a clean rejection). */
function expectClientError(err: unknown, allowed?: readonly string[]): void {
  if (!(err instanceof ServalError)) throw new Error(`not a ServalError: ${String((err as Error)?.stack ?? err)}`);
  const status = httpStatusFor(err.code);
  if (status < 400 || status >= 500 || (allowed && !allowed.includes(err.code))) {
    throw new Error(`rejected with ${err.code} (HTTP ${status}): ${err.message}`);
  }
}

/** Decodes and, when accepted, checks the tensors and their JSON and binary response round trips. */
export function decodeProperty(body: Buffer, headerLength: number | undefined, raw?: () => TensorMetadata): void {
  let inputs: Record<string, Tensor>;
  try {
    inputs = decodeInferRequest(body, headerLength, raw).inputs;
  } catch (err) {
    expectClientError(err, ['INVALID_INPUT']);
    return;
  }
  for (const [name, t] of Object.entries(inputs)) {
    const n = t.dims.reduce((a, b) => a * b, 1);
    if (!dataMatchesType(t.type!, t.data) || t.data.length !== n) {
      throw new Error(`input ${name}: ${t.type} ${JSON.stringify(t.dims)} decoded to ${t.data.length} elements of ${t.data.constructor.name}`);
    }
  }
  roundTrip(inputs, false);
  roundTrip(inputs, true);
}

/** Encodes `inputs` as a response (JSON or binary), reads it back as a request, and compares every value. */
function roundTrip(inputs: Record<string, Tensor>, binary: boolean): void {
  const outputs: InferOutputs = {};
  for (const [name, t] of Object.entries(inputs)) {
    // Non-finite floats have no JSON form (they encode as null): only the binary form carries them.
    if (!binary && !allFinite(t.type!, t.data)) return;
    outputs[name] = { type: t.type!, dims: [...t.dims], data: t.data };
  }
  if (Object.keys(outputs).length === 0) return;
  const encoded = encodeInferResponse('m', 1, outputs, { binaryDefault: binary });
  const body = typeof encoded.body === 'string' ? Buffer.from(encoded.body) : encoded.body;
  const headerLength = Number(encoded.headers['inference-header-content-length'] ?? body.byteLength);
  const header = body.subarray(0, headerLength).toString('utf8').replace('"outputs":[', '"inputs":[');
  const rebuilt = Buffer.concat([Buffer.from(header), body.subarray(headerLength)]);
  const back = decodeInferRequest(rebuilt, binary ? Buffer.byteLength(header) : undefined).inputs;
  for (const [name, t] of Object.entries(inputs)) {
    const b = back[name];
    if (!b || b.type !== t.type || JSON.stringify(b.dims) !== JSON.stringify(t.dims) || !sameValues(t.type!, t.data, b.data)) {
      throw new Error(`${binary ? 'binary' : 'JSON'} round trip changed ${name} (${t.type})`);
    }
  }
}

function allFinite(type: DataType, data: TensorData): boolean {
  if (type === 'FP16') return Array.from(data as Uint16Array).every((b) => (b & 0x7c00) !== 0x7c00);
  if (type === 'FP32' || type === 'FP64') return Array.from(data as Float32Array).every(Number.isFinite);
  return true;
}

function sameValues(type: DataType, a: TensorData, b: TensorData): boolean {
  if (a.length !== b.length) return false;
  const same = (x: number, y: number) => x === y || (Number.isNaN(x) && Number.isNaN(y));
  for (let i = 0; i < a.length; i++) {
    const ok = type === 'FP16' ? same(fromHalfBits(a[i] as number), fromHalfBits(b[i] as number))
      : type === 'FP32' || type === 'FP64' ? same(a[i] as number, b[i] as number)
      : a[i] === b[i];
    if (!ok) return false;
  }
  return true;
}

/** JSON request bodies: generated requests, sometimes damaged byte by byte, or plain random text. */
export const jsonBodyArb = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(jsonRequestArb, damageArb).map(([req, edits]) => damage(jsonText(req), edits)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
);

/**
 * A decoder property: generated input and the check it must pass. Kept apart (not an `fc.property`) so the
 * long run can time every input (a hang is an input that takes longer than a second).
 */
export interface DecoderCase<T> {
  name: string;
  arb: fc.Arbitrary<T>;
  check: (input: T) => void;
}

const jsonBodyCase: DecoderCase<[string, boolean]> = {
  name: 'JSON bodies and JSON headers',
  arb: fc.tuple(jsonBodyArb, fc.boolean()),
  check: ([text, asHeader]) => {
    const body = Buffer.from(text);
    decodeProperty(body, asHeader ? body.byteLength : undefined);
  },
};

/** The value a decoder must produce for a valid JSON literal `v` of `type` (the oracle). */
function expected(type: DataType, literal: JsonLike): unknown {
  const v = literal === 0 ? 0 : literal; // jsonText writes -0 as 0
  switch (type) {
    case 'BOOL': return v ? 1 : 0;
    case 'FP16': return toHalfBits(v as number);
    case 'FP32': return Math.fround(v as number);
    case 'INT64': case 'UINT64': return BigInt(v as bigint);
    default: return v;
  }
}

/** Valid JSON tensors of every type, flat or nested: decoded values equal the literals (INT64 digits exact). */
const validJsonTensorCase: DecoderCase<{ type: DataType; shape: number[]; nested: boolean; values: JsonLike[] }> = {
  name: 'valid JSON tensors decode to exactly their literals',
  arb: dataTypeArb.chain((type) => fc.record({
    type: fc.constant(type),
    shape: smallShapeArb,
    nested: fc.boolean(),
  }).chain((t) => fc.array(validScalarArb(type), { minLength: t.shape.reduce((a, b) => a * b, 1), maxLength: t.shape.reduce((a, b) => a * b, 1) })
    .map((values) => ({ ...t, values })))),
  check: ({ type, shape, nested, values }) => {
    const text = jsonText({ inputs: [{ name: 'x', datatype: type, shape, data: nested ? nest(values, shape) : values }] });
    const t = decodeInferRequest(Buffer.from(text), undefined).inputs['x']!;
    const got = Array.from(t.data as ArrayLike<unknown>);
    const want = values.map((v) => expected(type, v));
    if (got.length !== want.length || got.some((g, i) => g !== want[i] && !(Number.isNaN(g) && Number.isNaN(want[i])))) {
      throw new Error(`${type} ${JSON.stringify(shape)}: decoded ${got.map(String)} from ${text}`);
    }
    decodeProperty(Buffer.from(text), undefined);
  },
};

const binaryBodyCase: DecoderCase<{ body: Buffer; headerLength: number | undefined }> = {
  name: 'binary data extension bodies',
  arb: binaryRequestArb,
  check: ({ body, headerLength }) => decodeProperty(body, headerLength),
};

/** A raw binary body (Inference-Header-Content-Length: 0) for a model with one input. */
const rawBodyCase: DecoderCase<[DataType, number[], Uint8Array, number[] | null]> = {
  name: 'raw binary bodies',
  arb: fc.tuple(dataTypeArb, fc.array(fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant(-1)), { maxLength: 4 }),
    fc.uint8Array({ maxLength: 64 }), fc.oneof(smallShapeArb, fc.constant(null))),
  check: ([type, shape, bytes, fill]) => {
    const body = Buffer.from(fill ? segmentFor(type, fill, bytes) : bytes);
    decodeProperty(body, 0, () => ({ name: 'x', datatype: type, shape }));
  },
};

/** Every decoder property, for the bounded run and the long run. */
export const DECODER_CASES: readonly DecoderCase<never>[] = [jsonBodyCase, validJsonTensorCase, binaryBodyCase, rawBodyCase] as never;

// ---- embedded infer ------------------------------------------------------------------------------------

type Ctor = new (n: number | ArrayBufferLike, offset?: number, length?: number) => ArrayBufferView & { length: number; fill(v: never): unknown; set(a: ArrayLike<never>): void };
const CTORS: Ctor[] = [Float32Array, Float64Array, Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, BigInt64Array, BigUint64Array] as unknown as Ctor[];

type Memory = 'plain' | 'shared' | 'resizable' | 'tracking' | 'detached';

// Node 20 has resizable ArrayBuffers; TypeScript's ES2022 lib does not declare the options argument.
const ResizableArrayBuffer = ArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => ArrayBuffer;

/** A typed array of `ctor` holding `values` on the given kind of memory. */
function typedArray(ctor: Ctor, values: readonly number[], memory: Memory): ArrayBufferView & { length: number } {
  const bytes = values.length * (ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const big = ctor === (BigInt64Array as unknown) || ctor === (BigUint64Array as unknown);
  const buffer = memory === 'shared' ? new SharedArrayBuffer(bytes)
    : memory === 'resizable' || memory === 'tracking' ? new ResizableArrayBuffer(bytes, { maxByteLength: bytes + 64 })
    : new ArrayBuffer(bytes);
  const view = memory === 'tracking' ? new ctor(buffer) : new ctor(buffer, 0, values.length);
  view.set((big ? values.map((v) => BigInt(Math.trunc(v))) : values) as never);
  if (memory === 'detached') structuredClone(buffer, { transfer: [buffer as ArrayBuffer] });
  return view;
}

/** Right after the call: the caller writes, shrinks or transfers its memory (serval copied it during the call). */
function disturb(view: ArrayBufferView, memory: Memory): void {
  if (memory === 'shared') new Uint8Array(view.buffer).fill(0xff);
  if (memory === 'resizable' || memory === 'tracking') (view.buffer as ArrayBuffer & { resize(n: number): void }).resize(0);
  if (memory === 'plain') new Uint8Array(structuredClone(view.buffer, { transfer: [view.buffer as ArrayBuffer] })).fill(0xff);
}

const memoryArb = fc.constantFrom<Memory>('plain', 'plain', 'shared', 'resizable', 'tracking', 'detached');
const floatArb = fc.float({ min: -1000, max: 1000, noNaN: true }).map(Math.fround);

/** A scalar_io request (offset [] + values [3] → shifted, total; count [] → count_out), valid or bent once. */
const scalarRequestArb = fc.record({
  offset: floatArb, values: fc.array(floatArb, { minLength: 3, maxLength: 3 }), count: fc.integer(),
  memory: memoryArb, bend: fc.nat(12), junk: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null), fc.constant(undefined), fc.array(fc.integer({ min: -2, max: 4 }), { maxLength: 3 })),
  ctor: fc.constantFrom(...CTORS),
  priority: fc.oneof({ weight: 6, arbitrary: fc.oneof(fc.constant(undefined), fc.nat(4)) }, { weight: 1, arbitrary: fc.oneof(fc.double(), fc.constant(2 ** 32 + 1)) }),
  timeoutMs: fc.oneof({ weight: 6, arbitrary: fc.oneof(fc.constant(undefined), fc.nat(1000)) }, { weight: 1, arbitrary: fc.double() }),
  outputs: fc.oneof({ weight: 6, arbitrary: fc.oneof(fc.constant(undefined), fc.subarray(['shifted', 'total', 'count_out'])) }, { weight: 1, arbitrary: fc.oneof(fc.subarray(['shifted', 'nope']), fc.constant(['shifted', 'shifted'])) }),
});

/**
 * Embedded `infer` on the scalar_io model: accepted requests give exactly the outputs onnxruntime computes
 * (shifted = values + offset in float32, total = their sum, count copied), even when the caller writes,
 * shrinks or transfers its memory right after the call; rejected ones are a ServalError with a 4xx code.
 */
export function embeddedInferProperty(rt: Runtime, tally?: { accepted: number; rejected: number }) {
  return fc.asyncProperty(scalarRequestArb, async (r) => {
    const inputs: Record<string, { type?: string; dims: unknown; data: unknown }> = {
      offset: { dims: [], data: typedArray(Float32Array as unknown as Ctor, [r.offset], 'plain') },
      values: { type: 'FP32', dims: [3], data: typedArray(Float32Array as unknown as Ctor, r.values, r.memory) },
      count: { type: 'int64', dims: [], data: new BigInt64Array([BigInt(r.count)]) },
    };
    const v = inputs['values']!;
    switch (r.bend) {
      case 0: v.dims = r.junk; break;
      case 1: v.data = r.junk; break;
      case 2: v.data = typedArray(r.ctor, r.values, r.memory); break;
      case 3: v.type = String(r.junk); break;
      case 4: delete inputs['count']; break;
      case 5: inputs['extra'] = { dims: [1], data: new Float32Array(1) }; break;
      case 6: v.dims = [r.count]; break;
      case 7: inputs['offset']!.dims = [1]; break;
      default: break;
    }
    const options = { priority: r.priority, timeoutMs: r.timeoutMs, outputs: r.outputs } as never;
    const settled = rt.infer('scalar_io', inputs as never, options).then(
      (out) => ({ out }), (err: unknown) => ({ err }));
    if (ArrayBuffer.isView(v.data)) disturb(v.data, r.memory);
    const result = await settled;
    if ('err' in result) {
      // A queue timeout the request asked for is load shedding (503), not a bad-input failure.
      const timedOut = result.err instanceof ServalError && result.err.code === 'TIMEOUT' && (r.timeoutMs ?? 0) > 0;
      if (!timedOut) expectClientError(result.err, ['INVALID_INPUT', 'INVALID_ARGUMENT']);
      if (tally) tally.rejected++;
      return;
    }
    if (tally) tally.accepted++;
    const out = result.out;
    if ([1, 4, 5, 7].includes(r.bend) || r.memory === 'detached') throw new Error(`bend ${r.bend} on ${r.memory} memory was accepted`);
    const want: Record<string, unknown[]> = {
      shifted: r.values.map((x) => Math.fround(x + r.offset)),
      total: [Math.fround(r.values.reduce((a, b) => Math.fround(a + b), 0))],
      count_out: [BigInt(r.count)],
    };
    const names = r.outputs && r.outputs.length > 0 ? r.outputs : Object.keys(want);
    if (JSON.stringify(Object.keys(out).sort()) !== JSON.stringify([...names].sort())) throw new Error(`outputs ${Object.keys(out)} for ${names}`);
    for (const name of names) {
      const got = Array.from(out[name]!.data as ArrayLike<unknown>);
      // ReduceSum may add in another order than left to right: allow float32 rounding on `total`.
      const close = name === 'total' ? Math.abs((got[0] as number) - (want[name]![0] as number)) <= 1e-3 * (1 + Math.abs(want[name]![0] as number))
        : got.every((g, i) => g === want[name]![i]);
      if (!close) throw new Error(`${name}: got ${got.map(String)}, want ${want[name]!.map(String)} (memory ${r.memory})`);
    }
  });
}

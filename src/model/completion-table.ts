/**
 * CompletionTable: the JavaScript half of the request path (issue 10). One per Runtime.
 *
 * A request takes a slot here: its promise's resolve/reject and the names of its model's outputs live in
 * plain arrays indexed by the slot, and the slot number travels through the native core in place of a napi
 * promise. The binding writes a request's numbers into `header` (a Float64Array it reads from memory)
 * instead of taking them as arguments. When requests finish, the binding calls `complete` once per drain
 * with one Float64Array of records and the ArrayBuffers holding the returned outputs: buffer 0 with small
 * outputs copied into it, one more per batch whose outputs are shared without a copy (layout:
 * native/binding/completion_dispatcher.h). A result's typed arrays are views on those buffers, so a result
 * kept alive keeps its buffer alive: the drain's buffer 0, or its batch's whole output arena. The result
 * objects are built here, in JavaScript, where V8 keeps their shapes monomorphic, instead of through one napi
 * call per property.
 *
 * Every slot settles exactly once: by its completion record, by `refuse` (the binding refused it at once),
 * or by `failAll` (the runtime shut down with it outstanding).
 */
import { dataTypeByCode, decodeLengthPrefixed } from '../dtypes.js';
import { errorFromCode, type ServalErrorCode } from '../errors.js';
import type { DataType, InferOutputs, OutputTensor, RequestHandle, TensorData } from '../api-types.js';

/** Where enqueue's numbers go in the header (native/binding/model_wrap.h). */
export const HEADER = { slot: 0, batchSize: 1, priority: 2, timeoutUs: 3, mask: 4, requestId: 5, sloUs: 6, dims: 7 } as const;
/** Doubles in the header: the fixed fields and the ranks and dims of every input. */
export const HEADER_LENGTH = 4096;

type Resolve = (outputs: InferOutputs) => void;
type Reject = (err: Error) => void;

export class CompletionTable {
  readonly header = new Float64Array(HEADER_LENGTH);
  private readonly resolves: (Resolve | undefined)[] = [];
  private readonly rejects: (Reject | undefined)[] = [];
  private readonly names: (readonly string[] | undefined)[] = [];
  private readonly handles: (RequestHandle | undefined)[] = [];
  private readonly free: number[] = [];
  private used = 0;

  constructor(private readonly statusCodes: readonly string[]) {}

  /** Requests taken and not yet settled. */
  get outstanding(): number {
    return this.used;
  }

  /**
   * Takes a slot for a request to a model with outputs `outputNames` and returns it with the request's
   * promise; `handle`, when given, is told where and how long the request ran before it settles.
   */
  open(outputNames: readonly string[], handle?: RequestHandle): { slot: number; promise: Promise<InferOutputs> } {
    const slot = this.free.length > 0 ? this.free.pop()! : this.resolves.length;
    const promise = new Promise<InferOutputs>((resolve, reject) => {
      this.resolves[slot] = resolve;
      this.rejects[slot] = reject;
    });
    this.names[slot] = outputNames;
    this.handles[slot] = handle;
    this.used++;
    return { slot, promise };
  }

  /** Settles `slot` with an error now (the binding refused the request, or it never reached the binding). */
  refuse(slot: number, err: Error): void {
    const reject = this.rejects[slot];
    this.release(slot);
    reject?.(err);
  }

  /** Rejects every outstanding request with `err` (the runtime shut down). */
  failAll(makeError: () => Error): void {
    for (let slot = 0; slot < this.rejects.length; slot++) if (this.rejects[slot]) this.refuse(slot, makeError());
  }

  /** The binding's completion callback: settles every request in `records` (see the header comment). */
  readonly complete = (records: Float64Array, buffers: (ArrayBuffer | undefined)[] | undefined, messages: string[] | undefined): void => {
    let p = 0;
    let m = 0;
    const n = records.length;
    while (p < n) {
      const slot = records[p]!;
      const code = records[p + 1]!;
      const instance = records[p + 2]!;
      const queueUs = records[p + 3]!;
      const computeUs = records[p + 4]!;
      const count = records[p + 5]!;
      p += 6;
      const resolve = this.resolves[slot];
      const reject = this.rejects[slot];
      const names = this.names[slot];
      const handle = this.handles[slot];
      if (resolve === undefined) {
        // Already settled (cannot happen unless the native side reports a slot twice): skip its record.
        for (let k = 0; k < count; k++) p += 6 + records[p + 2]!;
        continue;
      }
      this.release(slot);
      if (handle !== undefined) {
        handle.instance = instance;
        handle.queueUs = queueUs;
        handle.computeUs = computeUs;
        handle.cancel = undefined;
      }
      if (code !== 0) {
        reject!(errorFromCode((this.statusCodes[code] ?? 'INTERNAL') as ServalErrorCode, messages?.[m++] ?? 'request failed'));
        continue;
      }
      const result: InferOutputs = {};
      for (let k = 0; k < count; k++) {
        const index = records[p]!;
        const info = dataTypeByCode(records[p + 1]!);
        const rank = records[p + 2]!;
        const dims = new Array<number>(rank);
        for (let d = 0; d < rank; d++) dims[d] = records[p + 3 + d]!;
        const buffer = buffers?.[records[p + 3 + rank]!];
        const offset = records[p + 4 + rank]!;
        const bytes = records[p + 5 + rank]!;
        p += 6 + rank;
        result[names![index]!] = makeTensor(info?.name ?? 'BYTES', dims, tensorData(info, buffer, offset, bytes, dims));
      }
      resolve(result);
    }
  };

  private release(slot: number): void {
    this.resolves[slot] = undefined;
    this.rejects[slot] = undefined;
    this.names[slot] = undefined;
    this.handles[slot] = undefined;
    this.free.push(slot);
    this.used--;
  }
}

function makeTensor(type: DataType, dims: number[], data: TensorData): OutputTensor {
  return { type, dims, data };
}

function tensorData(info: ReturnType<typeof dataTypeByCode>, buffer: ArrayBuffer | undefined, offset: number, bytes: number, dims: number[]): TensorData {
  const count = dims.reduce((a, b) => a * b, 1);
  if (!info?.array) return decodeLengthPrefixed(buffer ? new Uint8Array(buffer, offset, bytes) : new Uint8Array(0), count);
  if (!buffer) return new info.array(0) as TensorData;
  return new (info.array as Uint8ArrayConstructor)(buffer, offset, bytes / info.size) as TensorData;
}

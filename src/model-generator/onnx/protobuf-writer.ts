/**
 * A minimal protobuf wire-format encoder: just what the ONNX model writer needs (varints, length-delimited
 * fields, fixed32 and packed repeated numbers). Field order is the caller's; nothing is buffered twice.
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const TEXT = new TextEncoder();

export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  /** An int32/int64/uint64/enum/bool field. Negative values take ten bytes (two's complement), as protobuf does. */
  varint(field: number, value: number | bigint | boolean): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(toUint64(value));
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, TEXT.encode(value));
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.rawVarint(BigInt(value.length));
    this.append(value);
    return this;
  }

  /** An embedded message written by `write` into a fresh writer. */
  message(field: number, write: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.append(bytes);
    return this;
  }

  /** A packed `repeated float` field (little-endian fixed32 values in one length-delimited record). */
  packedFloats(field: number, values: ArrayLike<number>): this {
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
    return this.bytes(field, bytes);
  }

  /** A packed `repeated int64` (or int32/uint64/bool) field. */
  packedVarints(field: number, values: ReadonlyArray<number | bigint>): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.rawVarint(toUint64(v));
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(BigInt(field * 8 + wireType));
  }

  private rawVarint(value: bigint): void {
    let v = value;
    while (v >= 0x80n) {
      this.pushByte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.pushByte(Number(v));
  }

  private pushByte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  private append(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}

function toUint64(value: number | bigint | boolean): bigint {
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new RangeError(`varint value ${value} is not a safe integer`);
  }
  return BigInt.asUintN(64, BigInt(value));
}

/**
 * A small protocol-buffers wire-format writer and reader: just what ONNX export needs (varints,
 * 64-bit integers, fixed32/64 floats, length-delimited bytes, nested messages, packed repeated
 * fields). No schema compiler and no dependency: the ONNX field numbers live in `onnx_proto.ts`.
 *
 * The writer collects parts and copies every byte once, in `finish()`: nested messages and large
 * weight blobs are not re-copied at each level of nesting. The reader checks every length
 * against the bytes it has and throws a {@link ProtobufError} instead of reading past them.
 */
import { KilnError } from '@kiln/core';

/** Bytes that are not valid protocol-buffers wire format (truncated, overlong varint, bad wire type). */
export class ProtobufError extends KilnError {}

/** Wire types of the protobuf encoding. */
export const WireType = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

// The packages build without DOM or Node typings; every JavaScript host has TextEncoder.
declare const TextEncoder: new () => { encode(text: string): Uint8Array };
const utf8 = new TextEncoder();
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Writes one protobuf message. Fields are written in call order; a field number may repeat
 * (repeated fields). Integers may be `number` (safe integers, negative ones as two's-complement
 * 64-bit, as protobuf's int64) or `bigint`.
 *
 * @example
 * ```ts
 * const w = new ProtoWriter();
 * w.int(1, 150);
 * w.string(2, 'testing');
 * w.finish(); // 08 96 01 12 07 74 65 73 74 69 6e 67
 * ```
 */
export class ProtoWriter {
  private readonly parts: Uint8Array[] = [];
  private scratch = new Uint8Array(64);
  private used = 0;
  private flushedBytes = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.flushedBytes + this.used;
  }

  /** An int32/int64/enum/bool field (varint). */
  int(field: number, value: number | bigint | boolean): this {
    this.tag(field, WireType.varint);
    this.rawVarint(typeof value === 'boolean' ? (value ? 1n : 0n) : BigInt(checkInteger(value)));
    return this;
  }

  /** A float field (fixed32, IEEE single precision). */
  float(field: number, value: number): this {
    this.tag(field, WireType.fixed32);
    const at = this.reserve(4);
    new DataView(this.scratch.buffer).setFloat32(at, value, true);
    return this;
  }

  /** A double field (fixed64). */
  double(field: number, value: number): this {
    this.tag(field, WireType.fixed64);
    const at = this.reserve(8);
    new DataView(this.scratch.buffer).setFloat64(at, value, true);
    return this;
  }

  /** A string field (UTF-8, length-delimited). */
  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** A bytes field. Large blobs are kept by reference until `finish()`; do not change them before. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WireType.bytes);
    this.rawVarint(BigInt(value.length));
    this.append(value);
    return this;
  }

  /** An embedded message field, written by `build` into a fresh writer. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    this.tag(field, WireType.bytes);
    this.rawVarint(BigInt(inner.length));
    inner.flush();
    for (const p of inner.parts) this.append(p);
    return this;
  }

  /** A packed repeated int32/int64 field (omitted when empty, as protobuf does). */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    if (values.length === 0) return this;
    const inner = new ProtoWriter();
    for (const v of values) inner.rawVarint(BigInt(checkInteger(v)));
    return this.message(field, (w) => w.appendWriter(inner));
  }

  /** A packed repeated float field (fixed32 each; omitted when empty). */
  packedFloats(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const data = new Uint8Array(values.length * 4);
    const view = new DataView(data.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    return this.bytes(field, data);
  }

  /** The encoded message: every part copied once into one array. */
  finish(): Uint8Array {
    this.flush();
    if (this.parts.length === 1) return this.parts[0];
    const out = new Uint8Array(this.flushedBytes);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  private tag(field: number, wire: number): void {
    if (!Number.isInteger(field) || field < 1 || field > 0x1fffffff) throw new ProtobufError(`protobuf: field number ${field} is outside 1..2^29-1`);
    this.rawVarint(BigInt(field) * 8n + BigInt(wire));
  }

  /** A varint; negative values as their 64-bit two's complement (10 bytes), as protobuf's int64. */
  private rawVarint(value: bigint): void {
    let v = value < 0n ? value + (1n << 64n) : value;
    if (v >= 1n << 64n) throw new ProtobufError(`protobuf: ${value} does not fit in 64 bits`);
    const at = this.reserve(10);
    let n = 0;
    do {
      const low = Number(v & 0x7fn);
      v >>= 7n;
      this.scratch[at + n++] = v > 0n ? low | 0x80 : low;
    } while (v > 0n);
    this.used -= 10 - n;
  }

  private reserve(n: number): number {
    if (this.used + n > this.scratch.length) {
      this.flush();
      if (n > this.scratch.length) this.scratch = new Uint8Array(n);
    }
    const at = this.used;
    this.used += n;
    return at;
  }

  private append(data: Uint8Array): void {
    if (data.length <= 256) {
      const at = this.reserve(data.length);
      this.scratch.set(data, at);
      return;
    }
    this.flush();
    this.parts.push(data);
    this.flushedBytes += data.length;
  }

  private appendWriter(other: ProtoWriter): void {
    other.flush();
    for (const p of other.parts) this.append(p);
  }

  private flush(): void {
    if (this.used === 0) return;
    this.parts.push(this.scratch.slice(0, this.used));
    this.flushedBytes += this.used;
    this.used = 0;
  }
}

function checkInteger(v: number | bigint): number | bigint {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new ProtobufError(`protobuf: ${v} is not a safe integer; pass a bigint`);
  return v;
}

/** The bytes of a typed array in little-endian order (a view when the machine is little-endian). */
export function littleEndianBytes(data: ArrayBufferView & { readonly BYTES_PER_ELEMENT: number; readonly length: number }): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (littleEndian || data.BYTES_PER_ELEMENT === 1) return bytes;
  const out = new Uint8Array(bytes.length);
  const k = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += k) for (let j = 0; j < k; j++) out[i + j] = bytes[i + k - 1 - j];
  return out;
}

/** One field of a decoded message: varints as bigint, fixed32/64 as their raw bytes, bytes as a view. */
export interface ProtoField {
  readonly field: number;
  readonly wire: number;
  readonly value: bigint | Uint8Array;
}

/**
 * Decodes the top level of one message into its fields, in order, without a schema (nested
 * messages stay bytes: decode them again). Throws a {@link ProtobufError} naming the offset for
 * truncated input, a varint longer than 10 bytes, a length past the end, or an unknown wire type.
 *
 * @example
 * ```ts
 * decodeFields(Uint8Array.of(0x08, 0x96, 0x01)); // [{ field: 1, wire: 0, value: 150n }]
 * ```
 */
export function decodeFields(bytes: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = [];
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let i = 0; i < 10; i++) {
      if (at >= bytes.length) throw new ProtobufError(`protobuf: truncated varint at byte ${at} of ${bytes.length}`);
      const b = bytes[at++];
      v |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) return v;
    }
    throw new ProtobufError(`protobuf: varint longer than 10 bytes ending at byte ${at}`);
  };
  const take = (n: number, what: string): Uint8Array => {
    if (n > bytes.length - at) throw new ProtobufError(`protobuf: ${what} of ${n} bytes at byte ${at} runs past the end (${bytes.length} bytes)`);
    const out = bytes.subarray(at, at + n);
    at += n;
    return out;
  };
  while (at < bytes.length) {
    const start = at;
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) throw new ProtobufError(`protobuf: field number 0 at byte ${start}`);
    if (wire === WireType.varint) fields.push({ field, wire, value: varint() });
    else if (wire === WireType.fixed64) fields.push({ field, wire, value: take(8, 'fixed64 field') });
    else if (wire === WireType.fixed32) fields.push({ field, wire, value: take(4, 'fixed32 field') });
    else if (wire === WireType.bytes) {
      const n = varint();
      if (n > BigInt(bytes.length)) throw new ProtobufError(`protobuf: length ${n} at byte ${start} is larger than the message (${bytes.length} bytes)`);
      fields.push({ field, wire, value: take(Number(n), `field ${field}`) });
    } else throw new ProtobufError(`protobuf: unsupported wire type ${wire} for field ${field} at byte ${start}`);
  }
  return fields;
}

/**
 * A varint field's value as a signed 64-bit integer (protobuf int64), in a JavaScript number.
 *
 * @example
 * ```ts
 * int64Of(decodeFields(new ProtoWriter().int(1, -5).finish())[0].value); // -5
 * ```
 */
export function int64Of(value: bigint | Uint8Array): number {
  if (typeof value !== 'bigint') throw new ProtobufError('protobuf: expected a varint field, got a length-delimited or fixed one');
  return Number(BigInt.asIntN(64, value));
}

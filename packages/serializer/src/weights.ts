import type { DType, TypedArray } from '@kiln/core';
import { ArgumentError, itemSize, shapeToString } from '@kiln/core';
import { WEIGHTS_ALIGNMENT } from './constants.js';
import { FormatError } from './errors.js';

/**
 * The weights segment: tensor data after the FlatBuffer, each tensor at a multiple of 64 bytes
 * from the segment's start (which is itself at a multiple of 64 in the file), little-endian,
 * row-major. Reading gives typed-array views into the file's bytes when their address allows.
 */

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function requireLittleEndian(): void {
  if (!LITTLE_ENDIAN) throw new ArgumentError('.kiln files store little-endian data; this host is big-endian, which Kiln does not support');
}

const ARRAY_OF: Readonly<Record<DType, new (buffer: ArrayBufferLike, byteOffset: number, length: number) => TypedArray>> = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array,
};

/** Rounds up to the weights alignment. */
export function alignUp(n: number): number {
  return Math.ceil(n / WEIGHTS_ALIGNMENT) * WEIGHTS_ALIGNMENT;
}

/**
 * The number of elements of `shape`, checking every dimension and that the byte size stays an
 * exact integer (≤ 2^53) and within `maxBytes`. Throws a FormatError naming `where`.
 */
export function checkedByteSize(dtype: DType, shape: readonly number[], where: string, maxBytes = Number.MAX_SAFE_INTEGER): number {
  let bytes = itemSize(dtype);
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new FormatError(`${where}: dimension ${d} of shape ${shapeToString(shape)} is not a non-negative integer`);
    bytes *= d;
    if (bytes > maxBytes) {
      const limit = maxBytes === Number.MAX_SAFE_INTEGER ? '2^53 bytes (the product overflows)' : `the limit of ${maxBytes} bytes (ReadOptions.maxValueBytes)`;
      throw new FormatError(`${where}: a ${dtype} tensor of shape ${shapeToString(shape)} would take more than ${limit}`);
    }
  }
  return bytes;
}

/** Throws an ArgumentError unless `data` is the typed array for `dtype` with `count` elements. */
export function checkTensorData(dtype: DType, shape: readonly number[], data: unknown, where: string): TypedArray {
  const Kind = ARRAY_OF[dtype];
  const count = shape.reduce((a, d) => a * d, 1);
  if (!(data instanceof Kind) || data.length !== count) {
    const got = ArrayBuffer.isView(data) ? `a ${data.constructor.name} of length ${(data as TypedArray).length}` : typeof data;
    throw new ArgumentError(`${where}: expected a ${Kind.name} of ${count} elements for ${dtype}${shapeToString(shape)}, got ${got}`);
  }
  return data as TypedArray;
}

/** Segment offsets for tensors of these byte sizes, and the segment's size. */
export function layoutWeights(byteSizes: readonly number[]): { offsets: number[]; size: number } {
  let size = 0;
  const offsets = byteSizes.map((n) => {
    const at = size;
    size = alignUp(at + n);
    return at;
  });
  return { offsets, size };
}

/** Copies tensor data into the file at `segmentStart + offsets[i]`. */
export function writeWeights(file: Uint8Array, segmentStart: number, data: readonly TypedArray[], offsets: readonly number[]): void {
  requireLittleEndian();
  data.forEach((d, i) => file.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), segmentStart + offsets[i]));
}

/** A stored tensor's placement, as the file's table records it. */
export interface TensorPlacement {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
}

/** Checks the segment's own placement in the file. */
export function checkSegment(bytes: Uint8Array, start: number, size: number): void {
  if (start % WEIGHTS_ALIGNMENT !== 0) throw new FormatError(`Model.weights_offset ${start} is not a multiple of ${WEIGHTS_ALIGNMENT}`);
  if (start + size > bytes.length) {
    throw new FormatError(`the weights segment (${size} bytes at offset ${start}) ends at byte ${start + size}, past the end of the file (${bytes.length} bytes): the file is truncated`);
  }
}

/**
 * Checks every placement (aligned, sized exactly for its type, inside the segment, no two
 * overlapping) and returns each tensor's data: a view into `bytes` when its address is aligned
 * for the element type, else a copy.
 */
export function readWeights(bytes: Uint8Array, start: number, size: number, tensors: readonly TensorPlacement[], names: readonly string[]): { data: TypedArray[]; views: number } {
  requireLittleEndian();
  tensors.forEach((t, i) => {
    const where = `tensor ${i} ('${names[i]}')`;
    const want = checkedByteSize(t.dtype, t.shape, where);
    if (t.size !== want) throw new FormatError(`${where}: its size is ${t.size} bytes, but ${t.dtype}${shapeToString(t.shape)} takes ${want}`);
    if (t.offset % WEIGHTS_ALIGNMENT !== 0) throw new FormatError(`${where}: its offset ${t.offset} is not a multiple of ${WEIGHTS_ALIGNMENT}`);
    if (t.offset + t.size > size) throw new FormatError(`${where}: its ${t.size} bytes at offset ${t.offset} end past the weights segment (${size} bytes)`);
  });
  const order = tensors.map((_, i) => i).filter((i) => tensors[i].size > 0).sort((a, b) => tensors[a].offset - tensors[b].offset);
  for (let k = 1; k < order.length; k++) {
    const [a, b] = [tensors[order[k - 1]], tensors[order[k]]];
    if (a.offset + a.size > b.offset) throw new FormatError(`tensors ${order[k - 1]} ('${names[order[k - 1]]}') and ${order[k]} ('${names[order[k]]}') overlap in the weights segment`);
  }
  let views = 0;
  const data = tensors.map((t, i) => {
    const Kind = ARRAY_OF[t.dtype];
    const at = bytes.byteOffset + start + t.offset;
    const count = t.size / itemSize(t.dtype);
    let array: TypedArray;
    if (at % itemSize(t.dtype) === 0) {
      array = new Kind(bytes.buffer, at, count);
      views++;
    } else {
      const copy = bytes.slice(start + t.offset, start + t.offset + t.size);
      array = new Kind(copy.buffer, 0, count);
    }
    if (t.dtype === 'bool') {
      const bad = array.findIndex((x) => x !== 0 && x !== 1);
      if (bad >= 0) throw new FormatError(`tensor ${i} ('${names[i]}'): bool element ${bad} is ${array[bad]}; bool data must be 0 or 1`);
    }
    return array;
  });
  return { data, views };
}

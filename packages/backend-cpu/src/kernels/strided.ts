import type { Shape } from '@kiln/core';
import { sizeOf } from '@kiln/core';

/**
 * The flat offset of every element of `shape`, in row-major order, into an array walked with
 * `strides` from `base`: element (i, j, …) is at base + i·strides[0] + j·strides[1] + ….
 * One pass with an odometer; the shape ops build their gathers and scatters from it.
 *
 * @example
 * ```ts
 * stridedOffsets([2, 2], [1, 2]); // Int32Array [0, 2, 1, 3]: a transposed 2×2 walk
 * ```
 */
export function stridedOffsets(shape: Shape, strides: readonly number[], base = 0): Int32Array {
  const size = sizeOf(shape);
  const rank = shape.length;
  const offsets = new Int32Array(size);
  const counter = new Array<number>(rank).fill(0);
  let flat = base;
  for (let i = 0; i < size; i++) {
    offsets[i] = flat;
    for (let axis = rank - 1; axis >= 0; axis--) {
      counter[axis]++;
      flat += strides[axis];
      if (counter[axis] < shape[axis]) break;
      flat -= strides[axis] * counter[axis];
      counter[axis] = 0;
    }
  }
  return offsets;
}

/** Σ coords[i]·strides[i]: the flat offset of one position. */
export function offsetOf(coords: readonly number[], strides: readonly number[]): number {
  let offset = 0;
  for (let i = 0; i < coords.length; i++) offset += coords[i] * strides[i];
  return offset;
}

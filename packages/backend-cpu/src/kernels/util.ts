import type { Shape, TypedArray } from '@kiln/core';
import { allocTypedArray, sizeOf, stridesOf } from '@kiln/core';
import type { DType } from '@kiln/core';

/**
 * Flat indices into an input of `inShape` for every element of `outShape`, under NumPy
 * broadcasting. Returns null when no broadcasting is needed (the shapes are equal).
 */
export function broadcastIndex(inShape: Shape, outShape: Shape): Int32Array | null {
  const size = sizeOf(outShape);
  if (inShape.length === outShape.length && inShape.every((d, i) => d === outShape[i])) return null;
  const rank = outShape.length;
  const offset = rank - inShape.length;
  const inStrides = stridesOf(inShape);
  // Stride of each output axis in the input: 0 where the input is broadcast along it.
  const strides = outShape.map((_, axis) => {
    const j = axis - offset;
    return j < 0 || inShape[j] === 1 ? 0 : inStrides[j];
  });
  const index = new Int32Array(size);
  const counter = new Array<number>(rank).fill(0);
  let flat = 0;
  for (let i = 0; i < size; i++) {
    index[i] = flat;
    for (let axis = rank - 1; axis >= 0; axis--) {
      counter[axis]++;
      flat += strides[axis];
      if (counter[axis] < outShape[axis]) break;
      flat -= strides[axis] * counter[axis];
      counter[axis] = 0;
    }
  }
  return index;
}

/** Allocates the output array for a kernel. */
export function output(dtype: DType, shape: Shape): TypedArray {
  return allocTypedArray(dtype, sizeOf(shape));
}

import type { DType, Shape, TypedArray } from '@kiln/core';
import { allocTypedArray, sizeOf, stridesOf } from '@kiln/core';
import { stridedOffsets } from './strided.js';

/** Whether two shapes are equal, element by element. */
export function sameShape(a: Shape, b: Shape): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Flat indices into an input of `inShape` for every element of `outShape`, under NumPy
 * broadcasting. Returns null when no broadcasting is needed (the shapes are equal).
 */
export function broadcastIndex(inShape: Shape, outShape: Shape): Int32Array | null {
  if (sameShape(inShape, outShape)) return null;
  const offset = outShape.length - inShape.length;
  const inStrides = stridesOf(inShape);
  // Stride of each output axis in the input: 0 where the input is broadcast along it.
  const strides = outShape.map((_, axis) => {
    const j = axis - offset;
    return j < 0 || inShape[j] === 1 ? 0 : inStrides[j];
  });
  return stridedOffsets(outShape, strides);
}

/** The output array for a kernel: `into` when the caller offered one (see CpuKernel), else a new one. */
export function output(dtype: DType, shape: Shape, into?: TypedArray): TypedArray {
  return into ?? allocTypedArray(dtype, sizeOf(shape));
}

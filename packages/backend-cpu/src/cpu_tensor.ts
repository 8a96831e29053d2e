import type { Attrs, DType, Shape, TensorType, TypedArray } from '@kiln/core';

/** A tensor as CPU kernels see it: contiguous row-major data with its type. */
export interface CpuTensor {
  readonly data: TypedArray;
  readonly shape: Shape;
  readonly dtype: DType;
}

/**
 * A CPU kernel: reads inputs, returns one new typed array per output (never mutates inputs).
 * `outputs` are the types the op's rules inferred, so kernels need not recompute shapes.
 */
export type CpuKernel<A extends Attrs = any> = (inputs: readonly CpuTensor[], attrs: A, outputs: readonly TensorType[]) => TypedArray[];

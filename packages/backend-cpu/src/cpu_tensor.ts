import type { Attrs, DType, Graph, Shape, TensorType, TypedArray } from '@kiln/core';

/** A tensor as CPU kernels see it: contiguous row-major data with its type. */
export interface CpuTensor {
  readonly data: TypedArray;
  readonly shape: Shape;
  readonly dtype: DType;
}

/**
 * A CPU kernel: reads inputs, returns one new typed array per output (never mutates inputs).
 * `outputs` are the types the op's rules inferred, so kernels need not recompute shapes.
 * `out` optionally offers an array (of the output's dtype and size, aliasing no input, holding
 * garbage) per output: a kernel may write every element into it and return it instead of a new
 * one (`output(dtype, shape, out?.[i])`); kernels that ignore it have their result copied in.
 */
export type CpuKernel<A extends Attrs = any> = (
  inputs: readonly CpuTensor[], attrs: A, outputs: readonly TensorType[], out?: readonly (TypedArray | undefined)[],
  /** The node's bodies, for ops that carry them (fused kernels). */
  subgraphs?: readonly Graph[],
) => TypedArray[];

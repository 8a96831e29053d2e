import type { Tensor } from '@kiln/eager';
import { Tensor as TensorClass, mean, sum } from '@kiln/eager';
import { ArgumentError, DTypeError, ShapeError, isFloating, shapeToString } from '@kiln/core';

/** How a loss combines its per-element values, as PyTorch's `reduction` argument. */
export type Reduction = 'mean' | 'sum' | 'none';

const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

/** Throws an ArgumentError unless `reduction` is one of 'mean', 'sum', 'none'. */
export function checkReduction(loss: string, reduction: unknown): Reduction {
  if (!REDUCTIONS.includes(reduction as Reduction)) {
    throw new ArgumentError(`${loss}: reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
  }
  return reduction as Reduction;
}

/** Applies a plain reduction: the mean or sum over every element, or the elements as they are. */
export function reduce(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return loss;
  return reduction === 'sum' ? sum(loss) : mean(loss);
}

/** Throws unless `value` is a Tensor (an ArgumentError naming the loss and the argument). */
export function expectTensor(loss: string, arg: string, value: unknown): Tensor {
  if (!(value instanceof TensorClass)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    throw new ArgumentError(`${loss}: ${arg} must be a Tensor, got ${got}; make one with tensor(...)`);
  }
  return value;
}

/** Throws a DTypeError unless the tensor is float32 or float64. */
export function expectFloat(loss: string, arg: string, t: Tensor): void {
  if (!isFloating(t.dtype)) {
    throw new DTypeError(`${loss}: ${arg} must be float32 or float64, got ${t.dtype}; cast it with ${arg}.cast('float32')`);
  }
}

/** Throws a ShapeError unless the two tensors have exactly the same shape. */
export function expectSameShape(loss: string, input: Tensor, target: Tensor): void {
  const a = input.shape;
  const b = target.shape;
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
    throw new ShapeError(`${loss}: target has shape ${shapeToString(b)} but input has shape ${shapeToString(a)}; they must be equal`);
  }
}

/** Throws a ShapeError unless `t`'s shape broadcasts to `shape` (without changing `shape`). */
export function expectBroadcastsTo(loss: string, arg: string, t: Tensor, shape: readonly number[]): void {
  const s = t.shape;
  const lead = shape.length - s.length;
  const ok = lead >= 0 && s.every((d, i) => d === 1 || d === shape[lead + i]);
  if (!ok) {
    throw new ShapeError(`${loss}: ${arg} has shape ${shapeToString(s)}, which does not broadcast to the input's shape ${shapeToString(shape)}`);
  }
}

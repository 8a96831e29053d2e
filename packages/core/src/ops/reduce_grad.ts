import type { Shape } from '../shape.js';
import type { VjpRule } from './op.js';
import type { Ops } from './surface.js';

/*
 * Gradient rules of the reduction primitives (prod, max, min, cumsum; sum's is in reduce.ts),
 * written with the op surface only, so they run on every backend, trace, and can be
 * differentiated again.
 */

type ReduceAttrs = { axes: readonly number[]; keepdims: boolean };

/** The keepdims form of a reduction's result shape: reduced axes become size 1. */
function keptShape(inputShape: Shape, axes: readonly number[]): number[] {
  return inputShape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** Reshapes a reduction's result (or cotangent) to keepdims form, so it broadcasts against the input. */
function kept<V>(ops: Ops<V>, v: V, inputShape: Shape, axes: readonly number[], keepdims: boolean): V {
  return keepdims ? v : ops.reshape(v, keptShape(inputShape, axes));
}

/**
 * Reshapes a reduction's cotangent to keepdims form and broadcasts it back over the reduced axes.
 *
 * @example
 * ```ts
 * // sum over axis 1 of x: [2,3] (keepdims false): g: [2] → [2,1] → [2,3].
 * const gx = expandReduced(ops, g, [2, 3], [1], false);
 * ```
 */
export function expandReduced<V>(ops: Ops<V>, g: V, inputShape: Shape, axes: readonly number[], keepdims: boolean): V {
  return ops.broadcastTo(kept(ops, g, inputShape, axes, keepdims), inputShape);
}

/**
 * prod: the gradient of each element is the product of all the other elements of its group,
 * exact where the input holds zeros (as PyTorch's prod_backward): with one zero the zero gets
 * the product of the others and everything else 0; with two or more, everything gets 0.
 *
 * The product of the others is split into the product of the nonzero others (`A / x̃`, where x̃
 * has its zeros replaced by 1 and A is the product of x̃) times the product of the zero others:
 * B (all zeros of the group) for a nonzero element; for a zero element 1 when it is the group's
 * only zero, the other zero when there are two (written `Σzeros - x`, so its derivative is right),
 * else 0. Every branch is finite, so the rule differentiates again correctly (grad of grad of
 * prod is exact at zeros too, up to two zeros per group).
 */
export const prodVjp: VjpRule<ReduceAttrs> = (ops, { inputs: [x], attrs: { axes, keepdims }, cotangents: [g], typeOf }) => {
  const shape = typeOf(x).shape;
  const isZero = ops.eq(x, 0);
  const zeros = ops.sum(ops.cast(isZero, typeOf(x).dtype), axes, true);
  const nonzero = ops.where(isZero, 1, x);
  const zeroPart = ops.where(isZero, x, 1);
  const a = ops.prod(nonzero, axes, true);
  const b = ops.prod(zeroPart, axes, true);
  const otherZeros = ops.where(ops.eq(zeros, 1), 1, ops.where(ops.eq(zeros, 2), ops.sub(ops.sum(ops.where(isZero, x, 0), axes, true), x), 0));
  const others = ops.mul(ops.div(a, nonzero), ops.where(isZero, otherZeros, b));
  return [ops.mul(kept(ops, g!, shape, axes, keepdims), others)];
};

/**
 * max and min (PyTorch's amax/amin): the cotangent goes to the elements equal to the result,
 * split evenly between ties. A NaN result gives NaN gradients for its whole group, as in PyTorch.
 */
export const extremumVjp: VjpRule<ReduceAttrs> = (ops, { inputs: [x], outputs: [y], attrs: { axes, keepdims }, cotangents: [g], typeOf }) => {
  const { shape, dtype } = typeOf(x);
  const mask = ops.cast(ops.eq(x, kept(ops, y, shape, axes, keepdims)), dtype);
  const count = ops.sum(mask, axes, true);
  return [ops.mul(ops.div(kept(ops, g!, shape, axes, keepdims), count), mask)];
};

/** cumsum: each input element feeds every later output, so its gradient is the reversed running sum of the cotangent. */
export const cumsumVjp: VjpRule<{ axis: number }> = (ops, { attrs: { axis }, cotangents: [g] }) =>
  [ops.flip(ops.cumsum(ops.flip(g!, axis), axis), axis)];

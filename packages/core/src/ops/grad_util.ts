import type { Shape } from '../shape.js';
import type { TensorType } from './op.js';
import type { Ops } from './surface.js';

/**
 * Sums a gradient of a broadcast result back to the shape of the operand that was broadcast:
 * over the leading axes the operand lacked, and over the axes where it had size 1. The
 * un-broadcasting every binary op's gradient needs.
 *
 * @example
 * ```ts
 * // a: [3,1], b: [4] → a+b: [3,4]; grad for a is sumToShape(g, [3,1]), for b sumToShape(g, [4]).
 * ```
 */
export function sumToShape<V>(ops: Ops<V>, g: V, shape: Shape, typeOf: (v: V) => TensorType): V {
  const gShape = typeOf(g).shape;
  if (gShape.length === shape.length && gShape.every((d, i) => d === shape[i])) return g;
  const lead = gShape.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < gShape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && gShape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length ? ops.sum(g, axes, true) : g;
  return ops.reshape(summed, shape);
}

import { ArgumentError, AxisError, ShapeError } from '../errors.js';
import type { Shape } from '../shape.js';
import { normalizeAxis, shapeToString, sizeOf } from '../shape.js';
import { apply1, expectValue } from './bind.js';
import type { Interpreter } from './interpreter.js';
import type { OpDef, PrimitiveDef } from './op.js';
import { sameDType } from './rules.js';
import type { Ops } from './surface.js';

export const RESHAPE: PrimitiveDef<{ shape: readonly number[] }> = {
  kind: 'primitive', name: 'reshape', inputs: ['x'], attrs: { shape: 'ints' },
  doc: 'Same elements in row-major order, new shape of equal size.',
  shape: ([x], { shape }) => {
    if (!shape.every((d) => Number.isInteger(d) && d >= 0) || sizeOf(shape) !== sizeOf(x.shape)) {
      throw new ShapeError(`reshape: cannot reshape ${shapeToString(x.shape)} (${sizeOf(x.shape)} elements) to ${shapeToString(shape)} (${sizeOf(shape)} elements); the sizes must match`);
    }
    return [shape];
  },
  dtype: sameDType,
  differentiable: true,
};

export const PERMUTE: PrimitiveDef<{ axes: readonly number[] }> = {
  kind: 'primitive', name: 'permute', inputs: ['x'], attrs: { axes: 'ints' },
  doc: 'Reorders axes: output axis i is input axis axes[i].',
  shape: ([x], { axes }) => {
    const rank = x.shape.length;
    const sorted = [...axes].sort((a, b) => a - b);
    if (axes.length !== rank || !sorted.every((a, i) => a === i)) {
      throw new AxisError(`permute: axes ${JSON.stringify(axes)} is not a permutation of 0..${rank - 1} for a tensor of shape ${shapeToString(x.shape)}`);
    }
    return [axes.map((a) => x.shape[a])];
  },
  dtype: sameDType,
  differentiable: true,
};

export const shapingDefs: readonly OpDef<any>[] = [RESHAPE, PERMUTE];

/** Ops that move elements around without computing on them. */
export interface ShapingOps<V> {
  /**
   * Same elements, new shape; one dimension may be -1 and is inferred.
   * @example `reshape(arange(6), [2, -1])` → shape [2, 3]
   */
  reshape(x: V, shape: readonly number[]): V;
  /**
   * Reorders axes (negative axes allowed): output axis i is input axis `axes[i]`.
   * @example `permute(zeros([2, 3, 4]), [2, 0, 1])` → shape [4, 2, 3]
   */
  permute(x: V, axes: readonly number[]): V;
}

export function shapingOps<V>(I: Interpreter<V>, _ops: Ops<V>): ShapingOps<V> {
  const arg = (x: unknown, op: string) => expectValue(I, x, op, 'x');
  return {
    reshape: (x, shape) => {
      const v = arg(x, 'reshape');
      return apply1(I, RESHAPE, [v], { shape: inferReshape(I.typeOf(v).shape, shape) });
    },
    permute: (x, axes) => {
      const v = arg(x, 'permute');
      const rank = I.typeOf(v).shape.length;
      if (!Array.isArray(axes)) throw new ArgumentError(`permute: axes must be an array of integers, got ${JSON.stringify(axes)}`);
      const normalized = axes.map((a) => normalizeAxis(a, rank, 'permute', 'axes'));
      if (normalized.every((a, i) => a === i)) return v;
      return apply1(I, PERMUTE, [v], { axes: normalized });
    },
  };
}

/** Resolves one -1 in a requested shape, or throws a ShapeError that shows both shapes. */
export function inferReshape(from: Shape, to: readonly number[]): number[] {
  if (!Array.isArray(to) || !to.every((d) => Number.isInteger(d) && d >= -1)) {
    throw new ArgumentError(`reshape: shape must be an array of integers ≥ -1, got ${JSON.stringify(to)}`);
  }
  const unknown = to.filter((d) => d === -1).length;
  if (unknown > 1) throw new ArgumentError(`reshape: only one dimension can be -1, got ${shapeToString(to)}`);
  const total = sizeOf(from);
  if (unknown === 0) {
    if (sizeOf(to) !== total) {
      throw new ShapeError(`reshape: cannot reshape ${shapeToString(from)} (${total} elements) to ${shapeToString(to)} (${sizeOf(to)} elements); the sizes must match`);
    }
    return [...to];
  }
  const known = to.reduce((p, d) => (d === -1 ? p : p * d), 1);
  if (known === 0 || total % known !== 0) {
    throw new ShapeError(`reshape: cannot reshape ${shapeToString(from)} (${total} elements) to ${shapeToString(to)}: ${total} is not divisible by ${known}`);
  }
  return to.map((d) => (d === -1 ? total / known : d));
}

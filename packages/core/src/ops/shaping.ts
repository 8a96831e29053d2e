import { promoteTypes } from '../dtype.js';
import { ArgumentError, AxisError, DTypeError, ShapeError } from '../errors.js';
import type { Shape } from '../shape.js';
import { broadcastsTo, normalizeAxes, normalizeAxis, shapesEqual, shapeToString, sizeOf } from '../shape.js';
import { apply1, expectValue } from './bind.js';
import { indexingDefs, indexingOps } from './indexing.js';
import type { IndexingOps } from './indexing.js';
import type { Interpreter } from './interpreter.js';
import type { OpDef, PrimitiveDef } from './op.js';
import { sameDType } from './rules.js';
import { slicingDefs, slicingOps } from './slicing.js';
import type { SlicingOps } from './slicing.js';
import { sumToShape } from './grad_util.js';
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
  vjp: (ops, { inputs: [x], cotangents: [g], typeOf }) => [ops.reshape(g!, typeOf(x).shape)],
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
  vjp: (ops, { attrs: { axes }, cotangents: [g] }) => [ops.permute(g!, axes.map((_, i) => axes.indexOf(i)))],
};

export const BROADCAST_TO: PrimitiveDef<{ shape: readonly number[] }> = {
  kind: 'primitive', name: 'broadcastTo', inputs: ['x'], attrs: { shape: 'ints' },
  doc: 'Repeats x along its size-1 (and new leading) dimensions to `shape`, by NumPy broadcasting.',
  shape: ([x], { shape }) => {
    if (!shape.every((d) => Number.isInteger(d) && d >= 0) || !broadcastsTo(x.shape, shape)) {
      throw new ShapeError(`broadcastTo: cannot broadcast ${shapeToString(x.shape)} to ${shapeToString(shape)}; aligned from the right, each dimension of x must be 1 or equal the target's`);
    }
    return [shape];
  },
  dtype: sameDType,
  differentiable: true,
  vjp: (ops, { inputs: [x], cotangents: [g], typeOf }) => [sumToShape(ops, g!, typeOf(x).shape, typeOf)],
};

export const CONCAT: PrimitiveDef<{ axis: number }> = {
  kind: 'primitive', name: 'concat', inputs: ['...tensors'], attrs: { axis: 'int' },
  doc: 'Joins tensors of one dtype along an existing axis; all other dimensions must match.',
  shape: (inputs, { axis }) => [concatShape(inputs.map((t) => t.shape), axis)],
  dtype: (inputs) => {
    inputs.forEach((t, i) => {
      if (t.dtype !== inputs[0].dtype) {
        throw new DTypeError(`concat: input ${i} has dtype ${t.dtype} but input 0 has ${inputs[0].dtype}; the primitive takes one dtype (the concat function promotes)`);
      }
    });
    return [inputs[0].dtype];
  },
  differentiable: true,
  // Each input gets its own stretch of the cotangent along axis.
  vjp: (ops, { inputs, attrs: { axis }, cotangents: [g], needsGrad, typeOf }) => {
    const leading = new Array<null>(axis).fill(null);
    let start = 0;
    return inputs.map((x, i) => {
      const size = typeOf(x).shape[axis];
      start += size;
      return needsGrad[i] ? ops.slice(g!, [...leading, [start - size, start]]) : null;
    });
  },
};

function concatShape(shapes: readonly Shape[], axis: number): number[] {
  const scalar = shapes.findIndex((s) => s.length === 0);
  if (scalar >= 0) throw new ShapeError(`concat: input ${scalar} is a scalar (shape []); scalars cannot be concatenated, use stack to join them along a new axis`);
  const first = shapes[0];
  if (!Number.isInteger(axis) || axis < 0 || axis >= first.length) {
    throw new AxisError(`concat: axis ${axis} is out of range for inputs of rank ${first.length} (the primitive takes 0..${first.length - 1})`);
  }
  let total = 0;
  shapes.forEach((s, i) => {
    const same = s.length === first.length && s.every((d, j) => j === axis || d === first[j]);
    if (!same) {
      throw new ShapeError(`concat: input ${i} has shape ${shapeToString(s)} but input 0 has ${shapeToString(first)}; all dimensions except axis ${axis} must match`);
    }
    total += s[axis];
  });
  return first.map((d, j) => (j === axis ? total : d));
}

export const shapingDefs: readonly OpDef<any>[] = [RESHAPE, PERMUTE, BROADCAST_TO, CONCAT, ...slicingDefs, ...indexingDefs];

/**
 * Ops that move elements around without computing on them. The primitives are reshape,
 * permute, broadcastTo, concat (here), slice and pad (slicing.ts), and the index ops
 * (indexing.ts); transpose, squeeze, unsqueeze, flatten, stack and split are written here with them.
 */
export interface ShapingOps<V> extends SlicingOps<V>, IndexingOps<V> {
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
  /**
   * Swaps two axes (by default the last two), as torch.transpose.
   * @example `transpose(zeros([2, 3, 4]))` → shape [2, 4, 3]
   */
  transpose(x: V, axis0?: number, axis1?: number): V;
  /**
   * Repeats `x` along size-1 dimensions and new leading ones (NumPy broadcasting); -1 keeps
   * an existing dimension.
   * @example `broadcastTo(tensor([[1], [2]]), [2, 3])` → `[[1, 1, 1], [2, 2, 2]]`
   */
  broadcastTo(x: V, shape: readonly number[]): V;
  /**
   * Removes size-1 dimensions: all of them, or those among `axis` (a listed axis whose size
   * is not 1 is left alone, as in PyTorch).
   * @example `squeeze(zeros([1, 3, 1]))` → shape [3]
   */
  squeeze(x: V, axis?: number | readonly number[]): V;
  /**
   * Inserts a size-1 dimension at `axis` (in `-(rank+1)..rank`).
   * @example `unsqueeze(zeros([2, 3]), -1)` → shape [2, 3, 1]
   */
  unsqueeze(x: V, axis: number): V;
  /**
   * Merges axes `startAxis..endAxis` (inclusive) into one; a scalar becomes shape [1].
   * @example `flatten(zeros([2, 3, 4]), 1)` → shape [2, 12]
   */
  flatten(x: V, startAxis?: number, endAxis?: number): V;
  /**
   * Joins tensors along an existing axis; dtypes promote (int32 with float32 gives float32).
   * @example `concat([zeros([2, 3]), ones([2, 1])], 1)` → shape [2, 4]
   */
  concat(tensors: readonly V[], axis?: number): V;
  /**
   * Joins tensors of one shape along a new axis; dtypes promote.
   * @example `stack([zeros([2, 3]), ones([2, 3])], 1)` → shape [2, 2, 3]
   */
  stack(tensors: readonly V[], axis?: number): V;
  /**
   * Cuts `x` along `axis`: a number is the chunk size (the last chunk may be smaller), an
   * array gives each piece's size (they must sum to the axis size), as torch.split.
   * @example `split(arange(5), 2)` → `[[0, 1], [2, 3], [4]]`
   */
  split(x: V, sizeOrSections: number | readonly number[], axis?: number): V[];
}

/**
 * Resolves an axis like PyTorch's dimension wrapping: a scalar accepts axis 0 and -1 as if it
 * had one dimension (torch.squeeze, transpose and flatten allow this).
 */
function wrapAxis(axis: number, rank: number, op: string, arg: string): number {
  return normalizeAxis(axis, Math.max(rank, 1), op, arg);
}

export function shapingOps<V>(I: Interpreter<V>, ops: Ops<V>): ShapingOps<V> {
  const arg = (x: unknown, op: string) => expectValue(I, x, op, 'x');
  const shapeOf = (v: V) => I.typeOf(v).shape;
  const reshapeTo = (v: V, shape: readonly number[]) => (shapesEqual(shapeOf(v), shape) ? v : apply1(I, RESHAPE, [v], { shape }));
  const tensorList = (tensors: unknown, op: string): V[] => {
    if (!Array.isArray(tensors) || tensors.length === 0) {
      throw new ArgumentError(`${op}: tensors must be a non-empty array of tensors, got ${Array.isArray(tensors) ? 'an empty array' : JSON.stringify(tensors) ?? typeof tensors}`);
    }
    const values = tensors.map((t, i) => expectValue(I, t, op, `tensors[${i}]`));
    const dtype = values.map((v) => I.typeOf(v).dtype).reduce(promoteTypes);
    return values.map((v) => ops.cast(v, dtype));
  };
  const intArg = (value: unknown, op: string, name: string): number => {
    if (!Number.isInteger(value)) throw new ArgumentError(`${op}: ${name} must be an integer, got ${JSON.stringify(value)}`);
    return value as number;
  };

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
    transpose: (x, axis0 = -2, axis1 = -1) => {
      const v = arg(x, 'transpose');
      const rank = shapeOf(v).length;
      const a = wrapAxis(axis0, rank, 'transpose', 'axis0');
      const b = wrapAxis(axis1, rank, 'transpose', 'axis1');
      if (a === b) return v;
      const axes = Array.from({ length: rank }, (_, i) => (i === a ? b : i === b ? a : i));
      return apply1(I, PERMUTE, [v], { axes });
    },
    broadcastTo: (x, shape) => {
      const v = arg(x, 'broadcastTo');
      const from = shapeOf(v);
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= -1)) {
        throw new ArgumentError(`broadcastTo: shape must be an array of integers ≥ -1, got ${JSON.stringify(shape)}`);
      }
      const lead = shape.length - from.length;
      const target = shape.map((d, i) => {
        if (d !== -1) return d;
        if (i < lead) throw new ArgumentError(`broadcastTo: -1 at position ${i} of ${shapeToString(shape)} is a new leading dimension of ${shapeToString(from)}; -1 may only keep an existing dimension`);
        return from[i - lead];
      });
      if (!broadcastsTo(from, target)) {
        throw new ShapeError(`broadcastTo: cannot broadcast ${shapeToString(from)} to ${shapeToString(target)}; aligned from the right, each dimension of x must be 1 or equal the target's`);
      }
      return shapesEqual(from, target) ? v : apply1(I, BROADCAST_TO, [v], { shape: target });
    },
    squeeze: (x, axis) => {
      const v = arg(x, 'squeeze');
      const shape = shapeOf(v);
      if (shape.length === 0) {
        if (axis !== undefined) normalizeAxes(axis, 1, 'squeeze');
        return v;
      }
      const axes = axis === undefined ? null : new Set(normalizeAxes(axis, shape.length, 'squeeze'));
      return reshapeTo(v, shape.filter((d, i) => d !== 1 || (axes !== null && !axes.has(i))));
    },
    unsqueeze: (x, axis) => {
      const v = arg(x, 'unsqueeze');
      const shape = shapeOf(v);
      const a = normalizeAxis(intArg(axis, 'unsqueeze', 'axis'), shape.length + 1, 'unsqueeze');
      return apply1(I, RESHAPE, [v], { shape: [...shape.slice(0, a), 1, ...shape.slice(a)] });
    },
    flatten: (x, startAxis = 0, endAxis = -1) => {
      const v = arg(x, 'flatten');
      const shape = shapeOf(v);
      const s = wrapAxis(startAxis, shape.length, 'flatten', 'startAxis');
      const e = wrapAxis(endAxis, shape.length, 'flatten', 'endAxis');
      if (s > e) {
        throw new AxisError(`flatten: startAxis ${startAxis} (axis ${s}) comes after endAxis ${endAxis} (axis ${e}) for a tensor of shape ${shapeToString(shape)}; startAxis must not come after endAxis`);
      }
      if (shape.length === 0) return apply1(I, RESHAPE, [v], { shape: [1] });
      return reshapeTo(v, [...shape.slice(0, s), sizeOf(shape.slice(s, e + 1)), ...shape.slice(e + 1)]);
    },
    concat: (tensors, axis = 0) => {
      const values = tensorList(tensors, 'concat');
      const shapes = values.map(shapeOf);
      const a = normalizeAxis(intArg(axis, 'concat', 'axis'), Math.max(shapes[0].length, 1), 'concat');
      concatShape(shapes, a);
      return values.length === 1 ? values[0] : apply1(I, CONCAT, values, { axis: a });
    },
    stack: (tensors, axis = 0) => {
      const values = tensorList(tensors, 'stack');
      const first = shapeOf(values[0]);
      values.forEach((v, i) => {
        if (!shapesEqual(shapeOf(v), first)) {
          throw new ShapeError(`stack: tensors[${i}] has shape ${shapeToString(shapeOf(v))} but tensors[0] has ${shapeToString(first)}; all tensors must have the same shape`);
        }
      });
      const a = normalizeAxis(intArg(axis, 'stack', 'axis'), first.length + 1, 'stack');
      const expanded = values.map((v) => ops.unsqueeze(v, a));
      return expanded.length === 1 ? expanded[0] : apply1(I, CONCAT, expanded, { axis: a });
    },
    split: (x, sizeOrSections, axis = 0) => {
      const v = arg(x, 'split');
      const shape = shapeOf(v);
      const a = normalizeAxis(intArg(axis, 'split', 'axis'), shape.length, 'split');
      const sizes = splitSizes(sizeOrSections, shape, a);
      if (sizes.length === 1) return [v];
      const leading = new Array<null>(a).fill(null);
      let start = 0;
      return sizes.map((size) => {
        const piece = ops.slice(v, [...leading, [start, start + size]]);
        start += size;
        return piece;
      });
    },
    ...slicingOps(I, ops),
    ...indexingOps(I, ops),
  };
}

/** The piece sizes torch.split gives for a chunk size or an explicit list of sizes. */
function splitSizes(sizeOrSections: number | readonly number[], shape: Shape, axis: number): number[] {
  const n = shape[axis];
  if (typeof sizeOrSections === 'number') {
    const size = sizeOrSections;
    if (!Number.isInteger(size) || size < 0 || (size === 0 && n !== 0)) {
      throw new ArgumentError(`split: chunk size must be a positive integer, got ${size} (0 is allowed only when axis ${axis} has size 0; shape ${shapeToString(shape)})`);
    }
    if (n === 0) return [0];
    return Array.from({ length: Math.ceil(n / size) }, (_, i) => Math.min(size, n - i * size));
  }
  if (!Array.isArray(sizeOrSections) || !sizeOrSections.every((s) => Number.isInteger(s) && s >= 0)) {
    throw new ArgumentError(`split: sizeOrSections must be a positive integer or an array of non-negative integers, got ${JSON.stringify(sizeOrSections)}`);
  }
  const total = sizeOrSections.reduce((p, s) => p + s, 0);
  if (sizeOrSections.length === 0 || total !== n) {
    throw new ShapeError(`split: sections ${JSON.stringify(sizeOrSections)} sum to ${total} but axis ${axis} of shape ${shapeToString(shape)} has size ${n}; they must sum to it`);
  }
  return [...sizeOrSections];
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

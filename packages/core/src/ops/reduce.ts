import { DEFAULT_FLOAT, isFloating } from '../dtype.js';
import { ArgumentError, AxisError, DTypeError, ShapeError } from '../errors.js';
import type { Shape } from '../shape.js';
import { normalizeAxes, normalizeAxis, shapeToString } from '../shape.js';
import { apply1, expectValue } from './bind.js';
import type { Interpreter } from './interpreter.js';
import type { CompositeDef, OpDef, PrimitiveDef, TensorType, VjpRule } from './op.js';
import type { DTypeClass } from './rules.js';
import { requireDType } from './rules.js';
import { cumsumVjp, expandReduced, extremumVjp, prodVjp } from './reduce_grad.js';
import type { Ops } from './surface.js';

export type ReduceAttrs = { axes: readonly number[]; keepdims: boolean };
export type ArgReduceAttrs = { axis: number | null; keepdims: boolean };
export type VarAttrs = { axes: readonly number[]; correction: number; keepdims: boolean };

/** Throws unless `axes` is canonical: integers in [0, rank), strictly increasing (the surface normalizes them). */
function checkCanonicalAxes(op: string, axes: readonly number[], shape: Shape): void {
  const rank = shape.length;
  const ok = axes.every((a, i) => Number.isInteger(a) && a >= 0 && a < rank && (i === 0 || a > axes[i - 1]));
  if (!ok) {
    throw new AxisError(
      `${op}: axes ${JSON.stringify(axes)} must be sorted, unique and within 0..${rank - 1} for x of shape ${shapeToString(shape)}; ` +
        'the op surface normalizes negative and unsorted axes',
    );
  }
}

/** The shape left after reducing `axes` (canonical) of `shape`: size-1 dimensions kept or dropped. */
export function reducedShape(shape: Shape, axes: readonly number[], keepdims: boolean): number[] {
  return keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/** How many elements each output element of a reduction over `axes` combines. */
export function countOf(shape: Shape, axes: readonly number[]): number {
  return axes.reduce((n, a) => n * shape[a], 1);
}

/** max, min, argmax and argmin have no identity, so an empty reduced axis is an error (as in PyTorch). */
function requireNonEmpty(op: string, x: TensorType, axes: readonly number[]): void {
  for (const a of axes) {
    if (x.shape[a] === 0) {
      throw new ShapeError(
        `${op}: cannot reduce over axis ${a} of x with shape ${shapeToString(x.shape)}: it has size 0 and ${op} of no elements is undefined; ` +
          'reduce over non-empty axes only',
      );
    }
  }
}

function reduction(name: string, cls: DTypeClass, doc: string, nonEmpty: boolean, vjp?: VjpRule<ReduceAttrs>): PrimitiveDef<ReduceAttrs> {
  return {
    kind: 'primitive', name, inputs: ['x'], attrs: { axes: 'ints', keepdims: 'bool' }, doc,
    shape: ([x], { axes, keepdims }) => {
      checkCanonicalAxes(name, axes, x.shape);
      if (nonEmpty) requireNonEmpty(name, x, axes);
      return [reducedShape(x.shape, axes, keepdims)];
    },
    dtype: ([x]) => {
      requireDType(name, 'x', x, cls);
      return [x.dtype];
    },
    differentiable: true,
    vjp,
  };
}

export { expandReduced };

export const SUM = reduction('sum', 'numeric', 'Sum over axes (int32 wraps around on overflow).', false,
  (ops, { inputs: [x], attrs: { axes, keepdims }, cotangents: [g], typeOf }) => [expandReduced(ops, g!, typeOf(x).shape, axes, keepdims)]);
export const PROD = reduction('prod', 'numeric', 'Product over axes (int32 wraps around on overflow).', false, prodVjp);
export const MAX = reduction('max', 'any', 'Maximum over non-empty axes; NaN propagates.', true, extremumVjp);
export const MIN = reduction('min', 'any', 'Minimum over non-empty axes; NaN propagates.', true, extremumVjp);

function argReduction(name: string, doc: string): PrimitiveDef<ArgReduceAttrs> {
  return {
    kind: 'primitive', name, inputs: ['x'], attrs: { axis: 'int?', keepdims: 'bool' }, doc,
    shape: ([x], { axis, keepdims }) => {
      const rank = x.shape.length;
      if (axis === null) {
        if (x.shape.includes(0)) {
          throw new ShapeError(`${name}: x of shape ${shapeToString(x.shape)} has no elements, so ${name} over all of them is undefined`);
        }
        return [keepdims ? x.shape.map(() => 1) : []];
      }
      checkCanonicalAxes(name, [axis], x.shape);
      requireNonEmpty(name, x, [axis]);
      return [reducedShape(x.shape, [axis], keepdims)];
    },
    dtype: ([x]) => {
      requireDType(name, 'x', x, 'numeric');
      return ['int32'];
    },
    differentiable: false,
  };
}

export const ARGMAX = argReduction('argmax', 'Index (int32) of the first maximum along axis, or of the flattened x when axis is null; NaN counts as the maximum.');
export const ARGMIN = argReduction('argmin', 'Index (int32) of the first minimum along axis, or of the flattened x when axis is null; NaN counts as the minimum.');

export const CUMSUM: PrimitiveDef<{ axis: number }> = {
  kind: 'primitive', name: 'cumsum', inputs: ['x'], attrs: { axis: 'int' },
  doc: 'Inclusive running sum along axis (int32 wraps around on overflow).',
  shape: ([x], { axis }) => {
    checkCanonicalAxes('cumsum', [axis], x.shape);
    return [x.shape];
  },
  dtype: ([x]) => {
    requireDType('cumsum', 'x', x, 'numeric');
    return [x.dtype];
  },
  differentiable: true,
  vjp: cumsumVjp,
};

export const MEAN: CompositeDef<ReduceAttrs> = {
  kind: 'composite', name: 'mean', inputs: ['x'], attrs: { axes: 'ints', keepdims: 'bool' },
  doc: 'Arithmetic mean over axes (floats only); NaN over an empty axis.',
  expand: (ops, [x], { axes, keepdims }, typeOf) => {
    const t = typeOf(x);
    requireDType('mean', 'x', t, 'float');
    return [ops.div(ops.sum(x, axes, keepdims), countOf(t.shape, axes))];
  },
};

export const VAR: CompositeDef<VarAttrs> = {
  kind: 'composite', name: 'var', inputs: ['x'], attrs: { axes: 'ints', correction: 'float', keepdims: 'bool' },
  doc: 'Variance over axes: Σ(x - mean)² / max(N - correction, 0) (floats only).',
  expand: (ops, [x], { axes, correction, keepdims }, typeOf) => {
    const t = typeOf(x);
    requireDType('var', 'x', t, 'float');
    const d = ops.sub(x, ops.mean(x, axes, true));
    // PyTorch clamps the divisor at 0: too few elements give inf (or NaN when all are equal).
    const divisor = Math.max(countOf(t.shape, axes) - correction, 0);
    return [ops.div(ops.sum(ops.mul(d, d), axes, keepdims), divisor)];
  },
};

export const LOGSUMEXP: CompositeDef<ReduceAttrs> = {
  kind: 'composite', name: 'logsumexp', inputs: ['x'], attrs: { axes: 'ints', keepdims: 'bool' },
  doc: 'log(Σ exp(x)) over axes, shifted by the maximum for stability; -inf over an empty axis.',
  expand: (ops, [x], { axes, keepdims }, typeOf) => {
    const t = typeOf(x);
    requireDType('logsumexp', 'x', t, 'float');
    const outShape = reducedShape(t.shape, axes, keepdims);
    if (axes.some((a) => t.shape[a] === 0)) return [ops.full(outShape, -Infinity, t.dtype)];
    // Shift by the maximum, except where it is ±inf (a row of -inf must give -inf, not NaN), as PyTorch does.
    const m = ops.max(x, axes, true);
    const shift = ops.where(ops.eq(ops.abs(m), Infinity), 0, m);
    const s = ops.sum(ops.exp(ops.sub(x, shift)), axes, keepdims);
    return [ops.add(ops.log(s), keepdims ? shift : ops.reshape(shift, outShape))];
  },
};

export const reduceDefs: readonly OpDef<any>[] = [SUM, PROD, MAX, MIN, ARGMAX, ARGMIN, CUMSUM, MEAN, VAR, LOGSUMEXP];

/** Axes to reduce: one axis, several (negative allowed, any order), or null/undefined for all. */
export type Axes = number | readonly number[] | null;

/**
 * Reductions over axes, and the running sum. `axis` null or omitted reduces every axis; an
 * empty list reduces none. `keepdims` keeps reduced axes as size 1, so the result broadcasts
 * against the input. A scalar accepts axis 0 or -1, as in PyTorch.
 */
export interface ReduceOps<V> {
  /** Sum; bool and int32 sum to int32 (wrapping on overflow). Zero-size axes sum to 0. @example `sum(tensor([[1, 2], [3, 4]]), 1)` → `[3, 7]` */
  sum(x: V, axis?: Axes, keepdims?: boolean): V;
  /** Mean of float tensors (cast integers first); NaN over zero-size axes. @example `mean(tensor([[1, 2], [3, 4]]), 0)` → `[2, 3]` */
  mean(x: V, axis?: Axes, keepdims?: boolean): V;
  /** Maximum values (NaN propagates); reduced axes must not be zero-size. @example `max(tensor([[1, 5], [7, 2]]), -1)` → `[5, 7]` */
  max(x: V, axis?: Axes, keepdims?: boolean): V;
  /** Minimum values (NaN propagates); reduced axes must not be zero-size. @example `min(tensor([[1, 5], [7, 2]]))` → `1` */
  min(x: V, axis?: Axes, keepdims?: boolean): V;
  /** Product; bool and int32 multiply in int32 (wrapping). Zero-size axes give 1. @example `prod(tensor([1, 2, 3, 4]))` → `24` */
  prod(x: V, axis?: Axes, keepdims?: boolean): V;
  /**
   * log(Σ exp(x)), computed stably (shifted by the maximum); integers are promoted to float32.
   * Rows of -inf give -inf, and so do zero-size axes.
   * @example `logsumexp(tensor([0, Math.log(3)]))` → `1.3863` (log 4)
   */
  logsumexp(x: V, axis?: Axes, keepdims?: boolean): V;
  /**
   * Index (int32) of the first maximum along `axis`, or into the flattened x when axis is null;
   * NaN counts as the maximum. @example `argmax(tensor([[1, 5], [7, 2]]), 1)` → `[1, 0]`
   */
  argmax(x: V, axis?: number | null, keepdims?: boolean): V;
  /**
   * Index (int32) of the first minimum along `axis`, or into the flattened x when axis is null;
   * NaN counts as the minimum. @example `argmin(tensor([[1, 5], [7, 2]]))` → `0`
   */
  argmin(x: V, axis?: number | null, keepdims?: boolean): V;
  /**
   * Variance Σ(x - mean)² / max(N - correction, 0) of float tensors; `correction` 1 (the default)
   * is the unbiased estimate, 0 the population variance.
   * @example `var(tensor([1, 2, 3, 4]))` → `1.6667`; `var(tensor([1, 2, 3, 4]), null, 0)` → `1.25`
   */
  var(x: V, axis?: Axes, correction?: number, keepdims?: boolean): V;
  /** Inclusive running sum along `axis`; bool and int32 give int32. @example `cumsum(tensor([1, 2, 3]), 0)` → `[1, 3, 6]` */
  cumsum(x: V, axis: number): V;
}

/** Resolves `axis` to canonical axes; for a scalar, checks it is 0 or -1 (as PyTorch) and reduces nothing. */
function reductionAxes(op: string, axis: unknown, rank: number): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === 'number' ? [axis] : axis;
  if (!Array.isArray(list) || !list.every((a) => Number.isInteger(a))) {
    throw new ArgumentError(`${op}: axis must be an integer, an array of integers, or null for all axes, got ${JSON.stringify(axis)}`);
  }
  if (rank > 0) return normalizeAxes(list, rank, op);
  const bad = list.find((a) => a !== 0 && a !== -1);
  if (bad !== undefined) {
    throw new AxisError(`${op}: axis ${bad} is out of range for a scalar (rank 0); a scalar accepts only axis 0 or -1, or null`);
  }
  normalizeAxes(list, 1, op); // repeated axes ([0, -1]) still throw
  return [];
}

function checkKeepdims(op: string, keepdims: unknown): boolean {
  if (typeof keepdims !== 'boolean') throw new ArgumentError(`${op}: keepdims must be a boolean, got ${JSON.stringify(keepdims)}`);
  return keepdims;
}

function requireFloat(op: string, dtype: string): void {
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new DTypeError(`${op}: x must be float32 or float64, got ${dtype}; as in PyTorch, cast integers first, e.g. ${op}(cast(x, 'float32'))`);
  }
}

export function reduceOps<V>(I: Interpreter<V>, ops: Ops<V>): ReduceOps<V> {
  const arg = (x: unknown, op: string) => expectValue(I, x, op, 'x');

  /** Binds a reduction over canonical axes; reducing no axes returns x unchanged. */
  const reduce = (def: PrimitiveDef<ReduceAttrs> | CompositeDef<ReduceAttrs>, x: V, axes: number[], keepdims: boolean) =>
    axes.length === 0 ? x : apply1(I, def, [x], { axes, keepdims });

  /** sum and prod compute bool in int32 (PyTorch gives int64, Kiln has none). */
  const accumulate = (def: PrimitiveDef<ReduceAttrs>) => (x: V, axis?: Axes, keepdims = false): V => {
    const v = arg(x, def.name);
    const axes = reductionAxes(def.name, axis, I.typeOf(v).shape.length);
    const k = checkKeepdims(def.name, keepdims);
    return reduce(def, I.typeOf(v).dtype === 'bool' ? ops.cast(v, 'int32') : v, axes, k);
  };
  const extremum = (def: PrimitiveDef<ReduceAttrs>) => (x: V, axis?: Axes, keepdims = false): V => {
    const v = arg(x, def.name);
    return reduce(def, v, reductionAxes(def.name, axis, I.typeOf(v).shape.length), checkKeepdims(def.name, keepdims));
  };
  const argExtremum = (def: PrimitiveDef<ArgReduceAttrs>) => (x: V, axis: number | null = null, keepdims = false): V => {
    const v = arg(x, def.name);
    const { shape, dtype } = I.typeOf(v);
    if (axis !== null && !Number.isInteger(axis)) {
      throw new ArgumentError(`${def.name}: axis must be an integer, or null for the flattened tensor, got ${JSON.stringify(axis)}`);
    }
    if (dtype === 'bool') {
      throw new DTypeError(`${def.name}: x must be int32, float32 or float64, got bool (as in PyTorch); cast it first, e.g. ${def.name}(cast(x, 'int32'))`);
    }
    const k = checkKeepdims(def.name, keepdims);
    let canonical: number | null = null;
    if (axis !== null) {
      // A scalar accepts axis 0 or -1, which means the whole (one-element) tensor.
      if (shape.length === 0) reductionAxes(def.name, axis, 0);
      else canonical = normalizeAxis(axis, shape.length, def.name);
    }
    return apply1(I, def, [v], { axis: canonical, keepdims: k });
  };

  return {
    sum: accumulate(SUM),
    prod: accumulate(PROD),
    max: extremum(MAX),
    min: extremum(MIN),
    mean: (x, axis, keepdims = false) => {
      const v = arg(x, 'mean');
      const { shape, dtype } = I.typeOf(v);
      const axes = reductionAxes('mean', axis, shape.length);
      const k = checkKeepdims('mean', keepdims);
      requireFloat('mean', dtype);
      return reduce(MEAN, v, axes, k);
    },
    logsumexp: (x, axis, keepdims = false) => {
      const v = arg(x, 'logsumexp');
      const axes = reductionAxes('logsumexp', axis, I.typeOf(v).shape.length);
      const k = checkKeepdims('logsumexp', keepdims);
      // Integer and bool inputs are promoted to the default float, as PyTorch does.
      return reduce(LOGSUMEXP, isFloating(I.typeOf(v).dtype) ? v : ops.cast(v, DEFAULT_FLOAT), axes, k);
    },
    argmax: argExtremum(ARGMAX),
    argmin: argExtremum(ARGMIN),
    var: (x, axis, correction = 1, keepdims = false) => {
      const v = arg(x, 'var');
      const { shape, dtype } = I.typeOf(v);
      const axes = reductionAxes('var', axis, shape.length);
      const k = checkKeepdims('var', keepdims);
      if (typeof correction !== 'number' || !Number.isFinite(correction)) {
        throw new ArgumentError(`var: correction must be a finite number (1 for the unbiased variance, 0 for the population variance), got ${JSON.stringify(correction)}`);
      }
      requireFloat('var', dtype);
      // Even over no axes var is not x: each element is its own mean, so the result is 0 / (1 - correction).
      return apply1(I, VAR, [v], { axes, correction, keepdims: k });
    },
    cumsum: (x, axis) => {
      const v = arg(x, 'cumsum');
      if (axis === undefined || axis === null) {
        throw new ArgumentError('cumsum: axis is required (an integer; PyTorch\'s dim has no default either); to sum a flattened tensor, reshape it to [-1] first');
      }
      if (!Number.isInteger(axis)) throw new ArgumentError(`cumsum: axis must be an integer, got ${JSON.stringify(axis)}`);
      const { shape, dtype } = I.typeOf(v);
      const input = dtype === 'bool' ? ops.cast(v, 'int32') : v;
      if (shape.length === 0) {
        reductionAxes('cumsum', axis, 0);
        return input;
      }
      return apply1(I, CUMSUM, [input], { axis: normalizeAxis(axis, shape.length, 'cumsum') });
    },
  };
}

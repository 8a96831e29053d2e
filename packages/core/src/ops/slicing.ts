import { ArgumentError, ShapeError } from '../errors.js';
import type { Shape } from '../shape.js';
import { normalizeAxes, shapeToString } from '../shape.js';
import { apply1, expectValue } from './bind.js';
import type { Interpreter } from './interpreter.js';
import type { OpDef, PrimitiveDef, TensorType } from './op.js';
import { sameDType } from './rules.js';
import type { Ops } from './surface.js';

/** A slice bound: an index (negative counts from the end), or null/undefined for the default. */
export type SliceBound = number | null | undefined;

/**
 * What `slice` takes for one axis:
 * - `null`: the whole axis;
 * - an integer `i`: the element at index `i` (negative counts from the end); the axis is dropped;
 * - `[start, end, step]`: Python's `start:end:step` (each part optional, null for its default;
 *   out-of-range bounds are clamped; a negative step walks backwards, as in NumPy).
 */
export type SliceSpec = null | number | readonly [start?: SliceBound, end?: SliceBound, step?: SliceBound];

type SliceAttrs = { starts: readonly number[]; ends: readonly number[]; steps: readonly number[] };

/** Number of elements `start, start+step, …` before `end` (Python's len(range(start, end, step))). */
function rangeLength(start: number, end: number, step: number): number {
  return Math.max(0, Math.ceil((end - start) / step));
}

export const SLICE: PrimitiveDef<SliceAttrs> = {
  kind: 'primitive', name: 'slice', inputs: ['x'], attrs: { starts: 'ints', ends: 'ints', steps: 'ints' },
  doc: 'Takes x[starts[i]:ends[i]:steps[i]] on every axis i (canonical: in-range starts, tight ends, nonzero steps).',
  shape: ([x], { starts, ends, steps }) => {
    const rank = x.shape.length;
    if (starts.length !== rank || ends.length !== rank || steps.length !== rank) {
      throw new ArgumentError(`slice: starts, ends and steps need one entry per axis of ${shapeToString(x.shape)} (${rank}), got ${starts.length}, ${ends.length} and ${steps.length}`);
    }
    return [x.shape.map((n, i) => {
      if (steps[i] === 0) throw new ArgumentError(`slice: step on axis ${i} is 0; steps must be nonzero`);
      const length = rangeLength(starts[i], ends[i], steps[i]);
      const last = starts[i] + (length - 1) * steps[i];
      if (length > 0 && (starts[i] < 0 || starts[i] >= n || last < 0 || last >= n)) {
        throw new ShapeError(`slice: ${starts[i]}:${ends[i]}:${steps[i]} reads outside axis ${i} of ${shapeToString(x.shape)} (size ${n})`);
      }
      return length;
    })];
  },
  dtype: sameDType,
  differentiable: true,
  vjp: (ops, { inputs: [x], attrs, cotangents: [g], typeOf }) => [unslice(ops, g!, typeOf(x).shape, attrs, typeOf)],
};

/**
 * The gradient of a slice: the cotangent placed back where the slice read it, zeros elsewhere.
 * Axes walked backwards are flipped; an axis with step s > 1 is spread out by giving each
 * element s - 1 zeros after it (a new axis of size s, padded, then merged); one pad then moves
 * everything into place (its negative `after` drops the trailing zeros of the last element).
 */
function unslice<V>(ops: Ops<V>, g: V, shape: Shape, { starts, steps }: SliceAttrs, typeOf: (v: V) => TensorType): V {
  const lengths = typeOf(g).shape;
  const backwards = steps.flatMap((s, i) => (s < 0 ? [i] : []));
  let y = backwards.length ? ops.flip(g, backwards) : g;
  steps.forEach((step, i) => {
    const s = Math.abs(step);
    if (s === 1 || lengths[i] === 0) return;
    const cur = typeOf(y).shape;
    const spread = ops.reshape(y, [...cur.slice(0, i + 1), 1, ...cur.slice(i + 1)]);
    const none = new Array<number>(cur.length + 1).fill(0);
    const padded = padAxes(ops, spread, none, none.map((_, j) => (j === i + 1 ? s - 1 : 0)));
    y = ops.reshape(padded, cur.map((d, j) => (j === i ? d * s : d)));
  });
  // The lowest index read on each axis (the last one read when walking backwards).
  const before = starts.map((start, i) => (lengths[i] === 0 ? 0 : steps[i] < 0 ? start + (lengths[i] - 1) * steps[i] : start));
  const sizes = typeOf(y).shape;
  return padAxes(ops, y, before, shape.map((n, i) => n - before[i] - sizes[i]));
}

/** pad with per-axis amounts (axis order), translated to the surface's last-axis-first pairs. */
function padAxes<V>(ops: Ops<V>, x: V, before: readonly number[], after: readonly number[]): V {
  const padding = before.flatMap((_, k) => {
    const axis = before.length - 1 - k;
    return [before[axis], after[axis]];
  });
  return ops.pad(x, padding, 0);
}

type PadAttrs = { before: readonly number[]; after: readonly number[]; value: number };

export const PAD: PrimitiveDef<PadAttrs> = {
  kind: 'primitive', name: 'pad', inputs: ['x'], attrs: { before: 'ints', after: 'ints', value: 'float' },
  doc: 'Adds before[i] and after[i] elements of `value` around axis i (negative amounts crop).',
  shape: ([x], { before, after }) => [padShape(x, before, after)],
  dtype: sameDType,
  differentiable: true,
  // Each input element moved by `before`: pad the cotangent by the opposite amounts, which crops
  // the padding away and gives zeros to elements that negative padding cropped.
  vjp: (ops, { attrs: { before, after }, cotangents: [g] }) => [padAxes(ops, g!, before.map((b) => -b), after.map((a) => -a))],
};

function padShape(x: TensorType, before: readonly number[], after: readonly number[]): number[] {
  const rank = x.shape.length;
  if (before.length !== rank || after.length !== rank) {
    throw new ArgumentError(`pad: before and after need one entry per axis of ${shapeToString(x.shape)} (${rank}), got ${before.length} and ${after.length}`);
  }
  return x.shape.map((n, i) => {
    const size = n + before[i] + after[i];
    if (size < 0) {
      throw new ShapeError(`pad: padding (${before[i]}, ${after[i]}) on axis ${i} of ${shapeToString(x.shape)} gives size ${size}; negative padding may crop at most the whole axis`);
    }
    return size;
  });
}

export const slicingDefs: readonly OpDef<any>[] = [SLICE, PAD];

/** Ops that cut out, pad or mask a box of a tensor. */
export interface SlicingOps<V> {
  /**
   * NumPy-style basic indexing, one spec per leading axis (missing trailing axes are kept
   * whole): `null` keeps the axis, an integer selects one index and drops the axis,
   * `[start, end, step]` is Python's `start:end:step` (negative steps allowed).
   * @example `slice(x, [0, [null, null, -1]])` is NumPy's `x[0, ::-1]`
   */
  slice(x: V, specs: readonly SliceSpec[]): V;
  /**
   * Constant padding, as torch.nn.functional.pad: `padding` holds (before, after) pairs
   * starting from the last axis; negative amounts crop.
   * @example `pad(ones([2, 2]), [1, 0])` → shape [2, 3], zeros in column 0
   */
  pad(x: V, padding: readonly number[], value?: number | boolean): V;
  /**
   * Reverses the order of elements along `axes`.
   * @example `flip(tensor([[1, 2], [3, 4]]), 1)` → `[[2, 1], [4, 3]]`
   */
  flip(x: V, axes: number | readonly number[]): V;
  /**
   * Keeps the lower triangle of the last two axes: elements with col - row ≤ `diagonal`;
   * the others become 0.
   * @example `tril(ones([2, 2]))` → `[[1, 0], [1, 1]]`
   */
  tril(x: V, diagonal?: number): V;
  /**
   * Keeps the upper triangle of the last two axes: elements with col - row ≥ `diagonal`;
   * the others become 0.
   * @example `triu(ones([2, 2]), 1)` → `[[0, 1], [0, 0]]`
   */
  triu(x: V, diagonal?: number): V;
}

/** One axis of a slice in canonical form, and whether a plain index dropped the axis. */
interface AxisSlice { start: number; end: number; step: number; drop: boolean }

const isBound = (b: unknown): b is SliceBound => b === null || b === undefined || Number.isInteger(b);

/**
 * Resolves one spec against an axis of size n like Python's slice.indices, then makes it
 * canonical: an empty slice is 0:0:1, a one-element slice has step 1, and end is tight
 * (one step past the last element, so -1 after index 0 with a negative step).
 */
function resolveSpec(spec: SliceSpec, n: number, axis: number): AxisSlice {
  if (spec === null || spec === undefined) return { start: 0, end: n, step: 1, drop: false };
  if (typeof spec === 'number') {
    if (!Number.isInteger(spec) || spec < -n || spec >= n) {
      const valid = n === 0 ? 'the axis is empty' : `valid indices are ${-n}..${n - 1}`;
      throw new ArgumentError(`slice: index ${spec} is out of range for axis ${axis} of size ${n} (${valid})`);
    }
    const i = spec < 0 ? spec + n : spec;
    return { start: i, end: i + 1, step: 1, drop: true };
  }
  if (!Array.isArray(spec) || spec.length > 3 || !spec.every(isBound)) {
    throw new ArgumentError(`slice: the spec for axis ${axis} must be null, an integer index or [start, end, step] of integers or nulls, got ${JSON.stringify(spec)}`);
  }
  const step = spec[2] ?? 1;
  if (step === 0) throw new ArgumentError(`slice: step for axis ${axis} is 0; a step must be a nonzero integer`);
  const clamp = (b: number, lo: number, hi: number) => Math.min(Math.max(b < 0 ? b + n : b, lo), hi);
  // Python's slice.indices: with a negative step the defaults are n-1 and "before 0" (-1).
  const [lo, hi] = step > 0 ? [0, n] : [-1, n - 1];
  const start = spec[0] === null || spec[0] === undefined ? (step > 0 ? 0 : n - 1) : clamp(spec[0], lo, hi);
  const end = spec[1] === null || spec[1] === undefined ? (step > 0 ? n : -1) : clamp(spec[1], lo, hi);
  const length = rangeLength(start, end, step);
  if (length === 0) return { start: 0, end: 0, step: 1, drop: false };
  if (length === 1) return { start, end: start + 1, step: 1, drop: false };
  return { start, end: start + (length - 1) * step + Math.sign(step), step, drop: false };
}

export function slicingOps<V>(I: Interpreter<V>, ops: Ops<V>): SlicingOps<V> {
  const arg = (x: unknown, op: string) => expectValue(I, x, op, 'x');
  const shapeOf = (v: V) => I.typeOf(v).shape;

  const slice = (x: V, specs: readonly SliceSpec[]): V => {
    const v = arg(x, 'slice');
    const shape = shapeOf(v);
    if (!Array.isArray(specs)) throw new ArgumentError(`slice: specs must be an array with one spec per leading axis, got ${JSON.stringify(specs)}`);
    if (specs.length > shape.length) {
      throw new ArgumentError(`slice: got ${specs.length} specs for a tensor of shape ${shapeToString(shape)}; at most one per axis (${shape.length})`);
    }
    const axes = shape.map((n, i) => resolveSpec(i < specs.length ? specs[i] : null, n, i));
    const whole = axes.every((s, i) => s.start === 0 && s.end === shape[i] && s.step === 1);
    const cut = whole ? v : apply1(I, SLICE, [v], {
      starts: axes.map((s) => s.start), ends: axes.map((s) => s.end), steps: axes.map((s) => s.step),
    });
    return axes.some((s) => s.drop) ? ops.reshape(cut, shapeOf(cut).filter((_, i) => !axes[i].drop)) : cut;
  };

  const triangle = (op: 'tril' | 'triu') => (x: V, diagonal = 0): V => {
    const v = arg(x, op);
    const shape = shapeOf(v);
    if (shape.length < 2) throw new ShapeError(`${op}: x must have at least 2 dimensions (the matrix is the last two), got shape ${shapeToString(shape)}`);
    if (!Number.isInteger(diagonal)) throw new ArgumentError(`${op}: diagonal must be an integer, got ${JSON.stringify(diagonal)}`);
    // col - row for every position of the last two axes, compared with the diagonal.
    const rows = ops.reshape(ops.arange(shape[shape.length - 2]), [-1, 1]);
    const offset = ops.sub(ops.arange(shape[shape.length - 1]), rows);
    const keep = op === 'tril' ? ops.le(offset, diagonal) : ops.ge(offset, diagonal);
    // `false` is a weak scalar that takes x's dtype (0, or false for bool): masked NaNs become 0.
    return ops.where(keep, v, false);
  };

  return {
    slice,
    pad: (x, padding, value = 0) => {
      const v = arg(x, 'pad');
      const shape = shapeOf(v);
      const rank = shape.length;
      if (!Array.isArray(padding) || !padding.every((p) => Number.isInteger(p))) {
        throw new ArgumentError(`pad: padding must be an array of integers, got ${JSON.stringify(padding)}`);
      }
      if (padding.length % 2 !== 0 || padding.length > 2 * rank) {
        throw new ArgumentError(`pad: padding has length ${padding.length} for a tensor of shape ${shapeToString(shape)}; it needs an even number, at most ${2 * rank} (a before, after pair per axis, last axis first)`);
      }
      if (typeof value !== 'number' && typeof value !== 'boolean') {
        throw new ArgumentError(`pad: value must be a number or boolean, got ${JSON.stringify(value)}`);
      }
      const before = new Array<number>(rank).fill(0);
      const after = new Array<number>(rank).fill(0);
      for (let k = 0; k < padding.length / 2; k++) {
        before[rank - 1 - k] = padding[2 * k];
        after[rank - 1 - k] = padding[2 * k + 1];
      }
      if (before.every((p) => p === 0) && after.every((p) => p === 0)) return v;
      return apply1(I, PAD, [v], { before, after, value: padValue(Number(value), I.typeOf(v)) });
    },
    flip: (x, axes) => {
      const v = arg(x, 'flip');
      const flipped = new Set(normalizeAxes(axes, shapeOf(v).length, 'flip'));
      const specs = shapeOf(v).map((_, i): SliceSpec => (flipped.has(i) ? [null, null, -1] : null));
      return slice(v, specs);
    },
    tril: triangle('tril'),
    triu: triangle('triu'),
  };
}

/** The fill value as the tensor's dtype stores it: int32 truncates toward zero, bool is 0 or 1. */
function padValue(value: number, x: TensorType): number {
  if (x.dtype === 'int32') return Number.isFinite(value) ? Math.trunc(value) : 0;
  if (x.dtype === 'bool') return value !== 0 ? 1 : 0;
  return value;
}

import { ArgumentError, AxisError, ShapeError } from './errors.js';

/** A tensor shape: one non-negative integer per dimension. `[]` is a scalar. */
export type Shape = readonly number[];

/** Renders a shape as `[2,3]` for messages and printed graphs. */
export function shapeToString(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** Number of elements of a shape (1 for a scalar, 0 if any dimension is 0). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-order) strides, in elements. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Throws an ArgumentError unless every dimension is a non-negative integer. */
export function checkShape(shape: unknown, where: string): Shape {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ArgumentError(`${where}: a shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  return shape;
}

/**
 * Broadcasts shapes by NumPy's rules: align from the right; each pair of dimensions must be
 * equal or one of them 1.
 *
 * @example
 * ```ts
 * broadcastShapes([[8, 1, 3], [4, 3]], 'add'); // [8, 4, 3]
 * ```
 */
export function broadcastShapes(shapes: readonly Shape[], op: string, argNames?: readonly string[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  const owner = new Array<number>(rank).fill(-1);
  shapes.forEach((shape, k) => {
    for (let i = 0; i < shape.length; i++) {
      const axis = rank - shape.length + i;
      const d = shape[i];
      if (d === out[axis] || d === 1) continue;
      if (out[axis] === 1) {
        out[axis] = d;
        owner[axis] = k;
        continue;
      }
      const name = (j: number) => argNames?.[j] ?? `input ${j}`;
      const other = owner[axis];
      throw new ShapeError(
        `${op}: cannot broadcast shapes ${shapeToString(shapes[other])} (${name(other)}) and ${shapeToString(shape)} (${name(k)}): ` +
          `dimension ${axis - rank} is ${out[axis]} vs ${d}. Aligned from the right, each pair of dimensions must be equal or one of them 1.`,
      );
    }
  });
  return out;
}

/** Whether `from` broadcasts to `to` (is `to` a valid target for broadcastTo). */
export function broadcastsTo(from: Shape, to: Shape): boolean {
  if (from.length > to.length) return false;
  const off = to.length - from.length;
  return from.every((d, i) => d === 1 || d === to[off + i]);
}

/** Resolves a possibly negative axis against `rank`, or throws an AxisError naming op and argument. */
export function normalizeAxis(axis: number, rank: number, op: string, arg = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    const range = rank === 0 ? 'a scalar has no axes' : `valid axes are ${-rank}..${rank - 1}`;
    throw new AxisError(`${op}: ${arg} ${axis} is out of range for a tensor of rank ${rank} (${range})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/**
 * Resolves an axis, a list of axes, or undefined (all axes) to sorted unique non-negative axes.
 * Repeated axes throw.
 */
export function normalizeAxes(axes: number | readonly number[] | undefined | null, rank: number, op: string, arg = 'axis'): number[] {
  if (axes === undefined || axes === null) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = list.map((a) => normalizeAxis(a, rank, op, arg));
  if (new Set(out).size !== out.length) {
    throw new AxisError(`${op}: ${arg} ${JSON.stringify(list)} repeats an axis; each axis may appear once`);
  }
  return out.sort((a, b) => a - b);
}

import type { DType } from '../dtype.js';
import { checkDType, DEFAULT_FLOAT, dtypeOfScalar } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import type { Shape } from '../shape.js';
import { checkShape, shapeToString, sizeOf } from '../shape.js';
import { apply1, expectValue } from './bind.js';
import type { Interpreter } from './interpreter.js';
import type { CompositeDef, OpDef, PrimitiveDef } from './op.js';
import type { RandomOps } from './random.js';
import { randomDefs, randomOps } from './random.js';
import type { Ops } from './surface.js';

/** The most elements a range op makes (the largest int32). */
const MAX_RANGE = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

export const FULL: PrimitiveDef<{ shape: readonly number[]; value: number; dtype: DType }> = {
  kind: 'primitive', name: 'full', inputs: [], attrs: { shape: 'ints', value: 'float', dtype: 'dtype' },
  doc: 'A tensor of `shape` filled with `value`.',
  shape: (_inputs, { shape }) => [checkShape(shape, 'full')],
  dtype: (_inputs, { dtype }) => [dtype],
  differentiable: false,
};

/**
 * The number of elements of arange(start, stop, step), by PyTorch's rule ⌈(stop − start) / step⌉
 * in float64; 0 for an empty or reversed range. Throws an ArgumentError for a zero or
 * non-finite argument or a range too long.
 */
export function arangeLength(start: number, stop: number, step: number): number {
  for (const [name, v] of [['start', start], ['stop', stop], ['step', step]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ArgumentError(`arange: ${name} must be a finite number, got ${typeof v === 'number' ? v : typeof v}`);
    }
  }
  if (step === 0) throw new ArgumentError('arange: step must be nonzero');
  const n = Math.ceil((stop - start) / step);
  if (n > MAX_RANGE) {
    throw new ArgumentError(`arange: the range from ${start} to ${stop} by ${step} has ${n} elements; at most ${MAX_RANGE} are allowed`);
  }
  return Math.max(0, n);
}

const RANGE_DTYPES = 'int32, float32 or float64';
function rangeDType(op: string, dtype: DType): DType[] {
  if (dtype === 'bool') throw new DTypeError(`${op}: dtype must be ${RANGE_DTYPES}, got bool`);
  return [dtype];
}

export const ARANGE: PrimitiveDef<{ start: number; stop: number; step: number; dtype: DType }> = {
  kind: 'primitive', name: 'arange', inputs: [], attrs: { start: 'float', stop: 'float', step: 'float', dtype: 'dtype' },
  doc: 'Values start + i·step (one rounding, as PyTorch) for i < ⌈(stop − start) / step⌉.',
  shape: (_inputs, { start, stop, step }) => [[arangeLength(start, stop, step)]],
  dtype: (_inputs, { dtype }) => rangeDType('arange', dtype),
  differentiable: false,
};

export const LINSPACE: PrimitiveDef<{ start: number; stop: number; steps: number; dtype: DType }> = {
  kind: 'primitive', name: 'linspace', inputs: [], attrs: { start: 'float', stop: 'float', steps: 'int', dtype: 'dtype' },
  doc: '`steps` evenly spaced values from start to stop inclusive, computed as torch.linspace.',
  shape: (_inputs, { steps }) => {
    if (!Number.isInteger(steps) || steps < 0 || steps > MAX_RANGE) {
      throw new ArgumentError(`linspace: steps must be an integer in 0..${MAX_RANGE}, got ${steps}`);
    }
    return [[steps]];
  },
  dtype: (_inputs, { dtype }) => rangeDType('linspace', dtype),
  differentiable: false,
};

export const EYE: CompositeDef<{ n: number; m: number; dtype: DType }> = {
  kind: 'composite', name: 'eye', inputs: [], attrs: { n: 'int', m: 'int', dtype: 'dtype' },
  doc: 'An n×m matrix with ones on the main diagonal and zeros elsewhere.',
  expand: (ops, _inputs, { n, m, dtype }) => {
    const rows = ops.reshape(ops.arange(0, n, 1, 'int32'), [n, 1]);
    return [ops.cast(ops.eq(rows, ops.arange(0, m, 1, 'int32')), dtype)];
  },
};

/**
 * A tensor written into the graph: how a compiled function keeps data it created while tracing
 * (`tensor([...])` inside the function). Not part of the public surface.
 */
export const CONSTANT: PrimitiveDef<{ shape: readonly number[]; dtype: DType; data: readonly number[] }> = {
  kind: 'primitive', name: 'constant', inputs: [], attrs: { shape: 'ints', dtype: 'dtype', data: 'floats' },
  doc: 'A tensor whose elements are stored in the graph (row-major).',
  shape: (_inputs, { shape, data }) => {
    checkShape(shape, 'constant');
    if (sizeOf(shape) !== data.length) {
      throw new ShapeError(`constant: shape ${shapeToString(shape)} holds ${sizeOf(shape)} elements but data has ${data.length}`);
    }
    return [shape];
  },
  dtype: (_inputs, { dtype }) => [dtype],
  differentiable: false,
};

export const creationDefs: readonly OpDef<any>[] = [FULL, ARANGE, LINSPACE, EYE, CONSTANT, ...randomDefs];

/** Ops that create tensors from attributes alone (and the random ops, see RandomOps). */
export interface CreationOps<V> extends RandomOps<V> {
  /**
   * A tensor of `shape` filled with `value`; the dtype defaults to the value's (int32 for
   * integers, float32 otherwise, bool for booleans).
   * @example `full([2, 2], 7)` → `[[7, 7], [7, 7]]` (int32)
   */
  full(shape: Shape, value: number | boolean, dtype?: DType): V;
  /** Zeros. @example `zeros([2, 3])` → f32[2,3] of 0 */
  zeros(shape: Shape, dtype?: DType): V;
  /** Ones. @example `ones([3], 'int32')` → `[1, 1, 1]` */
  ones(shape: Shape, dtype?: DType): V;
  /**
   * `arange(stop)` is 0, 1, …, stop − 1; `arange(start, stop, step)` is start + i·step for
   * i < ⌈(stop − start) / step⌉ (empty when the range is empty or runs against the step's sign).
   * The dtype is int32 when every argument is an integer, float32 otherwise; an explicit int32
   * dtype truncates start and step toward zero, as PyTorch does.
   * @example `arange(1, 2, 0.25)` → `[1, 1.25, 1.5, 1.75]` (float32)
   */
  arange(stop: number): V;
  arange(start: number, stop: number, step?: number, dtype?: DType): V;
  /**
   * `steps` evenly spaced values from `start` to `stop` inclusive, exactly as torch.linspace: the
   * first half counts up from start, the second half down from stop. An int32 dtype truncates.
   * @example `linspace(0, 1, 5)` → `[0, 0.25, 0.5, 0.75, 1]`
   */
  linspace(start: number, stop: number, steps: number, dtype?: DType): V;
  /**
   * An n×m identity matrix (m defaults to n).
   * @example `eye(2, 3)` → `[[1, 0, 0], [0, 1, 0]]`
   */
  eye(n: number, m?: number, dtype?: DType): V;
  /** Zeros of x's shape and (unless given) dtype. @example `zerosLike(ones([2], 'int32'))` → `[0, 0]` (int32) */
  zerosLike(x: V, dtype?: DType): V;
  /** Ones of x's shape and (unless given) dtype. @example `onesLike(zeros([2, 2]))` → `[[1, 1], [1, 1]]` */
  onesLike(x: V, dtype?: DType): V;
  /**
   * `value` in x's shape and (unless given) dtype; the value is converted to that dtype.
   * @example `fullLike(zeros([2], 'int32'), 2.7)` → `[2, 2]` (int32)
   */
  fullLike(x: V, value: number | boolean, dtype?: DType): V;
}

/** Throws unless `v` is a finite number; int32 also needs it to fit after truncation (PyTorch: "cannot be converted"). */
function checkValueFor(op: string, arg: string, v: unknown, dtype: DType): number {
  if (typeof v === 'boolean') return Number(v);
  if (typeof v !== 'number') throw new ArgumentError(`${op}: ${arg} must be a number, got ${typeof v}`);
  if (dtype === 'int32' && !(Math.trunc(v) >= INT32_MIN && Math.trunc(v) <= INT32_MAX)) {
    throw new ArgumentError(`${op}: ${arg} ${v} cannot be converted to int32 (valid values are finite, from ${INT32_MIN} to ${INT32_MAX})`);
  }
  return v;
}

function checkCount(op: string, arg: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > MAX_RANGE) {
    throw new ArgumentError(`${op}: ${arg} must be a non-negative integer (at most ${MAX_RANGE}), got ${typeof v === 'number' ? v : typeof v}`);
  }
  return v as number;
}

function rangeDTypeArg(op: string, dtype: unknown): DType {
  const d = checkDType(dtype, op);
  rangeDType(op, d);
  return d;
}

export function creationOps<V>(I: Interpreter<V>, ops: Ops<V>): CreationOps<V> {
  const full = (shape: Shape, value: number | boolean, dtype?: DType): V => {
    const d = dtype === undefined ? dtypeOfScalar(value) : checkDType(dtype, 'full');
    return apply1(I, FULL, [], { shape: [...checkShape(shape, 'full')], value: checkValueFor('full', 'value', value, d), dtype: d });
  };
  const like = (op: string, x: V, value: number | boolean, dtype?: DType): V => {
    const t = I.typeOf(expectValue(I, x, op, 'x'));
    const d = dtype === undefined ? t.dtype : checkDType(dtype, op);
    return apply1(I, FULL, [], { shape: [...t.shape], value: checkValueFor(op, 'value', value, d), dtype: d });
  };
  function arange(a: number, b?: number, step = 1, dtype?: DType): V {
    const [start, stop] = b === undefined ? [0, a] : [a, b];
    const n = arangeLength(start, stop, step);
    const integral = Number.isInteger(start) && Number.isInteger(stop) && Number.isInteger(step);
    const d = dtype === undefined ? (integral ? 'int32' : DEFAULT_FLOAT) : rangeDTypeArg('arange', dtype);
    if (d !== 'int32') return apply1(I, ARANGE, [], { start, stop, step, dtype: d });
    // PyTorch counts the elements with the given values but computes them from start and step
    // truncated to integers; the canonical attrs hold the truncated values and a matching stop.
    const s0 = Math.trunc(start);
    const st = Math.trunc(step);
    if (st === 0) throw new ArgumentError(`arange: step ${step} truncates to 0 for dtype int32; use |step| ≥ 1 or a float dtype`);
    if (n > 0) {
      checkValueFor('arange', 'start', s0, d);
      checkValueFor('arange', 'the last value', s0 + (n - 1) * st, d);
    }
    return apply1(I, ARANGE, [], { start: s0, stop: integral ? stop : s0 + n * st, step: st, dtype: d });
  }
  return {
    full,
    zeros: (shape, dtype = 'float32') => full(shape, 0, dtype),
    ones: (shape, dtype = 'float32') => full(shape, 1, dtype),
    arange,
    linspace: (start, stop, steps, dtype = 'float32') => {
      const d = rangeDTypeArg('linspace', dtype);
      const n = checkCount('linspace', 'steps', steps);
      let [s, e] = [checkValueFor('linspace', 'start', start, d), checkValueFor('linspace', 'stop', stop, d)];
      if (d === 'int32') [s, e] = [Math.trunc(s), Math.trunc(e)];
      if (d === 'float32') [s, e] = [Math.fround(s), Math.fround(e)];
      return apply1(I, LINSPACE, [], { start: s, stop: e, steps: n, dtype: d });
    },
    eye: (n, m, dtype = 'float32') => {
      const rows = checkCount('eye', 'n', n);
      const cols = m === undefined ? rows : checkCount('eye', 'm', m);
      return apply1(I, EYE, [], { n: rows, m: cols, dtype: checkDType(dtype, 'eye') });
    },
    zerosLike: (x, dtype) => like('zerosLike', x, 0, dtype),
    onesLike: (x, dtype) => like('onesLike', x, 1, dtype),
    fullLike: (x, value, dtype) => like('fullLike', x, value, dtype),
    ...randomOps(I, ops),
  };
}

import type { DType } from '../dtype.js';
import { checkDType, isFloating } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import type { Shape } from '../shape.js';
import { checkShape, shapeToString } from '../shape.js';
import { apply1, expectValue } from './bind.js';
import type { Interpreter } from './interpreter.js';
import type { CompositeDef, OpDef, PrimitiveDef, TensorType } from './op.js';
import type { Ops } from './surface.js';

/**
 * Random ops. The primitives take an explicit key, an int32[2] `[seed, stream]`, and produce
 * Philox4x32-10 numbers (see docs/design/random.md and random/philox.ts, the reference); the
 * public ops (`rand`, `randn`, …) draw a fresh key from the interpreter with `I.randomKey()`.
 */

type RandomAttrs = { shape: readonly number[]; dtype: DType };

function checkKey(op: string, key: TensorType): void {
  if (key.dtype !== 'int32') throw new DTypeError(`${op}: key must be int32, got ${key.dtype}; get a key from randomKey()`);
  if (key.shape.length !== 1 || key.shape[0] !== 2) {
    throw new ShapeError(`${op}: key must have shape [2] ([seed, stream]), got ${shapeToString(key.shape)}`);
  }
}

function checkFloatDType(op: string, dtype: unknown): DType {
  const d = checkDType(dtype, op);
  if (!isFloating(d)) throw new DTypeError(`${op}: dtype must be float32 or float64, got ${d}`);
  return d;
}

function randomPrimitive(name: string, doc: string): PrimitiveDef<RandomAttrs> {
  return {
    kind: 'primitive', name, inputs: ['key'], attrs: { shape: 'ints', dtype: 'dtype' }, doc,
    shape: ([key], { shape }) => {
      checkKey(name, key);
      return [checkShape(shape, name)];
    },
    dtype: ([key], { dtype }) => {
      checkKey(name, key);
      return [checkFloatDType(name, dtype)];
    },
    differentiable: false,
  };
}

export const RANDOM_UNIFORM = randomPrimitive('randomUniform', 'Uniform samples in [0, 1) from Philox4x32-10 for a key [seed, stream].');
export const RANDOM_NORMAL = randomPrimitive('randomNormal', 'Standard normal samples (Box–Muller on Philox4x32-10) for a key [seed, stream].');

export const RAND: CompositeDef<RandomAttrs> = {
  kind: 'composite', name: 'rand', inputs: ['key'], attrs: { shape: 'ints', dtype: 'dtype' },
  doc: 'Uniform samples in [0, 1).',
  expand: (ops, [key], { shape, dtype }) => [ops.randomUniform(key, shape, dtype)],
};

export const RANDN: CompositeDef<RandomAttrs> = {
  kind: 'composite', name: 'randn', inputs: ['key'], attrs: { shape: 'ints', dtype: 'dtype' },
  doc: 'Standard normal samples.',
  expand: (ops, [key], { shape, dtype }) => [ops.randomNormal(key, shape, dtype)],
};

export const UNIFORM: CompositeDef<RandomAttrs & { low: number; high: number }> = {
  kind: 'composite', name: 'uniform', inputs: ['key'], attrs: { shape: 'ints', low: 'float', high: 'float', dtype: 'dtype' },
  doc: 'Uniform samples low + u·(high − low), u in [0, 1).',
  expand: (ops, [key], { shape, low, high, dtype }) => [ops.add(ops.mul(ops.randomUniform(key, shape, dtype), high - low), low)],
};

export const NORMAL: CompositeDef<RandomAttrs & { mean: number; std: number }> = {
  kind: 'composite', name: 'normal', inputs: ['key'], attrs: { shape: 'ints', mean: 'float', std: 'float', dtype: 'dtype' },
  doc: 'Normal samples mean + std·z, z standard normal.',
  expand: (ops, [key], { shape, mean, std, dtype }) => [ops.add(ops.mul(ops.randomNormal(key, shape, dtype), std), mean)],
};

/** Below this many integers a float32 uniform picks them (so backends without float64 can run it). */
const FLOAT32_RANGE = 2 ** 24;

export const RANDINT: CompositeDef<{ low: number; high: number; shape: readonly number[] }> = {
  kind: 'composite', name: 'randint', inputs: ['key'], attrs: { low: 'int', high: 'int', shape: 'ints' },
  doc: 'Uniform int32 samples in [low, high): low + ⌊u·(high − low)⌋.',
  expand: (ops, [key], { low, high, shape }) => {
    const range = high - low;
    const u = ops.randomUniform(key, shape, range <= FLOAT32_RANGE ? 'float32' : 'float64');
    // min(…, range − 1): u·range can round up to range when u is just below 1.
    const k = ops.minimum(ops.floor(ops.mul(u, range)), range - 1);
    // Add low where it is exact: in int32 after the cast for float32 k, in float64 before it otherwise.
    if (range > FLOAT32_RANGE) return [ops.cast(ops.add(k, low), 'int32')];
    return [low === 0 ? ops.cast(k, 'int32') : ops.add(ops.cast(k, 'int32'), low)];
  },
};

export const randomDefs: readonly OpDef<any>[] = [RANDOM_UNIFORM, RANDOM_NORMAL, RAND, RANDN, UNIFORM, NORMAL, RANDINT];

/**
 * Random tensors. Each call of `rand`, `randn`, `randint`, `uniform` or `normal` takes a fresh key
 * from the current interpreter's seeded generator (`manualSeed` in eager code), so the same seed
 * gives the same numbers on every backend. `randomUniform`/`randomNormal` take the key explicitly.
 */
export interface RandomOps<V> {
  /** Uniform samples in [0, 1), float32 or float64. @example `rand([2, 3])` → f32[2,3] in [0, 1) */
  rand(shape: Shape, dtype?: DType): V;
  /** Standard normal samples. @example `randn([1000])` → f32[1000] with mean ≈ 0, std ≈ 1 */
  randn(shape: Shape, dtype?: DType): V;
  /** Uniform int32 samples in [low, high). @example `randint(0, 10, [5])` → e.g. `[3, 7, 0, 9, 3]` (int32) */
  randint(low: number, high: number, shape: Shape): V;
  /** Uniform samples in [low, high). @example `uniform([3], -1, 1)` → f32[3] in [-1, 1) */
  uniform(shape: Shape, low?: number, high?: number, dtype?: DType): V;
  /** Normal samples with the given mean and standard deviation. @example `normal([3], 10, 0.1)` → f32[3] near 10 */
  normal(shape: Shape, mean?: number, std?: number, dtype?: DType): V;
  /**
   * Uniform samples in [0, 1) for an explicit key, an int32[2] `[seed, stream]`: the same key
   * always gives the same numbers, and element i depends only on the key and i.
   * @example `randomUniform(tensor([42, 0], 'int32'), [4])` → f32[4] in [0, 1)
   */
  randomUniform(key: V, shape: Shape, dtype?: DType): V;
  /** Standard normal samples for an explicit key. @example `randomNormal(tensor([42, 0], 'int32'), [4])` → f32[4] */
  randomNormal(key: V, shape: Shape, dtype?: DType): V;
}

function finite(op: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ArgumentError(`${op}: ${arg} must be a finite number, got ${typeof v === 'number' ? v : typeof v}`);
  }
  return v;
}

function int32Bound(op: string, arg: string, v: unknown, min: number, max: number): number {
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) {
    throw new ArgumentError(`${op}: ${arg} must be an integer from ${min} to ${max}, got ${typeof v === 'number' ? v : typeof v}`);
  }
  return v as number;
}

export function randomOps<V>(I: Interpreter<V>, _ops: Ops<V>): RandomOps<V> {
  const shapeArg = (op: string, shape: Shape): number[] => [...checkShape(shape, op)];
  // Arguments are checked before the key is drawn, so a rejected call does not advance the generator.
  return {
    rand: (shape, dtype = 'float32') => {
      const attrs = { shape: shapeArg('rand', shape), dtype: checkFloatDType('rand', dtype) };
      return apply1(I, RAND, [I.randomKey()], attrs);
    },
    randn: (shape, dtype = 'float32') => {
      const attrs = { shape: shapeArg('randn', shape), dtype: checkFloatDType('randn', dtype) };
      return apply1(I, RANDN, [I.randomKey()], attrs);
    },
    randint: (low, high, shape) => {
      const lo = int32Bound('randint', 'low', low, -(2 ** 31), 2 ** 31 - 1);
      const hi = int32Bound('randint', 'high', high, -(2 ** 31) + 1, 2 ** 31);
      if (lo >= hi) throw new ArgumentError(`randint: low must be less than high, got low ${lo} and high ${hi}; the range [low, high) is empty`);
      const attrs = { low: lo, high: hi, shape: shapeArg('randint', shape) };
      return apply1(I, RANDINT, [I.randomKey()], attrs);
    },
    uniform: (shape, low = 0, high = 1, dtype = 'float32') => {
      const lo = finite('uniform', 'low', low);
      const hi = finite('uniform', 'high', high);
      if (lo > hi) throw new ArgumentError(`uniform: low must be at most high, got low ${lo} and high ${hi}`);
      const d = checkFloatDType('uniform', dtype);
      if (!Number.isFinite(d === 'float32' ? Math.fround(hi - lo) : hi - lo)) {
        throw new ArgumentError(`uniform: high − low (${hi} − ${lo}) overflows ${d}; use a narrower range`);
      }
      const attrs = { shape: shapeArg('uniform', shape), low: lo, high: hi, dtype: d };
      return apply1(I, UNIFORM, [I.randomKey()], attrs);
    },
    normal: (shape, mean = 0, std = 1, dtype = 'float32') => {
      const m = finite('normal', 'mean', mean);
      const s = finite('normal', 'std', std);
      if (s < 0) throw new ArgumentError(`normal: std must be non-negative, got ${s}`);
      const attrs = { shape: shapeArg('normal', shape), mean: m, std: s, dtype: checkFloatDType('normal', dtype) };
      return apply1(I, NORMAL, [I.randomKey()], attrs);
    },
    randomUniform: (key, shape, dtype = 'float32') =>
      apply1(I, RANDOM_UNIFORM, [expectValue(I, key, 'randomUniform', 'key')], { shape: shapeArg('randomUniform', shape), dtype: checkFloatDType('randomUniform', dtype) }),
    randomNormal: (key, shape, dtype = 'float32') =>
      apply1(I, RANDOM_NORMAL, [expectValue(I, key, 'randomNormal', 'key')], { shape: shapeArg('randomNormal', shape), dtype: checkFloatDType('randomNormal', dtype) }),
  };
}

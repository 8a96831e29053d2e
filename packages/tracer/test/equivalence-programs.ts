/**
 * Random programs over the op surface, for compiled-vs-eager equivalence tests. A program is a
 * list of input specs and a list of steps; each step is a handful of choice numbers that the
 * interpreter below turns into one valid op call, deciding only from the shapes and dtypes of
 * the values made so far. Shapes and dtypes are the same whether the program runs eagerly or is
 * traced, so both runs make exactly the same calls.
 *
 * Each value carries an `exact` flag: true while it has been made only by ops that never round
 * (shape ops, neg/abs/relu, max/min, where, comparisons, integer arithmetic…). Ops whose result
 * jumps for a tiny change of input (floor, sign, comparisons, argmax, casts to integers) are
 * only applied to exact values, so a compiled graph that rounds differently (a fused kernel
 * keeping float64 intermediates) cannot make the comparison flaky.
 */
import type { DType } from '@kiln/core';
import { DTypeError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { ops, tensor } from '@kiln/eager';

export interface InputSpec {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly seed: number;
}

export interface Program {
  readonly inputs: readonly InputSpec[];
  readonly steps: readonly (readonly number[])[];
}

export type Mode = 'values' | 'grad';

interface Val {
  readonly t: Tensor;
  readonly exact: boolean;
}

/** Values larger than this many elements are not grown further (concat, stack, broadcast). */
const MAX_ELEMENTS = 256;

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const isFloat = (t: Tensor) => t.dtype === 'float32' || t.dtype === 'float64';
const isIntLike = (t: Tensor) => t.dtype === 'int32' || t.dtype === 'bool';

function broadcastable(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const x = a[a.length - i];
    const y = b[b.length - i];
    if (x !== y && x !== 1 && y !== 1) return false;
  }
  return true;
}

function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    return x === 1 ? y : x;
  });
}

/** A small deterministic generator (mulberry32) for input data. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Concrete input data for a spec: floats in [-3, 3] (with `special`, some NaN, ±Infinity and
 * ±0), int32 in [-5, 5], random booleans. `salt` gives a second data set of the same signature.
 */
export function makeInput(spec: InputSpec, salt = 0, special = false): Tensor {
  const rand = mulberry32(spec.seed * 7919 + salt * 104729 + 1);
  const n = numel(spec.shape);
  const shape = [...spec.shape];
  if (spec.dtype === 'bool') return tensor(Uint8Array.from({ length: n }, () => (rand() < 0.5 ? 1 : 0)), { dtype: 'bool', shape });
  if (spec.dtype === 'int32') return tensor(Int32Array.from({ length: n }, () => Math.floor(rand() * 11) - 5), { dtype: 'int32', shape });
  const SPECIALS = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0];
  const values = Array.from({ length: n }, () => (special && rand() < 0.2 ? SPECIALS[Math.floor(rand() * SPECIALS.length)] : rand() * 6 - 3));
  return tensor(spec.dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values), { dtype: spec.dtype, shape });
}

/** Reads choice numbers from one step, cycling when it runs out. */
class Choices {
  private i = 0;
  constructor(private readonly c: readonly number[]) {}
  next(k: number): number {
    if (k <= 1) return 0;
    const v = this.c[this.i % this.c.length] ?? 0;
    this.i++;
    return v % k;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.next(xs.length)];
  }
  bool(): boolean {
    return this.next(2) === 1;
  }
}

type OpFn = (x: Val, c: Choices, vals: readonly Val[]) => Val | undefined;

const inexact = (t: Tensor): Val => ({ t, exact: false });
const floatOnly = (f: (t: Tensor) => Tensor): OpFn => (x) => (isFloat(x.t) ? inexact(f(x.t)) : undefined);
/** Exact-preserving ops on any dtype. */
const keepsExact = (f: (t: Tensor, c: Choices) => Tensor | undefined): OpFn => (x, c) => {
  const t = f(x.t, c);
  return t && { t, exact: x.exact };
};
/** Ops whose result jumps: applied to exact values only; the result is exact. */
const jumps = (f: (t: Tensor, c: Choices) => Tensor | undefined): OpFn => (x, c) => {
  if (!x.exact) return undefined;
  const t = f(x.t, c);
  return t && { t, exact: true };
};

/** A random axis list (possibly empty = all axes), sorted, or null for all axes. */
function axesOf(rank: number, c: Choices): number[] | null {
  if (rank === 0 || c.next(4) === 0) return null;
  const axes = Array.from({ length: rank }, (_, i) => i).filter(() => c.bool());
  if (axes.length === 0) axes.push(c.next(rank));
  return axes.map((a) => (c.bool() ? a - rank : a)); // negative axes too
}

/** A second operand for x: another value it broadcasts with, a one-wide slice of x, or a number. */
function partner(x: Val, c: Choices, vals: readonly Val[], mode: Mode): Val | number {
  const kind = c.next(4);
  if (kind === 0) return c.pick([0.5, 2, -3, 1.25]);
  if (kind === 1 && x.t.shape.length > 0) {
    const axis = c.next(x.t.shape.length);
    if (x.t.shape[axis] > 0) {
      const specs = x.t.shape.map((_, i) => (i === axis ? ([0, 1] as const) : null));
      return { t: ops.slice(x.t, specs), exact: x.exact };
    }
  }
  const candidates = vals.filter((v) => broadcastable(v.t.shape, x.t.shape) && numel(broadcastShape(v.t.shape, x.t.shape)) <= MAX_ELEMENTS && (mode === 'values' || isFloat(v.t)));
  return c.pick(candidates.length ? candidates : [x]);
}

const tOf = (v: Val | number) => (typeof v === 'number' ? v : v.t);
const exactOf = (v: Val | number) => (typeof v === 'number' ? Number.isInteger(v) : v.exact);
/** |b| + 1: a divisor or modulus that is never 0. */
const positive = (b: Val | number) => (typeof b === 'number' ? Math.abs(b) + 1 : ops.add(ops.abs(b.t), 1));

function binary(mode: Mode, f: (a: Tensor, b: Tensor | number) => Tensor, exactWhen: 'int' | 'always' | 'never'): OpFn {
  return (x, c, vals) => {
    if (mode === 'grad' && !isFloat(x.t)) return undefined;
    const b = partner(x, c, vals, mode);
    const [l, r] = c.bool() || typeof b === 'number' ? [x.t, tOf(b)] : [tOf(b) as Tensor, x.t];
    const t = f(l, r as Tensor | number);
    const bothExact = x.exact && exactOf(b);
    const exact = exactWhen === 'always' ? bothExact : exactWhen === 'int' ? bothExact && isIntLike(t) : false;
    return { t, exact };
  };
}

function comparison(f: (a: Tensor, b: Tensor | number) => Tensor): OpFn {
  return (x, c, vals) => {
    if (!x.exact) return undefined;
    const b = partner(x, c, vals, 'values');
    if (!exactOf(b)) return undefined;
    return { t: f(x.t, tOf(b)), exact: true };
  };
}

function reduction(f: (t: Tensor, axes: number[] | null, keepdims: boolean) => Tensor, exactness: 'keep' | 'int' | 'never', nonEmpty = false): OpFn {
  return (x, c) => {
    const axes = axesOf(x.t.shape.length, c);
    const keepdims = c.bool();
    if (nonEmpty) {
      const reduced = axes === null ? x.t.shape : axes.map((a) => x.t.shape[(a + x.t.shape.length) % x.t.shape.length]);
      if (reduced.some((d) => d === 0)) return undefined; // max of nothing is an error in eager too
    }
    const t = f(x.t, axes, keepdims);
    const exact = exactness === 'keep' ? x.exact : exactness === 'int' ? x.exact && isIntLike(t) : false;
    return { t, exact };
  };
}

/** A reshape target with the same element count: the dims of x regrouped. */
function reshapeTarget(shape: readonly number[], c: Choices): number[] {
  const n = numel(shape);
  if (n === 0) return [...shape].reverse();
  const divisors = Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
  const first = c.pick(divisors);
  const rest = n / first;
  const form = c.next(3);
  if (form === 0) return [n];
  if (form === 1) return [first, rest];
  return [first, -1, 1];
}

/** A slice spec per axis: whole, one index, or a [start, end, step] range (steps may be negative). */
function sliceSpecs(shape: readonly number[], c: Choices) {
  return shape.map((d) => {
    const kind = c.next(4);
    if (kind === 0 || d === 0) return null;
    if (kind === 1) return c.next(d) - (c.bool() ? d : 0);
    const step = c.pick([1, 2, -1, -2]);
    const start = c.next(d + 1) - (c.bool() ? d : 0);
    const end = c.next(d + 1);
    return [start, end, step] as const;
  });
}

/** Integer index tensors made inside the function become constants in the graph. */
function indexTensor(n: number, bound: number, c: Choices): Tensor {
  return tensor(Int32Array.from({ length: n }, () => c.next(bound)), 'int32');
}

/** The op catalogue, keyed by name. Entries marked in GRAD_OPS are used in gradient programs. */
function catalogue(mode: Mode): Record<string, OpFn> {
  return {
    neg: keepsExact((t) => ops.neg(t)),
    abs: keepsExact((t) => ops.abs(t)),
    relu: keepsExact((t) => ops.relu(t)),
    clamp: keepsExact((t, c) => (t.dtype === 'bool' ? undefined : ops.clamp(t, c.pick([-1, 0, null]), c.pick([1, 2.5, null])))),
    sign: jumps((t) => (t.dtype === 'bool' ? undefined : ops.sign(t))),
    floor: jumps((t) => ops.floor(t)),
    ceil: jumps((t) => ops.ceil(t)),
    round: jumps((t) => ops.round(t)),
    logicalNot: jumps((t) => ops.logicalNot(t)),
    isNaN: (x) => ({ t: ops.isNaN(x.t), exact: true }),
    castInt: jumps((t) => ops.cast(t, 'int32')),
    castBool: jumps((t) => ops.cast(t, 'bool')),
    castFloat: (x, c) => {
      const t = ops.cast(x.t, c.pick(['float32', 'float64'] as const));
      return { t, exact: x.exact && (x.t.dtype !== 'float64' || t.dtype === 'float64') };
    },
    exp: (x) => inexact(ops.exp(ops.clamp(isFloat(x.t) ? x.t : ops.cast(x.t, 'float32'), -20, 20))),
    expm1: floatOnly((t) => ops.expm1(ops.clamp(t, -20, 20))),
    log: (x) => inexact(ops.log(ops.add(ops.abs(x.t), 1))),
    log1p: floatOnly((t) => ops.log1p(ops.abs(t))),
    sqrt: floatOnly((t) => ops.sqrt(ops.add(ops.abs(t), 0.25))),
    rsqrt: floatOnly((t) => ops.rsqrt(ops.add(ops.abs(t), 1))),
    reciprocal: floatOnly((t) => ops.reciprocal(ops.add(ops.abs(t), 1))),
    tanh: (x) => inexact(ops.tanh(x.t)),
    sigmoid: floatOnly((t) => ops.sigmoid(t)),
    sin: floatOnly((t) => ops.sin(t)),
    cos: floatOnly((t) => ops.cos(t)),
    erf: floatOnly((t) => ops.erf(t)),
    gelu: (x, c) => (isFloat(x.t) ? inexact(ops.gelu(x.t, c.pick(['none', 'tanh'] as const))) : undefined),
    softmax: (x, c) => (isFloat(x.t) && x.t.shape.length > 0 ? inexact(ops.softmax(x.t, c.next(x.t.shape.length))) : undefined),
    logSoftmax: (x, c) => (isFloat(x.t) && x.t.shape.length > 0 ? inexact(ops.logSoftmax(x.t, -1 - c.next(x.t.shape.length))) : undefined),
    layerNorm: (x, c) => {
      if (!isFloat(x.t) || x.t.shape.length === 0 || numel(x.t.shape) === 0) return undefined;
      const k = 1 + c.next(x.t.shape.length);
      return inexact(ops.layerNorm(x.t, x.t.shape.slice(-k)));
    },
    add: binary(mode, (a, b) => ops.add(a, b), 'int'),
    sub: binary(mode, (a, b) => (a.dtype === 'bool' || (typeof b !== 'number' && b.dtype === 'bool') ? ops.add(a, b) : ops.sub(a, b)), 'int'),
    mul: binary(mode, (a, b) => ops.mul(a, b), 'int'),
    div: binary(mode, (a, b) => ops.div(a, positive(typeof b === 'number' ? b : { t: b, exact: false })), 'never'),
    pow: binary(mode, (a, b) => ops.pow(ops.add(ops.abs(a), 0.5), typeof b === 'number' ? b : ops.clamp(b.dtype === 'bool' ? ops.cast(b, 'float32') : b, -2, 2)), 'never'),
    maximum: binary(mode, (a, b) => ops.maximum(a, b), 'always'),
    minimum: binary(mode, (a, b) => ops.minimum(a, b), 'always'),
    mod: (x, c, vals) => {
      if (mode === 'grad' || x.t.dtype === 'bool') return undefined;
      const b = partner(x, c, vals, mode);
      const exact = x.exact && exactOf(b) && x.t.dtype === 'int32' && (typeof b === 'number' ? Number.isInteger(b) : b.t.dtype !== 'float32' && b.t.dtype !== 'float64');
      return { t: ops.mod(x.t, positive(b)), exact };
    },
    eq: comparison((a, b) => ops.eq(a, b)),
    ne: comparison((a, b) => ops.ne(a, b)),
    lt: comparison((a, b) => ops.lt(a, b)),
    le: comparison((a, b) => ops.le(a, b)),
    gt: comparison((a, b) => ops.gt(a, b)),
    ge: comparison((a, b) => ops.ge(a, b)),
    logicalAnd: comparison((a, b) => ops.logicalAnd(a, b)),
    logicalOr: comparison((a, b) => ops.logicalOr(a, b)),
    where: (x, c, vals) => {
      const conds = vals.filter((v) => v.exact && broadcastable(v.t.shape, x.t.shape) && numel(broadcastShape(v.t.shape, x.t.shape)) <= MAX_ELEMENTS);
      const cond = c.pick(conds.length ? conds : [x]);
      if (!cond.exact) return undefined;
      let b = partner(x, c, vals, mode);
      if (typeof b !== 'number' && !broadcastable(b.t.shape, broadcastShape(cond.t.shape, x.t.shape))) b = 0.5;
      const condition = cond.t.dtype === 'bool' ? cond.t : ops.gt(cond.t, 0);
      return { t: ops.where(condition, x.t, tOf(b)), exact: x.exact && exactOf(b) };
    },
    matmul: (x, c, vals) => {
      const s = x.t.shape;
      if (x.t.dtype === 'bool' || s.length === 0 || (mode === 'grad' && !isFloat(x.t))) return undefined;
      const others = vals.filter((v) => v.t.dtype !== 'bool' && v.t.shape.length > 0 && v.t.shape[0] === s[s.length - 1] && v.t.shape.length <= 2 && (mode === 'values' || isFloat(v.t)));
      const b = c.bool() && others.length ? c.pick(others).t : s.length >= 2 ? ops.transpose(x.t, -1, -2) : x.t;
      const t = ops.matmul(x.t, b);
      return numel(t.shape) <= MAX_ELEMENTS ? { t, exact: x.exact && t.dtype === 'int32' } : undefined;
    },
    sum: reduction((t, a, k) => ops.sum(t, a, k), 'int'),
    mean: reduction((t, a, k) => ops.mean(t, a, k), 'never'),
    prod: reduction((t, a, k) => ops.prod(t, a, k), 'int'),
    max: reduction((t, a, k) => ops.max(t, a, k), 'keep', true),
    min: reduction((t, a, k) => ops.min(t, a, k), 'keep', true),
    logsumexp: (x, c) => (isFloat(x.t) ? reduction((t, a, k) => ops.logsumexp(t, a, k), 'never')(x, c, []) : undefined),
    var: (x, c) => (isFloat(x.t) ? reduction((t, a, k) => ops.var(t, a, c.next(2), k), 'never')(x, c, []) : undefined),
    argmax: (x, c) => {
      if (!x.exact || mode === 'grad' || x.t.shape.length === 0 || x.t.dtype === 'bool') return undefined;
      const axis = c.next(x.t.shape.length);
      return x.t.shape[axis] === 0 ? undefined : { t: ops.argmax(x.t, axis, c.bool()), exact: true };
    },
    argmin: (x, c) => {
      if (!x.exact || mode === 'grad' || x.t.shape.length === 0 || x.t.dtype === 'bool') return undefined;
      const axis = c.next(x.t.shape.length);
      return x.t.shape[axis] === 0 ? undefined : { t: ops.argmin(x.t, axis, c.bool()), exact: true };
    },
    cumsum: (x, c) => (x.t.shape.length === 0 ? undefined : { t: ops.cumsum(x.t, c.next(x.t.shape.length)), exact: x.exact && isIntLike(x.t) }),
    reshape: keepsExact((t, c) => ops.reshape(t, reshapeTarget(t.shape, c))),
    permute: keepsExact((t, c) => {
      const axes = t.shape.map((_, i) => i);
      for (let i = axes.length - 1; i > 0; i--) {
        const j = c.next(i + 1);
        [axes[i], axes[j]] = [axes[j], axes[i]];
      }
      return ops.permute(t, axes);
    }),
    transpose: keepsExact((t) => (t.shape.length >= 2 ? ops.transpose(t, 0, -1) : undefined)),
    broadcastTo: keepsExact((t, c) => {
      const target = [c.pick([1, 2, 3]), ...t.shape.map((d) => (d === 1 ? c.pick([1, 2, 3]) : d))];
      return numel(target) <= MAX_ELEMENTS ? ops.broadcastTo(t, target) : undefined;
    }),
    squeeze: keepsExact((t) => ops.squeeze(t)),
    unsqueeze: keepsExact((t, c) => ops.unsqueeze(t, c.next(t.shape.length + 1))),
    flatten: keepsExact((t) => (t.shape.length >= 1 ? ops.flatten(t) : undefined)),
    concat: (x, c, vals) => {
      if (x.t.shape.length === 0 || 2 * numel(x.t.shape) > MAX_ELEMENTS) return undefined;
      const axis = c.next(x.t.shape.length);
      const same = vals.filter((v) => v.t.dtype === x.t.dtype && v.t.shape.length === x.t.shape.length && v.t.shape.every((d, i) => i === axis || d === x.t.shape[i]));
      const other = c.pick(same.length ? same : [x]);
      if (numel(x.t.shape) + numel(other.t.shape) > MAX_ELEMENTS) return undefined;
      return { t: ops.concat([x.t, other.t], axis), exact: x.exact && other.exact };
    },
    stack: keepsExact((t, c) => (2 * numel(t.shape) <= MAX_ELEMENTS ? ops.stack([t, t], c.next(t.shape.length + 1)) : undefined)),
    split: keepsExact((t, c) => {
      if (t.shape.length === 0) return undefined;
      const axis = c.next(t.shape.length);
      const parts = ops.split(t, 1 + c.next(Math.max(1, t.shape[axis])), axis);
      return parts.length ? c.pick(parts) : undefined;
    }),
    slice: keepsExact((t, c) => ops.slice(t, sliceSpecs(t.shape, c))),
    pad: keepsExact((t, c) => {
      if (t.shape.length === 0) return undefined;
      const padding = t.shape.slice(-Math.min(2, t.shape.length)).reverse().flatMap((d) => {
        const before = c.next(3) - 1; // -1 crops
        const after = c.next(3) - 1;
        return d + before + after < 0 ? [Math.max(before, -d), 0] : [before, after];
      });
      const out = ops.pad(t, padding, t.dtype === 'bool' ? false : c.pick([0, 1.5, -2]));
      return numel(out.shape) <= MAX_ELEMENTS ? out : undefined;
    }),
    flip: keepsExact((t, c) => (t.shape.length ? ops.flip(t, axesOf(t.shape.length, c) ?? [0]) : undefined)),
    tril: keepsExact((t, c) => (t.shape.length >= 2 ? ops.tril(t, c.next(3) - 1) : undefined)),
    triu: keepsExact((t, c) => (t.shape.length >= 2 ? ops.triu(t, c.next(3) - 1) : undefined)),
    gather: keepsExact((t, c) => {
      if (t.shape.length === 0 || numel(t.shape) === 0) return undefined;
      const axis = c.next(t.shape.length);
      const shape = t.shape.map((d, i) => (i === axis ? 1 + c.next(3) : d));
      return ops.gather(t, axis, ops.reshape(indexTensor(numel(shape), t.shape[axis], c), shape));
    }),
    indexSelect: keepsExact((t, c) => {
      if (t.shape.length === 0 || numel(t.shape) === 0) return undefined;
      const axis = c.next(t.shape.length);
      return ops.indexSelect(t, axis, indexTensor(1 + c.next(4), t.shape[axis], c));
    }),
    take: keepsExact((t, c) => (numel(t.shape) === 0 ? undefined : ops.take(t, ops.sub(indexTensor(1 + c.next(5), 2 * numel(t.shape), c), numel(t.shape))))),
    scatterAdd: (x, c) => {
      const t = x.t;
      if (t.shape.length === 0 || numel(t.shape) === 0 || t.dtype === 'bool') return undefined;
      const axis = c.next(t.shape.length);
      const index = ops.reshape(indexTensor(numel(t.shape), t.shape[axis], c), [...t.shape]);
      return { t: ops.scatterAdd(t, axis, index, ops.mul(t, 0.5)), exact: x.exact && t.dtype === 'int32' };
    },
  };
}

/** Ops a gradient program may use: every differentiable one (no comparisons, argmax or integer casts as results). */
const NOT_IN_GRAD = new Set(['castInt', 'castBool', 'logicalNot', 'isNaN', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'argmax', 'argmin', 'mod', 'sign', 'floor', 'ceil', 'round']);

/** Every op name the catalogue offers, for coverage checks. */
export function catalogueNames(mode: Mode): string[] {
  return Object.keys(catalogue(mode)).filter((n) => mode === 'values' || !NOT_IN_GRAD.has(n));
}

/**
 * Applies one op; a DTypeError (neg of a bool, say) means the op does not apply to x's dtype.
 * It comes from the dtype rules, so eager and a trace raise it at the same step alike.
 */
function apply(f: OpFn, x: Val, c: Choices, vals: readonly Val[]): Val | undefined {
  try {
    return f(x, c, vals);
  } catch (e) {
    if (e instanceof DTypeError) return undefined;
    throw e;
  }
}

/**
 * Runs `program` over `inputs` with whatever interpreter is active (eager, or a trace) and
 * returns every value it made, and which of them are exact. `used` collects the op names
 * applied, so a test can check that the generator reaches the whole catalogue.
 */
export function runProgram(program: Program, inputs: readonly Tensor[], mode: Mode, used?: Set<string>): { values: Tensor[]; exact: boolean[] } {
  const table = catalogue(mode);
  const names = catalogueNames(mode);
  const vals: Val[] = inputs.map((t) => ({ t, exact: true }));
  const made: Val[] = [];
  for (const step of program.steps) {
    const c = new Choices(step);
    const x = vals[c.next(vals.length)];
    // Try ops from the chosen one on until one applies to x (deterministic for a given x's type).
    const start = c.next(names.length);
    for (let k = 0; k < names.length; k++) {
      const name = names[(start + k) % names.length];
      const out = apply(table[name], x, c, vals);
      if (out === undefined) continue;
      if (mode === 'grad' && !isFloat(out.t)) continue;
      used?.add(name);
      vals.push(out);
      made.push(out);
      break;
    }
  }
  return { values: made.map((v) => v.t), exact: made.map((v) => v.exact) };
}

/**
 * The scalar a gradient program is differentiated through: a weighted sum of the means of
 * every value it made (weights 1, 2, 3… so every value matters differently).
 */
export function programLoss(program: Program, inputs: readonly Tensor[]): Tensor {
  const { values } = runProgram(program, inputs, 'grad');
  let loss: Tensor = ops.mul(ops.sum(inputs[0]), 0);
  values.forEach((v, i) => {
    if (numel(v.shape) > 0) loss = ops.add(loss, ops.mul(ops.mean(v), i + 1));
  });
  return loss;
}

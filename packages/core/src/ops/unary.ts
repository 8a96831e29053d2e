import type { DType } from '../dtype.js';
import { checkDType, isFloating, DEFAULT_FLOAT } from '../dtype.js';
import { ArgumentError } from '../errors.js';
import { apply1, expectValue } from './bind.js';
import type { Interpreter } from './interpreter.js';
import type { CompositeDef, OpDef, PrimitiveDef, VjpRule } from './op.js';
import type { DTypeClass } from './rules.js';
import { elementwiseDType, sameShape } from './rules.js';
import type { Ops } from './surface.js';

function unary(name: string, cls: DTypeClass, doc: string, opts: { out?: DType; vjp?: VjpRule } = {}): PrimitiveDef {
  return {
    kind: 'primitive', name, inputs: ['x'], attrs: {}, doc,
    shape: sameShape,
    dtype: elementwiseDType(name, ['x'], cls, opts.out),
    differentiable: opts.out !== 'bool',
    vjp: opts.vjp,
  };
}

// Gradient rules. `g` is the output's cotangent, `x` the input, `y` the output.
const zeroGrad: VjpRule = (ops, { inputs: [x] }) => [ops.zerosLike(x)];

export const NEG = unary('neg', 'numeric', 'Elementwise -x.', { vjp: (ops, { cotangents: [g] }) => [ops.neg(g!)] });
export const ABS = unary('abs', 'numeric', 'Elementwise |x|.', { vjp: (ops, { inputs: [x], cotangents: [g] }) => [ops.mul(g!, ops.sign(x))] });
export const SIGN = unary('sign', 'numeric', 'Elementwise sign: -1, 0 or 1 (NaN gives 0, as PyTorch).', { vjp: zeroGrad });
export const EXP = unary('exp', 'float', 'Elementwise e^x.', { vjp: (ops, { outputs: [y], cotangents: [g] }) => [ops.mul(g!, y)] });
export const LOG = unary('log', 'float', 'Elementwise natural logarithm.', { vjp: (ops, { inputs: [x], cotangents: [g] }) => [ops.div(g!, x)] });
export const LOG1P = unary('log1p', 'float', 'Elementwise log(1 + x), accurate near 0.', { vjp: (ops, { inputs: [x], cotangents: [g] }) => [ops.div(g!, ops.add(x, 1))] });
export const EXPM1 = unary('expm1', 'float', 'Elementwise e^x - 1, accurate near 0.', { vjp: (ops, { outputs: [y], cotangents: [g] }) => [ops.mul(g!, ops.add(y, 1))] });
export const SQRT = unary('sqrt', 'float', 'Elementwise square root.', { vjp: (ops, { outputs: [y], cotangents: [g] }) => [ops.div(g!, ops.mul(y, 2))] });
export const RSQRT = unary('rsqrt', 'float', 'Elementwise 1 / sqrt(x).', { vjp: (ops, { outputs: [y], cotangents: [g] }) => [ops.mul(g!, ops.mul(ops.pow(y, 3), -0.5))] });
export const RECIPROCAL = unary('reciprocal', 'float', 'Elementwise 1 / x.', { vjp: (ops, { outputs: [y], cotangents: [g] }) => [ops.neg(ops.mul(g!, ops.mul(y, y)))] });
export const SIN = unary('sin', 'float', 'Elementwise sine.', { vjp: (ops, { inputs: [x], cotangents: [g] }) => [ops.mul(g!, ops.cos(x))] });
export const COS = unary('cos', 'float', 'Elementwise cosine.', { vjp: (ops, { inputs: [x], cotangents: [g] }) => [ops.neg(ops.mul(g!, ops.sin(x)))] });
export const TANH = unary('tanh', 'float', 'Elementwise hyperbolic tangent.', { vjp: (ops, { outputs: [y], cotangents: [g] }) => [ops.mul(g!, ops.sub(1, ops.mul(y, y)))] });
export const SIGMOID = unary('sigmoid', 'float', 'Elementwise 1 / (1 + e^-x).', { vjp: (ops, { outputs: [y], cotangents: [g] }) => [ops.mul(g!, ops.mul(y, ops.sub(1, y)))] });
export const RELU = unary('relu', 'numeric', 'Elementwise max(x, 0).', { vjp: (ops, { inputs: [x], cotangents: [g] }) => [ops.where(ops.gt(x, 0), g!, 0)] });
export const ERF = unary('erf', 'float', 'Elementwise Gauss error function.', { vjp: (ops, { inputs: [x], cotangents: [g] }) => [ops.mul(g!, ops.mul(ops.exp(ops.neg(ops.mul(x, x))), 2 / Math.sqrt(Math.PI)))] });
export const FLOOR = unary('floor', 'float', 'Elementwise floor.', { vjp: zeroGrad });
export const CEIL = unary('ceil', 'float', 'Elementwise ceiling.', { vjp: zeroGrad });
export const ROUND = unary('round', 'float', 'Elementwise round half to even (as PyTorch).', { vjp: zeroGrad });
export const LOGICAL_NOT = unary('logicalNot', 'any', 'Elementwise logical not: true where x is 0.', { out: 'bool' });
export const IS_NAN = unary('isNaN', 'any', 'Elementwise test for NaN.', { out: 'bool' });

export const CAST: PrimitiveDef<{ dtype: DType }> = {
  kind: 'primitive', name: 'cast', inputs: ['x'], attrs: { dtype: 'dtype' },
  doc: 'Converts to another dtype: float → int truncates toward zero, nonzero → true.',
  shape: sameShape,
  dtype: (_inputs, attrs) => [attrs.dtype],
  differentiable: true,
  // Gradients flow between float dtypes only; from an integer input there is nothing to flow to.
  vjp: (ops, { inputs: [x], cotangents: [g], typeOf }) => [isFloating(typeOf(x).dtype) ? ops.cast(g!, typeOf(x).dtype) : null],
};

export const GELU: CompositeDef<{ approximate: string }> = {
  kind: 'composite', name: 'gelu', inputs: ['x'], attrs: { approximate: 'string' },
  doc: "Gaussian error linear unit: x·Φ(x) ('none'), or its tanh approximation ('tanh').",
  expand: (ops, [x], { approximate }) => {
    if (approximate === 'tanh') {
      // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      const inner = ops.mul(ops.add(x, ops.mul(ops.mul(ops.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
      return [ops.mul(ops.mul(x, 0.5), ops.add(ops.tanh(inner), 1))];
    }
    return [ops.mul(ops.mul(x, 0.5), ops.add(ops.erf(ops.mul(x, Math.SQRT1_2)), 1))];
  },
};

export const unaryDefs: readonly OpDef<any>[] = [
  NEG, ABS, SIGN, EXP, LOG, LOG1P, EXPM1, SQRT, RSQRT, RECIPROCAL, SIN, COS, TANH, SIGMOID, RELU, ERF,
  FLOOR, CEIL, ROUND, LOGICAL_NOT, IS_NAN, CAST, GELU,
];

/** Elementwise ops of one tensor. */
export interface UnaryOps<V> {
  /** -x. @example `neg(tensor([1, -2]))` → `[-1, 2]` */
  neg(x: V): V;
  /** |x|. @example `abs(tensor([-1.5, 2]))` → `[1.5, 2]` */
  abs(x: V): V;
  /** Sign of each element: -1, 0 or 1. @example `sign(tensor([-3, 0, 2]))` → `[-1, 0, 1]` */
  sign(x: V): V;
  /** e^x; integer inputs are promoted to float32. @example `exp(tensor([0, 1]))` → `[1, 2.7183]` */
  exp(x: V): V;
  /** Natural logarithm. @example `log(tensor([1, Math.E]))` → `[0, 1]` */
  log(x: V): V;
  /** log(1 + x), accurate for small x. @example `log1p(tensor([1e-10]))` → `[1e-10]` */
  log1p(x: V): V;
  /** e^x - 1, accurate for small x. @example `expm1(tensor([1e-10]))` → `[1e-10]` */
  expm1(x: V): V;
  /** Square root (NaN for negative inputs). @example `sqrt(tensor([4, 9]))` → `[2, 3]` */
  sqrt(x: V): V;
  /** 1 / sqrt(x). @example `rsqrt(tensor([4]))` → `[0.5]` */
  rsqrt(x: V): V;
  /** 1 / x. @example `reciprocal(tensor([2, 4]))` → `[0.5, 0.25]` */
  reciprocal(x: V): V;
  /** Sine. @example `sin(tensor([0]))` → `[0]` */
  sin(x: V): V;
  /** Cosine. @example `cos(tensor([0]))` → `[1]` */
  cos(x: V): V;
  /** Hyperbolic tangent. @example `tanh(tensor([0]))` → `[0]` */
  tanh(x: V): V;
  /** Logistic sigmoid 1 / (1 + e^-x). @example `sigmoid(tensor([0]))` → `[0.5]` */
  sigmoid(x: V): V;
  /** max(x, 0). @example `relu(tensor([-1, 2]))` → `[0, 2]` */
  relu(x: V): V;
  /** Gauss error function. @example `erf(tensor([0]))` → `[0]` */
  erf(x: V): V;
  /** Rounds down; integer tensors are returned unchanged. @example `floor(tensor([1.5, -1.5]))` → `[1, -2]` */
  floor(x: V): V;
  /** Rounds up; integer tensors are returned unchanged. @example `ceil(tensor([1.5]))` → `[2]` */
  ceil(x: V): V;
  /** Rounds half to even, as PyTorch. @example `round(tensor([0.5, 1.5, 2.5]))` → `[0, 2, 2]` */
  round(x: V): V;
  /** True where x is zero/false. @example `logicalNot(tensor([true, false]))` → `[false, true]` */
  logicalNot(x: V): V;
  /** True where x is NaN. @example `isNaN(tensor([NaN, 1]))` → `[true, false]` */
  isNaN(x: V): V;
  /** Converts to `dtype`; returns `x` itself when it already has it. @example `cast(tensor([1.7, -1.7]), 'int32')` → `[1, -1]` */
  cast(x: V, dtype: DType): V;
  /**
   * GELU: x·Φ(x). `approximate: 'tanh'` uses the tanh approximation.
   * @example `gelu(tensor([1]))` → `[0.8413]`
   */
  gelu(x: V, approximate?: 'none' | 'tanh'): V;
}

export function unaryOps<V>(I: Interpreter<V>, ops: Ops<V>): UnaryOps<V> {
  const arg = (x: unknown, op: string) => expectValue(I, x, op, 'x');
  // Ops defined on floats promote integer and bool inputs to the default float, as PyTorch does.
  const toFloat = (x: V) => (isFloating(I.typeOf(x).dtype) ? x : ops.cast(x, DEFAULT_FLOAT));
  const plain = (def: PrimitiveDef) => (x: V) => apply1(I, def, [arg(x, def.name)]);
  const floating = (def: PrimitiveDef) => (x: V) => apply1(I, def, [toFloat(arg(x, def.name))]);
  const rounding = (def: PrimitiveDef) => (x: V) => {
    const v = arg(x, def.name);
    return I.typeOf(v).dtype === 'int32' ? v : apply1(I, def, [v]);
  };
  return {
    neg: plain(NEG), abs: plain(ABS), sign: plain(SIGN), relu: plain(RELU),
    exp: floating(EXP), log: floating(LOG), log1p: floating(LOG1P), expm1: floating(EXPM1),
    sqrt: floating(SQRT), rsqrt: floating(RSQRT), reciprocal: floating(RECIPROCAL),
    sin: floating(SIN), cos: floating(COS), tanh: floating(TANH), sigmoid: floating(SIGMOID), erf: floating(ERF),
    floor: rounding(FLOOR), ceil: rounding(CEIL), round: rounding(ROUND),
    logicalNot: plain(LOGICAL_NOT), isNaN: plain(IS_NAN),
    cast: (x, dtype) => {
      const v = arg(x, 'cast');
      const d = checkDType(dtype, 'cast');
      return I.typeOf(v).dtype === d ? v : apply1(I, CAST, [v], { dtype: d });
    },
    gelu: (x, approximate = 'none') => {
      if (approximate !== 'none' && approximate !== 'tanh') {
        throw new ArgumentError(`gelu: approximate must be 'none' or 'tanh', got ${JSON.stringify(approximate)}`);
      }
      return apply1(I, GELU, [toFloat(arg(x, 'gelu'))], { approximate });
    },
  };
}

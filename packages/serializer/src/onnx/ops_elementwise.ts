/**
 * ONNX lowerings of Kiln's elementwise primitives: unary math, casts, arithmetic, comparisons,
 * logic and `where`. Kiln's and ONNX's broadcasting are both NumPy's, so binary ops map one to
 * one; where the semantics differ (log1p and expm1 accuracy, Python's float remainder, bool
 * comparisons, NaN in sign) the rule spells Kiln's out with several ONNX nodes.
 */
import type { DType } from '@kiln/core';
import { sizeOf } from '@kiln/core';
import type { Lowering, LoweringContext } from './emitter.js';
import { attr, typedData } from './emitter.js';
import { ONNX_DTYPE } from './onnx_proto.js';

/** Every input in order → one ONNX op → output 0. */
export function direct(opType: string, floatOnly = false): Lowering {
  return (ctx) => {
    if (floatOnly) requireFloat(ctx, opType);
    ctx.emit(opType, ctx.node.inputs.map((_, i) => ctx.input(i)), [], [ctx.out(0)]);
  };
}

/** Throws unless input 0 is float32 or float64 (ONNX defines these ops on floats only). */
export function requireFloat(ctx: LoweringContext, opType: string): void {
  const dtype = ctx.inType(0).dtype;
  if (dtype !== 'float32' && dtype !== 'float64') ctx.fail(`ONNX ${opType} takes float32 or float64 only, got ${dtype}`);
}

const isFloat = (d: DType) => d === 'float32' || d === 'float64';

/** `cond ? a : b` as one Where node into `out` (or a fresh name). */
function where(ctx: LoweringContext, cond: string, a: string, b: string, out?: string): string {
  return ctx.emit('Where', [cond, a, b], [], out ? [out] : undefined)[0];
}

const one = (ctx: LoweringContext) => ctx.scalar(1, ctx.inType(0).dtype);

/**
 * log1p(x) = x · (log(u) / (u − 1)) with u = 1 + x (Kahan; the ratio first, so large x cannot overflow): exact where u rounds to 1 (then x),
 * accurate near 0 where log(1 + x) alone loses every digit.
 */
const log1p: Lowering = (ctx) => {
  const x = ctx.input(0);
  const [u] = ctx.emit('Add', [x, one(ctx)]);
  const [um1] = ctx.emit('Sub', [u, one(ctx)]);
  const [ratio] = ctx.emit('Mul', [x, ctx.emit('Div', [ctx.emit('Log', [u])[0], um1])[0]]);
  const [near] = ctx.emit('Equal', [u, one(ctx)]);
  // u = +inf (x = +inf) gives inf·x/inf = NaN: keep log(u) there.
  const [inf] = ctx.emit('IsInf', [u], [attr.int('detect_negative', 0)]);
  const [logU] = ctx.emit('Log', [u]);
  where(ctx, near, x, where(ctx, inf, logU, ratio), ctx.out(0));
};

/** expm1(x) = (u − 1) · (x / log(u)) with u = e^x (Kahan), with u = 1, u − 1 = −1 and u = ∞ taken as they are. */
const expm1: Lowering = (ctx) => {
  const x = ctx.input(0);
  const [u] = ctx.emit('Exp', [x]);
  const [um1] = ctx.emit('Sub', [u, one(ctx)]);
  const [ratio] = ctx.emit('Mul', [um1, ctx.emit('Div', [x, ctx.emit('Log', [u])[0]])[0]]);
  const [atOne] = ctx.emit('Equal', [u, one(ctx)]);
  const [saturated] = ctx.emit('Or', [ctx.emit('Equal', [um1, ctx.scalar(-1, ctx.inType(0).dtype)])[0], ctx.emit('IsInf', [u])[0]]);
  where(ctx, atOne, x, where(ctx, saturated, um1, ratio), ctx.out(0));
};

/** sign with NaN → 0 (as PyTorch). */
const sign: Lowering = (ctx) => {
  const x = ctx.input(0);
  if (!isFloat(ctx.inType(0).dtype)) return void ctx.emit('Sign', [x], [], [ctx.out(0)]);
  const [s] = ctx.emit('Sign', [x]);
  where(ctx, ctx.emit('IsNaN', [x])[0], ctx.scalar(0, ctx.inType(0).dtype), s, ctx.out(0));
};

const rsqrt: Lowering = (ctx) => void ctx.emit('Reciprocal', [ctx.emit('Sqrt', [ctx.input(0)])[0]], [], [ctx.out(0)]);

const logicalNot: Lowering = (ctx) => {
  const dtype = ctx.inType(0).dtype;
  if (dtype === 'bool') ctx.emit('Not', [ctx.input(0)], [], [ctx.out(0)]);
  else ctx.emit('Equal', [ctx.input(0), ctx.scalar(0, dtype)], [], [ctx.out(0)]);
};

const isNaN: Lowering = (ctx) => {
  if (isFloat(ctx.inType(0).dtype)) ctx.emit('IsNaN', [ctx.input(0)], [], [ctx.out(0)]);
  else ctx.emit('Not', [ctx.emit('Equal', [ctx.input(0), ctx.input(0)])[0]], [], [ctx.out(0)]); // false everywhere, of x's shape
};

const cast: Lowering = (ctx) => {
  const to = ctx.attrs['dtype'] as DType;
  ctx.emit('Cast', [ctx.input(0)], [attr.int('to', ONNX_DTYPE[to])], [ctx.out(0)]);
};

/** Python's remainder (sign of the divisor): ONNX Mod with fmod=0 for int32; for floats fmod, moved by b where signs differ. */
const mod: Lowering = (ctx) => {
  const [a, b] = [ctx.input(0), ctx.input(1)];
  const dtype = ctx.inType(0).dtype;
  if (!isFloat(dtype)) return void ctx.emit('Mod', [a, b], [attr.int('fmod', 0)], [ctx.out(0)]);
  const [r] = ctx.emit('Mod', [a, b], [attr.int('fmod', 1)]);
  const zero = ctx.scalar(0, dtype);
  const [signsDiffer] = ctx.emit('Xor', [ctx.emit('Less', [r, zero])[0], ctx.emit('Less', [b, zero])[0]]);
  const [nonzero] = ctx.emit('Not', [ctx.emit('Equal', [r, zero])[0]]);
  const [fix] = ctx.emit('And', [nonzero, signsDiffer]);
  where(ctx, fix, ctx.emit('Add', [r, b])[0], r, ctx.out(0));
};

/** Order comparisons: ONNX's take numbers only, so bools compare as int32 (false < true). */
function compare(opType: string): Lowering {
  return (ctx) => {
    let [a, b] = [ctx.input(0), ctx.input(1)];
    if (ctx.inType(0).dtype === 'bool') {
      const to = [attr.int('to', ONNX_DTYPE.int32)];
      [a] = ctx.emit('Cast', [a], to);
      [b] = ctx.emit('Cast', [b], to);
    }
    ctx.emit(opType, [a, b], [], [ctx.out(0)]);
  };
}

const ne: Lowering = (ctx) => void ctx.emit('Not', [ctx.emit('Equal', [ctx.input(0), ctx.input(1)])[0]], [], [ctx.out(0)]);

/** A tensor of zero elements: its type says everything, so a constant of that shape. */
export function emptyOutput(ctx: LoweringContext, k = 0): void {
  const t = ctx.outType(k);
  ctx.emit('ConstantOfShape', [ctx.int64s(t.shape)], [attr.tensor('value', { name: 'value', dataType: ONNX_DTYPE[t.dtype], dims: [1], data: typedData(t.dtype, [0]) })], [ctx.out(k)]);
}

/**
 * Whether every output of the node is empty whatever the symbolic dimensions are (then
 * {@link emptyOutput} is exact for any op).
 */
export const allOutputsEmpty = (ctx: LoweringContext) =>
  ctx.node.outputs.every((v) => sizeOf(v.type.shape) === 0 && ctx.dims(v).some((d) => d === 0));

export const ELEMENTWISE_LOWERINGS: ReadonlyMap<string, Lowering> = new Map<string, Lowering>([
  ['neg', direct('Neg')],
  ['abs', direct('Abs')],
  ['sign', sign],
  ['exp', direct('Exp', true)],
  ['log', direct('Log', true)],
  ['log1p', log1p],
  ['expm1', expm1],
  ['sqrt', direct('Sqrt', true)],
  ['rsqrt', rsqrt],
  ['reciprocal', direct('Reciprocal', true)],
  ['sin', direct('Sin', true)],
  ['cos', direct('Cos', true)],
  ['tanh', direct('Tanh', true)],
  ['sigmoid', direct('Sigmoid', true)],
  ['relu', direct('Relu')],
  ['erf', direct('Erf', true)],
  ['floor', direct('Floor', true)],
  ['ceil', direct('Ceil', true)],
  ['round', direct('Round', true)],
  ['logicalNot', logicalNot],
  ['isNaN', isNaN],
  ['cast', cast],
  ['add', direct('Add')],
  ['sub', direct('Sub')],
  ['mul', direct('Mul')],
  ['div', direct('Div', true)],
  ['pow', direct('Pow')],
  ['maximum', direct('Max')],
  ['minimum', direct('Min')],
  ['mod', mod],
  ['eq', direct('Equal')],
  ['ne', ne],
  ['lt', compare('Less')],
  ['le', compare('LessOrEqual')],
  ['gt', compare('Greater')],
  ['ge', compare('GreaterOrEqual')],
  ['logicalAnd', direct('And')],
  ['logicalOr', direct('Or')],
  ['where', direct('Where')],
]);

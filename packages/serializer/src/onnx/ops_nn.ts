/**
 * ONNX lowerings of Kiln's reductions, matmul, convolutions and pooling. Pooling follows
 * PyTorch's rules (Kiln's): a ceil-mode window must start inside the input or its left padding,
 * and average pooling divides by the window's part inside the padded input. Those are written
 * with explicit padding and ceil_mode=0, so ONNX's own ceil-mode conventions never matter.
 */
import type { DType } from '@kiln/core';
import type { Lowering, LoweringContext } from './emitter.js';
import { attr, typedData } from './emitter.js';
import { requireFloat } from './ops_elementwise.js';
import { ONNX_DTYPE } from './onnx_proto.js';

const ints = (ctx: LoweringContext, name: string) => ctx.attrs[name] as readonly number[];
const castTo = (ctx: LoweringContext, x: string, dtype: DType | 'int64') =>
  ctx.emit('Cast', [x], [attr.int('to', dtype === 'int64' ? 7 : ONNX_DTYPE[dtype])])[0];

/** sum, prod, max, min. An empty axis list reduces nothing (Kiln) rather than everything (ONNX). */
function reduction(opType: string, axesAsInput: boolean): Lowering {
  return (ctx) => {
    const axes = ints(ctx, 'axes');
    const keepdims = attr.int('keepdims', ctx.attrs['keepdims'] as boolean);
    if (axes.length === 0) return void ctx.emit('Identity', [ctx.input(0)], [], [ctx.out(0)]);
    const bool = ctx.inType(0).dtype === 'bool';
    const x = bool ? castTo(ctx, ctx.input(0), 'int32') : ctx.input(0);
    const out = bool ? undefined : [ctx.out(0)];
    const [r] = axesAsInput ? ctx.emit(opType, [x, ctx.int64s(axes)], [keepdims], out) : ctx.emit(opType, [x], [attr.ints('axes', axes), keepdims], out);
    if (bool) ctx.emit('Cast', [r], [attr.int('to', ONNX_DTYPE.bool)], [ctx.out(0)]);
  };
}

/** argmax/argmin: ONNX's int64 index cast to int32; axis null reads the flattened tensor. */
function argReduction(opType: string): Lowering {
  return (ctx) => {
    const axis = ctx.attrs['axis'] as number | null;
    const keepdims = ctx.attrs['keepdims'] as boolean;
    const flat = axis === null;
    const x = flat ? ctx.emit('Reshape', [ctx.input(0), ctx.int64s([-1])])[0] : ctx.input(0);
    const [index] = ctx.emit(opType, [x], [attr.int('axis', flat ? 0 : axis), attr.int('keepdims', flat ? 0 : keepdims), attr.int('select_last_index', 0)]);
    if (!flat) return void ctx.emit('Cast', [index], [attr.int('to', ONNX_DTYPE.int32)], [ctx.out(0)]);
    const [i32] = ctx.emit('Cast', [index], [attr.int('to', ONNX_DTYPE.int32)]);
    ctx.emit('Reshape', [i32, ctx.int64s(ctx.outType(0).shape)], [], [ctx.out(0)]);
  };
}

const cumsum: Lowering = (ctx) =>
  void ctx.emit('CumSum', [ctx.input(0), ctx.constant(Int32Array.of(ctx.attrs['axis'] as number), 'int32', [])], [], [ctx.out(0)]);

const matmul: Lowering = (ctx) => void ctx.emit('MatMul', [ctx.input(0), ctx.input(1)], [], [ctx.out(0)]);

const kernelOf = (ctx: LoweringContext) => ctx.inType(1).shape.slice(2);

const conv2d: Lowering = (ctx) => {
  requireFloat(ctx, 'Conv');
  const p = ints(ctx, 'padding');
  ctx.emit('Conv', [ctx.input(0), ctx.input(1)], [
    attr.ints('kernel_shape', kernelOf(ctx)), attr.ints('strides', ints(ctx, 'stride')), attr.ints('pads', [p[0], p[1], p[0], p[1]]),
    attr.ints('dilations', ints(ctx, 'dilation')), attr.int('group', ctx.attrs['groups'] as number),
  ], [ctx.out(0)]);
};

const conv2dTranspose: Lowering = (ctx) => {
  requireFloat(ctx, 'ConvTranspose');
  const p = ints(ctx, 'padding');
  ctx.emit('ConvTranspose', [ctx.input(0), ctx.input(1)], [
    attr.ints('kernel_shape', kernelOf(ctx)), attr.ints('strides', ints(ctx, 'stride')), attr.ints('pads', [p[0], p[1], p[0], p[1]]),
    attr.ints('dilations', ints(ctx, 'dilation')), attr.int('group', ctx.attrs['groups'] as number), attr.ints('output_padding', ints(ctx, 'outputPadding')),
  ], [ctx.out(0)]);
};

/**
 * Padding after the input on each spatial axis so that floor-mode pooling gives Kiln's output
 * size: `padding` in floor mode, more where ceil mode added a window.
 */
function endPadding(ctx: LoweringContext, dilation: readonly number[]): number[] {
  ctx.requireFixed(ctx.node.inputs[0], [2, 3], 'the height and width of the pooled input');
  ctx.requireFixed(ctx.node.outputs[0], [2, 3], 'the height and width of the pooled output');
  const k = ints(ctx, 'kernelSize');
  const s = ints(ctx, 'stride');
  const p = ints(ctx, 'padding');
  const inShape = ctx.inType(0).shape;
  const outShape = ctx.outType(0).shape;
  return [0, 1].map((i) => Math.max(p[i], (outShape[2 + i] - 1) * s[i] + dilation[i] * (k[i] - 1) + 1 - inShape[2 + i] - p[i]));
}

const maxPool2d: Lowering = (ctx) => {
  requireFloat(ctx, 'MaxPool');
  const dilation = ints(ctx, 'dilation');
  const p = ints(ctx, 'padding');
  const end = endPadding(ctx, dilation);
  // Explicit -inf padding: ONNX bounds implicit pads by the kernel size, and a ceil-mode window may need more.
  const [padded] = ctx.emit('Pad', [ctx.input(0), ctx.int64s([0, 0, p[0], p[1], 0, 0, end[0], end[1]]), ctx.scalar(-Infinity, ctx.inType(0).dtype)], [attr.string('mode', 'constant')]);
  ctx.emit('MaxPool', [padded], [attr.ints('kernel_shape', ints(ctx, 'kernelSize')), attr.ints('strides', ints(ctx, 'stride')), attr.ints('dilations', dilation)], [ctx.out(0)]);
};

/**
 * Average pooling divides by how many elements of the window lie in the counted region: the
 * padded input (countIncludePad) or the input alone, never the extra room a ceil-mode window
 * hangs past the padding. Where the plain ONNX op agrees (floor mode), it is used; otherwise the
 * window sums of x and of a mask of the counted region, both zero-padded, give the mean exactly.
 */
const avgPool2d: Lowering = (ctx) => {
  requireFloat(ctx, 'AveragePool');
  const k = ints(ctx, 'kernelSize');
  const p = ints(ctx, 'padding');
  const includePad = ctx.attrs['countIncludePad'] as boolean;
  const end = endPadding(ctx, [1, 1]);
  const pool = [attr.ints('kernel_shape', k), attr.ints('strides', ints(ctx, 'stride'))];
  if (end[0] === p[0] && end[1] === p[1]) {
    ctx.emit('AveragePool', [ctx.input(0)], [...pool, attr.ints('pads', [p[0], p[1], p[0], p[1]]), attr.int('count_include_pad', includePad)], [ctx.out(0)]);
    return;
  }
  const { dtype, shape } = ctx.inType(0);
  const pads = ctx.int64s([0, 0, p[0], p[1], 0, 0, end[0], end[1]]);
  const zero = ctx.scalar(0, dtype);
  const padded = ctx.emit('Pad', [ctx.input(0), pads, zero], [attr.string('mode', 'constant')])[0];
  const sums = ctx.emit('AveragePool', [padded], [...pool, attr.int('count_include_pad', 1)])[0];
  // The counted region: ones over [H + 2p, W + 2p] (or [H, W] padded by p), zeros in the extra room.
  const region = includePad ? [shape[2] + 2 * p[0], shape[3] + 2 * p[1]] : [shape[2], shape[3]];
  const before = includePad ? [0, 0] : p;
  const after = includePad ? [end[0] - p[0], end[1] - p[1]] : end;
  const ones = ctx.constant(typedData(dtype, new Array<number>(region[0] * region[1]).fill(1)), dtype, [1, 1, ...region]);
  const mask = ctx.emit('Pad', [ones, ctx.int64s([0, 0, before[0], before[1], 0, 0, after[0], after[1]]), zero], [attr.string('mode', 'constant')])[0];
  const counts = ctx.emit('AveragePool', [mask], [...pool, attr.int('count_include_pad', 1)])[0];
  ctx.emit('Div', [sums, counts], [], [ctx.out(0)]);
};

const gradientOnly: Lowering = (ctx) =>
  ctx.fail(`${ctx.node.op} is a gradient kernel with no ONNX operator; export an inference function (no backward() inside it)`);

export const NN_LOWERINGS: ReadonlyMap<string, Lowering> = new Map<string, Lowering>([
  ['sum', reduction('ReduceSum', true)],
  ['prod', reduction('ReduceProd', false)],
  ['max', reduction('ReduceMax', false)],
  ['min', reduction('ReduceMin', false)],
  ['argmax', argReduction('ArgMax')],
  ['argmin', argReduction('ArgMin')],
  ['cumsum', cumsum],
  ['matmul', matmul],
  ['conv2d', conv2d],
  ['conv2dTranspose', conv2dTranspose],
  ['maxPool2d', maxPool2d],
  ['avgPool2d', avgPool2d],
  ['conv2dWeightGrad', gradientOnly],
  ['maxPool2dIndices', gradientOnly],
  ['avgPool2dGrad', gradientOnly],
]);

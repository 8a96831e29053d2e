/**
 * ONNX lowerings of Kiln's shaping, slicing, indexing and creation primitives. Shapes, axes and
 * pads become shared int64 initializers; constants become initializers; `arange` and `linspace`
 * over floats are taken from the exporter's evaluator (Kiln's rounding, not ONNX Range's running sum).
 */
import type { DType } from '@kiln/core';
import { sizeOf } from '@kiln/core';
import type { Lowering, LoweringContext } from './emitter.js';
import { attr, typedData } from './emitter.js';
import { ONNX_DTYPE } from './onnx_proto.js';

const ints = (ctx: LoweringContext, name: string) => ctx.attrs[name] as readonly number[];
const int = (ctx: LoweringContext, name: string) => ctx.attrs[name] as number;

const reshape: Lowering = (ctx) => {
  // allowzero: a 0 in the target shape means size 0, not "copy this dimension" (ONNX's default).
  ctx.emit('Reshape', [ctx.input(0), ctx.intsInput('shape')], [attr.int('allowzero', 1)], [ctx.out(0)]);
};

const permute: Lowering = (ctx) => void ctx.emit('Transpose', [ctx.input(0)], [attr.ints('perm', ints(ctx, 'axes'))], [ctx.out(0)]);

const broadcastTo: Lowering = (ctx) => void ctx.emit('Expand', [ctx.input(0), ctx.intsInput('shape')], [], [ctx.out(0)]);

const concat: Lowering = (ctx) => void ctx.emit('Concat', ctx.node.inputs.map((_, i) => ctx.input(i)), [attr.int('axis', int(ctx, 'axis'))], [ctx.out(0)]);

/**
 * Kiln's canonical slice (in-range starts, tight ends) as ONNX Slice. A backwards slice that runs
 * through index 0 has end −1 in Kiln, which ONNX would read as "the last element": it becomes a
 * very negative end, which ONNX clamps to "before index 0" whatever the axis's size.
 */
const slice: Lowering = (ctx) => {
  const steps = ints(ctx, 'steps');
  const axes = steps.map((_, i) => i);
  const throughZero = (e: number, i: number) => (steps[i] < 0 && e < 0 ? Number.MIN_SAFE_INTEGER : e);
  ctx.emit('Slice', [ctx.input(0), ctx.intsInput('starts'), ctx.intsInput('ends', throughZero), ctx.int64s(axes), ctx.int64s(steps)], [], [ctx.out(0)]);
};

const pad: Lowering = (ctx) => {
  const dtype = ctx.inType(0).dtype;
  ctx.emit('Pad', [ctx.input(0), ctx.intsInput(['before', 'after']), ctx.scalar(ctx.attrs['value'] as number, dtype)], [attr.string('mode', 'constant')], [ctx.out(0)]);
};

const gather: Lowering = (ctx) => void ctx.emit('GatherElements', [ctx.input(0), ctx.input(1)], [attr.int('axis', int(ctx, 'axis'))], [ctx.out(0)]);

const indexSelect: Lowering = (ctx) => void ctx.emit('Gather', [ctx.input(0), ctx.input(1)], [attr.int('axis', int(ctx, 'axis'))], [ctx.out(0)]);

const take: Lowering = (ctx) => {
  const [flat] = ctx.emit('Reshape', [ctx.input(0), ctx.int64s([-1])]);
  ctx.emit('Gather', [flat, ctx.input(1)], [attr.int('axis', 0)], [ctx.out(0)]);
};

const scatterAdd: Lowering = (ctx) =>
  void ctx.emit('ScatterElements', [ctx.input(0), ctx.input(1), ctx.input(2)], [attr.int('axis', int(ctx, 'axis')), attr.string('reduction', 'add')], [ctx.out(0)]);

const full: Lowering = (ctx) => {
  const { dtype, shape } = ctx.outType(0);
  const value = ctx.attrs['value'] as number;
  const symbolicValue = ctx.symbolicNumber('value', dtype);
  const symbolicShape = ctx.dims(ctx.node.outputs[0]).some((d) => typeof d !== 'number');
  if (symbolicValue || symbolicShape) {
    // Sizes known only while the model runs: broadcast a scalar to the computed shape.
    const scalar = symbolicValue ?? ctx.scalar(value, dtype);
    ctx.emit(shape.length ? 'Expand' : 'Identity', shape.length ? [scalar, ctx.intsInput('shape')] : [scalar], [], [ctx.out(0)]);
    return;
  }
  if (shape.length === 0 || sizeOf(shape) <= 16) {
    const name = ctx.constant(typedData(dtype, new Array<number>(sizeOf(shape)).fill(value)), dtype, shape);
    ctx.emit('Identity', [name], [], [ctx.out(0)]);
    return;
  }
  ctx.emit('ConstantOfShape', [ctx.int64s(shape)], [attr.tensor('value', { name: 'value', dataType: ONNX_DTYPE[dtype], dims: [1], data: typedData(dtype, [value]) })], [ctx.out(0)]);
};

const constant: Lowering = (ctx) => {
  const { dtype, shape } = ctx.outType(0);
  ctx.emit('Identity', [ctx.constant(typedData(dtype, ctx.attrs['data'] as readonly number[]), dtype, shape)], [], [ctx.out(0)]);
};

/** A creation op's values from the evaluator (or `exact` where JavaScript computes them as Kiln does). */
function evaluated(exact?: (ctx: LoweringContext) => ArrayLike<number> | undefined): Lowering {
  return (ctx) => {
    const { dtype, shape } = ctx.outType(0);
    const values = exact?.(ctx) ?? ctx.evaluate() ??
      ctx.fail(`${ctx.node.op} over ${dtype} needs its values computed with Kiln's rounding; export through exportOnnx (which evaluates it) or pass the \`evaluate\` option`);
    if (values.length !== sizeOf(shape)) ctx.fail(`the evaluator returned ${values.length} values for a ${dtype}[${shape.join(',')}] result`);
    ctx.emit('Identity', [ctx.constant(typedData(dtype, values), dtype, shape)], [], [ctx.out(0)]);
  };
}

/** int32 arange: start + step·i computed in float64 and truncated, exactly as Kiln's kernel. */
const arangeInt = (ctx: LoweringContext): number[] | undefined => {
  const { dtype, shape } = ctx.outType(0);
  if (dtype !== ('int32' satisfies DType)) return undefined;
  const start = ctx.attrs['start'] as number;
  const step = ctx.attrs['step'] as number;
  return Array.from({ length: shape[0] }, (_, i) => start + step * i);
};

const random: Lowering = (ctx) =>
  ctx.fail("random numbers cannot be exported: ONNX's random ops do not reproduce Kiln's Philox streams. Export the model in eval mode (dropout off), or pass random tensors in as inputs");

export const SHAPE_LOWERINGS: ReadonlyMap<string, Lowering> = new Map<string, Lowering>([
  ['reshape', reshape],
  ['permute', permute],
  ['broadcastTo', broadcastTo],
  ['concat', concat],
  ['slice', slice],
  ['pad', pad],
  ['gather', gather],
  ['indexSelect', indexSelect],
  ['take', take],
  ['scatterAdd', scatterAdd],
  ['full', full],
  ['constant', constant],
  ['arange', evaluated(arangeInt)],
  ['linspace', evaluated()],
  ['randomUniform', random],
  ['randomNormal', random],
]);

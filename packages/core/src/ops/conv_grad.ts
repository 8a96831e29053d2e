import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import type { Shape } from '../shape.js';
import { shapesEqual, shapeToString } from '../shape.js';
import { apply1, expectValue, promoteOperands } from './bind.js';
import type { Conv2dAttrs, Conv2dOptions, Pair } from './conv.js';
import {
  asPair, batched, checkOptions, conv2dShape, convOutputSize, convTransposeOutputSize, pair, pairText, require4D, requireAtLeast,
  requireRank, X_LAYOUT,
} from './conv.js';
import type { Interpreter } from './interpreter.js';
import type { OpDef, PrimitiveDef } from './op.js';
import { elementwiseDType } from './rules.js';
import type { Ops } from './surface.js';

/**
 * The two other halves of a convolution: `conv2dTranspose` (the adjoint of conv2d with respect
 * to its input, and PyTorch's F.conv_transpose2d) and `conv2dWeightGrad` (the adjoint with
 * respect to the weight, torch.nn.grad.conv2d_weight). With conv2d they form a family closed
 * under differentiation: each one's gradient rule is written with the other two.
 */

export interface Conv2dTransposeOptions extends Conv2dOptions {
  /**
   * Rows/columns added at the bottom/right of the output (default 0), to choose among the input
   * sizes that a strided conv2d maps to the same output size. Each must be smaller than its
   * stride or its dilation.
   */
  outputPadding?: Pair;
}

export type Conv2dTransposeAttrs = Conv2dAttrs & { outputPadding: readonly number[] };
export type Conv2dWeightGradAttrs = Conv2dAttrs & { kernelSize: readonly number[] };

function checkGroups(op: string, groups: number): void {
  if (!Number.isInteger(groups) || groups < 1) throw new ArgumentError(`${op}: groups must be a positive integer, got ${JSON.stringify(groups)}`);
}

/**
 * Output shape of conv2dTranspose for x [N, C, H, W] (or [C, H, W]) and weight
 * [C, outC/groups, kH, kW]; throws naming the shapes for rank, channel, groups and size errors.
 */
export function conv2dTransposeShape(x: Shape, w: Shape, { stride, padding, outputPadding, dilation, groups }: Conv2dTransposeAttrs): number[] {
  const op = 'conv2dTranspose';
  requireRank(op, 'x', x, [3, 4], X_LAYOUT);
  requireRank(op, 'weight', w, [4], '4-D (inChannels, outChannels / groups, kH, kW)');
  requireAtLeast(op, 'stride', stride, 1);
  requireAtLeast(op, 'padding', padding, 0);
  requireAtLeast(op, 'outputPadding', outputPadding, 0);
  requireAtLeast(op, 'dilation', dilation, 1);
  checkGroups(op, groups);
  const [inC, outPerGroup, kH, kW] = w;
  const c = x[x.length - 3];
  if (c !== inC) {
    throw new ShapeError(`${op}: x ${shapeToString(x)} has ${c} channels but weight ${shapeToString(w)} has ${inC} input channels (weight.shape[0]); they must be equal`);
  }
  if (inC % groups !== 0) {
    throw new ShapeError(`${op}: weight ${shapeToString(w)} has ${inC} input channels; it needs a multiple of groups=${groups}`);
  }
  if (!outputPadding.every((p, i) => p < stride[i] || p < dilation[i])) {
    throw new ArgumentError(
      `${op}: outputPadding ${pairText(outputPadding)} must be smaller than either the stride ${pairText(stride)} or the dilation ${pairText(dilation)} in each dimension`,
    );
  }
  const [h, wd] = x.slice(-2);
  const outH = convTransposeOutputSize(h, kH, stride[0], padding[0], dilation[0], outputPadding[0]);
  const outW = convTransposeOutputSize(wd, kW, stride[1], padding[1], dilation[1], outputPadding[1]);
  if (outH < 1 || outW < 1) {
    throw new ShapeError(
      `${op}: the output would be ${outH}x${outW} for x ${shapeToString(x)} and weight ${shapeToString(w)} with stride ${pairText(stride)}, ` +
        `padding ${pairText(padding)}, dilation ${pairText(dilation)} and outputPadding ${pairText(outputPadding)}; ` +
        '(size − 1)·stride − 2·padding + dilation·(kernel − 1) + outputPadding + 1 must be at least 1: use less padding',
    );
  }
  return [...x.slice(0, -3), outPerGroup * groups, outH, outW];
}

/**
 * Output shape of conv2dWeightGrad: the weight [outC, C/groups, kH, kW] of the conv2d that maps
 * x [N, C, H, W] to gradOutput [N, outC, outH, outW]. Throws unless gradOutput has exactly the
 * shape that conv2d would give.
 */
export function conv2dWeightGradShape(x: Shape, g: Shape, attrs: Conv2dWeightGradAttrs): number[] {
  const op = 'conv2dWeightGrad';
  requireRank(op, 'x', x, [3, 4], X_LAYOUT);
  requireRank(op, 'gradOutput', g, [x.length], `${x.length}-D like x`);
  requireAtLeast(op, 'kernelSize', attrs.kernelSize, 1);
  checkGroups(op, attrs.groups);
  const c = x[x.length - 3];
  const outC = g[g.length - 3];
  if (c % attrs.groups !== 0 || outC < attrs.groups || outC % attrs.groups !== 0) {
    throw new ShapeError(
      `${op}: x ${shapeToString(x)} has ${c} channels and gradOutput ${shapeToString(g)} has ${outC}; with groups=${attrs.groups} both must be multiples of groups (gradOutput's positive)`,
    );
  }
  const weight = [outC, c / attrs.groups, attrs.kernelSize[0], attrs.kernelSize[1]];
  const expected = conv2dShape(x, weight, attrs, op);
  if (!shapesEqual(expected, g)) {
    throw new ShapeError(
      `${op}: gradOutput has shape ${shapeToString(g)} but conv2d of x ${shapeToString(x)} with a ${shapeToString(weight)} weight, stride ${pairText(attrs.stride)}, ` +
        `padding ${pairText(attrs.padding)} and dilation ${pairText(attrs.dilation)} gives ${shapeToString(expected)}; they must be equal`,
    );
  }
  return weight;
}

const convOptions = (a: Conv2dAttrs) => ({ stride: asPair(a.stride), padding: asPair(a.padding), dilation: asPair(a.dilation), groups: a.groups });

/** outputPadding that makes conv2dTranspose of `g` (the output of a conv2d) as large as `inputSize` again. */
function recoveringPadding(inputSize: Shape, gShape: Shape, kernel: readonly number[], a: Conv2dAttrs): [number, number] {
  return asPair([0, 1].map((i) => inputSize[i] - convTransposeOutputSize(gShape[2 + i], kernel[i], a.stride[i], a.padding[i], a.dilation[i], 0)));
}

export const CONV2D_TRANSPOSE: PrimitiveDef<Conv2dTransposeAttrs> = {
  kind: 'primitive', name: 'conv2dTranspose', inputs: ['x', 'weight'],
  attrs: { stride: 'ints', padding: 'ints', outputPadding: 'ints', dilation: 'ints', groups: 'int' },
  doc: 'Transposed 2-D convolution (the adjoint of conv2d in x) of x [N, C, H, W] with weight [C, outC/groups, kH, kW].',
  shape: ([x, w], attrs) => {
    require4D('conv2dTranspose', x);
    return [conv2dTransposeShape(x.shape, w.shape, attrs)];
  },
  dtype: elementwiseDType('conv2dTranspose', ['x', 'weight'], 'numeric'),
  differentiable: true,
  // conv2dTranspose(·, w) is the adjoint of conv2d(·, w): dx = conv2d(g, w). conv2d of g covers
  // ⌊((H − 1)·s + outputPadding)/s⌋ + 1 positions, more than H only when outputPadding ≥ stride
  // (allowed when it is below the dilation): those extra rows are cut off, and for dweight x is
  // padded with zeros to match them.
  vjp: (ops, { inputs: [x, w], attrs, cotangents: [g], needsGrad, typeOf }) => {
    const [xs, ws, gs] = [typeOf(x).shape, typeOf(w).shape, typeOf(g!).shape];
    const opts = convOptions(attrs);
    const covered = [0, 1].map((i) => convOutputSize(gs[2 + i], ws[2 + i], attrs.stride[i], attrs.padding[i], attrs.dilation[i]));
    let dx: typeof x | null = null;
    if (needsGrad[0]) {
      dx = ops.conv2d(g!, w, null, opts);
      if (covered[0] !== xs[2] || covered[1] !== xs[3]) dx = ops.slice(dx, [null, null, [0, xs[2], 1], [0, xs[3], 1]]);
    }
    let dw: typeof x | null = null;
    if (needsGrad[1]) {
      const xp = covered[0] !== xs[2] || covered[1] !== xs[3] ? ops.pad(x, [0, covered[1] - xs[3], 0, covered[0] - xs[2]]) : x;
      dw = ops.conv2dWeightGrad(g!, xp, [ws[2], ws[3]], opts);
    }
    return [dx, dw];
  },
};

export const CONV2D_WEIGHT_GRAD: PrimitiveDef<Conv2dWeightGradAttrs> = {
  kind: 'primitive', name: 'conv2dWeightGrad', inputs: ['x', 'gradOutput'],
  attrs: { kernelSize: 'ints', stride: 'ints', padding: 'ints', dilation: 'ints', groups: 'int' },
  doc: 'Gradient of conv2d with respect to its weight [outC, C/groups, kH, kW], from x [N, C, H, W] and gradOutput [N, outC, outH, outW].',
  shape: ([x, g], attrs) => {
    require4D('conv2dWeightGrad', x);
    return [conv2dWeightGradShape(x.shape, g.shape, attrs)];
  },
  dtype: elementwiseDType('conv2dWeightGrad', ['x', 'gradOutput'], 'numeric'),
  differentiable: true,
  // Bilinear: ⟨weightGrad(x, g), h⟩ = ⟨conv2d(x, h), g⟩ = ⟨x, conv2dTranspose(g, h)⟩.
  vjp: (ops, { inputs: [x, g], attrs, cotangents: [h], needsGrad, typeOf }) => {
    const opts = convOptions(attrs);
    const outputPadding = recoveringPadding(typeOf(x).shape.slice(2), typeOf(g).shape, attrs.kernelSize, attrs);
    return [
      needsGrad[0] ? ops.conv2dTranspose(g, h!, null, { ...opts, outputPadding }) : null,
      needsGrad[1] ? ops.conv2d(x, h!, null, opts) : null,
    ];
  },
};

export const convGradDefs: readonly OpDef<any>[] = [CONV2D_TRANSPOSE, CONV2D_WEIGHT_GRAD];

/** Transposed convolution and the convolution weight gradient. */
export interface ConvGradOps<V> {
  /**
   * Transposed 2-D convolution, as F.conv_transpose2d: x [N, C, H, W] or [C, H, W], weight
   * [C, outC/groups, kH, kW], bias [outC] if given. The output is
   * (H − 1)·stride − 2·padding + dilation·(kH − 1) + outputPadding + 1 high (likewise wide).
   * It is the gradient of conv2d with respect to its input. Mixed dtypes promote; int32 wraps.
   * @example `conv2dTranspose(zeros([1, 16, 8, 8]), zeros([16, 3, 4, 4]), null, { stride: 2, padding: 1 })` → shape [1, 3, 16, 16]
   */
  conv2dTranspose(x: V, weight: V, bias?: V | null, options?: Conv2dTransposeOptions): V;
  /**
   * The gradient of conv2d with respect to its weight (torch.nn.grad.conv2d_weight): for the
   * convolution of x [N, C, H, W] (or [C, H, W]) with a [outC, C/groups, kH, kW] weight and
   * these options, whose output gradient is gradOutput [N, outC, outH, outW], returns the weight
   * gradient [outC, C/groups, kH, kW]. Takes the kernel size where PyTorch takes the weight shape.
   * @example `conv2dWeightGrad(zeros([2, 3, 8, 8]), zeros([2, 4, 6, 6]), 3)` → shape [4, 3, 3, 3]
   */
  conv2dWeightGrad(x: V, gradOutput: V, kernelSize: Pair, options?: Conv2dOptions): V;
}

export function convGradOps<V>(I: Interpreter<V>, ops: Ops<V>): ConvGradOps<V> {
  const convAttrs = (op: string, o: Record<string, unknown>): Conv2dAttrs => {
    const groups = o.groups ?? 1;
    checkGroups(op, groups as number);
    return {
      stride: pair(op, 'stride', o.stride ?? 1),
      padding: pair(op, 'padding', o.padding ?? 0),
      dilation: pair(op, 'dilation', o.dilation ?? 1),
      groups: groups as number,
    };
  };
  const noBool = (op: string, names: readonly string[], dtype: string) => {
    if (dtype === 'bool') throw new DTypeError(`${op}: ${names.join(' and ')} must be int32, float32 or float64, got bool`);
  };

  return {
    conv2dTranspose: (x, weight, bias = null, options) => {
      const op = 'conv2dTranspose';
      const o = checkOptions(op, options, ['stride', 'padding', 'outputPadding', 'dilation', 'groups']);
      const names = ['x', 'weight'];
      const operands = [expectValue(I, x, op, 'x'), expectValue(I, weight, op, 'weight')];
      if (bias !== null && bias !== undefined) {
        operands.push(expectValue(I, bias, op, 'bias'));
        names.push('bias');
      }
      const attrs: Conv2dTransposeAttrs = { ...convAttrs(op, o), outputPadding: pair(op, 'outputPadding', o.outputPadding ?? 0) };
      const [xType, wType] = operands.map((v) => I.typeOf(v));
      const outShape = conv2dTransposeShape(xType.shape, wType.shape, attrs); // checks the user's shapes, before any reshape
      const outC = outShape[outShape.length - 3];
      if (operands.length === 3) {
        const b = I.typeOf(operands[2]).shape;
        if (b.length !== 1 || b[0] !== outC) {
          throw new ShapeError(`${op}: bias has shape ${shapeToString(b)} but weight ${shapeToString(wType.shape)} with groups=${attrs.groups} gives ${outC} output channels; bias must be [${outC}]`);
        }
      }
      const { values, dtype } = promoteOperands(I, ops, operands, op, names);
      noBool(op, ['x', 'weight'], dtype);
      const y = batched(I, ops, values[0], (x4) => apply1(I, CONV2D_TRANSPOSE, [x4, values[1]], attrs));
      return values.length === 3 ? ops.add(y, ops.reshape(values[2], [outC, 1, 1])) : y;
    },
    conv2dWeightGrad: (x, gradOutput, kernelSize, options) => {
      const op = 'conv2dWeightGrad';
      const o = checkOptions(op, options, ['stride', 'padding', 'dilation', 'groups']);
      const operands = [expectValue(I, x, op, 'x'), expectValue(I, gradOutput, op, 'gradOutput')];
      const attrs: Conv2dWeightGradAttrs = { ...convAttrs(op, o), kernelSize: pair(op, 'kernelSize', kernelSize) };
      conv2dWeightGradShape(I.typeOf(operands[0]).shape, I.typeOf(operands[1]).shape, attrs);
      const { values, dtype } = promoteOperands(I, ops, operands, op, ['x', 'gradOutput']);
      noBool(op, ['x', 'gradOutput'], dtype);
      const [x4, g4] = values.map((v) => (I.typeOf(v).shape.length === 4 ? v : ops.reshape(v, [1, ...I.typeOf(v).shape])));
      return apply1(I, CONV2D_WEIGHT_GRAD, [x4, g4], attrs);
    },
  };
}

import { DEFAULT_FLOAT, isFloating } from '../dtype.js';
import { ArgumentError, ShapeError } from '../errors.js';
import type { Shape } from '../shape.js';
import { shapesEqual, shapeToString } from '../shape.js';
import { apply1, expectValue } from './bind.js';
import type { AvgPool2dAttrs, AvgPool2dOptions, MaxPool2dAttrs, MaxPool2dOptions, Pair } from './conv.js';
import { asPair, avgPoolAttrs, batched, maxPoolAttrs, pairText, pool2dShape, require4D, requireRank, X_LAYOUT } from './conv.js';
import type { Interpreter } from './interpreter.js';
import type { OpDef, PrimitiveDef } from './op.js';
import { elementwiseDType, requireDType } from './rules.js';
import type { Ops } from './surface.js';

/**
 * What the pools' gradients need: the argmax of each max-pooling window (PyTorch's
 * `return_indices`), and the adjoint of average pooling.
 */

export type AvgPool2dGradAttrs = AvgPool2dAttrs & { inputSize: readonly number[] };

export const MAX_POOL2D_INDICES: PrimitiveDef<MaxPool2dAttrs> = {
  kind: 'primitive', name: 'maxPool2dIndices', inputs: ['x'],
  attrs: { kernelSize: 'ints', stride: 'ints', padding: 'ints', dilation: 'ints', ceilMode: 'bool' },
  doc: 'Flat index (int32, into each H·W plane) of the element maxPool2d picks in each window: the first maximum, or the last NaN.',
  shape: ([x], a) => {
    require4D('maxPool2dIndices', x);
    return [pool2dShape('maxPool2dIndices', x.shape, a.kernelSize, a.stride, a.padding, a.dilation, a.ceilMode)];
  },
  dtype: ([x]) => {
    requireDType('maxPool2dIndices', 'x', x, 'numeric');
    return ['int32'];
  },
  differentiable: false,
};

/** Checks gradOutput against the avgPool2d output for an input of `inputShape`; returns inputShape. */
function avgPool2dGradShape(g: Shape, inputShape: Shape, a: AvgPool2dAttrs): Shape {
  const op = 'avgPool2dGrad';
  requireRank(op, 'inputShape', inputShape, [3, 4], X_LAYOUT);
  requireRank(op, 'gradOutput', g, [inputShape.length], `${inputShape.length}-D like inputShape`);
  const expected = pool2dShape(op, inputShape, a.kernelSize, a.stride, a.padding, [1, 1], a.ceilMode);
  if (!shapesEqual(expected, g)) {
    throw new ShapeError(
      `${op}: gradOutput has shape ${shapeToString(g)} but avgPool2d of an input ${shapeToString(inputShape)} with kernelSize ${pairText(a.kernelSize)}, ` +
        `stride ${pairText(a.stride)}, padding ${pairText(a.padding)} and ceilMode ${a.ceilMode} gives ${shapeToString(expected)}; they must be equal`,
    );
  }
  return inputShape;
}

export const AVG_POOL2D_GRAD: PrimitiveDef<AvgPool2dGradAttrs> = {
  kind: 'primitive', name: 'avgPool2dGrad', inputs: ['gradOutput'],
  attrs: { inputSize: 'ints', kernelSize: 'ints', stride: 'ints', padding: 'ints', ceilMode: 'bool', countIncludePad: 'bool' },
  doc: 'Gradient of avgPool2d with respect to its input [N, C, ...inputSize] (its adjoint), from gradOutput [N, C, outH, outW].',
  shape: ([g], a) => {
    require4D('avgPool2dGrad', g);
    if (a.inputSize.length !== 2) throw new ShapeError(`avgPool2dGrad: inputSize must be [height, width], got ${pairText(a.inputSize)}`);
    return [avgPool2dGradShape(g.shape, [g.shape[0], g.shape[1], ...a.inputSize], a)];
  },
  dtype: elementwiseDType('avgPool2dGrad', ['gradOutput'], 'float'),
  differentiable: true,
  // Linear in gradOutput: the adjoint of the adjoint is avgPool2d itself.
  vjp: (ops, { attrs: a, cotangents: [h] }) => [
    ops.avgPool2d(h!, asPair(a.kernelSize), { stride: asPair(a.stride), padding: asPair(a.padding), ceilMode: a.ceilMode, countIncludePad: a.countIncludePad }),
  ],
};

export const poolGradDefs: readonly OpDef<any>[] = [MAX_POOL2D_INDICES, AVG_POOL2D_GRAD];

/** The pools' gradient helpers. */
export interface PoolGradOps<V> {
  /**
   * Where maxPool2d takes each maximum from, as F.max_pool2d(..., return_indices=True)'s
   * indices: int32 [N, C, outH, outW] (or [C, outH, outW]), each a flat index h·W + w into its
   * input plane. Ties go to the first maximum in the window (row-major); NaN wins, the last one
   * if there are several. Same arguments as maxPool2d.
   * @example `maxPool2dIndices(tensor([[[1, 3], [3, 2]]]), 2)` → `[[[1]]]`
   */
  maxPool2dIndices(x: V, kernelSize: Pair, options?: MaxPool2dOptions): V;
  /**
   * The gradient of avgPool2d with respect to its input of shape `inputShape` ([N, C, H, W] or
   * [C, H, W]), given the gradient of its output: each output's gradient is shared out, divided
   * by that window's divisor, over the window's input elements. Same options as avgPool2d.
   * int32 and bool gradients become float32.
   * @example `avgPool2dGrad(ones([1, 1, 2, 2]), [1, 1, 4, 4], 2)` → 0.25 everywhere, shape [1, 1, 4, 4]
   */
  avgPool2dGrad(gradOutput: V, inputShape: readonly number[], kernelSize: Pair, options?: AvgPool2dOptions): V;
}

export function poolGradOps<V>(I: Interpreter<V>, ops: Ops<V>): PoolGradOps<V> {
  return {
    maxPool2dIndices: (x, kernelSize, options) => {
      const op = 'maxPool2dIndices';
      const attrs = maxPoolAttrs(op, kernelSize, options);
      const v = expectValue(I, x, op, 'x');
      pool2dShape(op, I.typeOf(v).shape, attrs.kernelSize, attrs.stride, attrs.padding, attrs.dilation, attrs.ceilMode);
      return batched(I, ops, v, (x4) => apply1(I, MAX_POOL2D_INDICES, [x4], attrs));
    },
    avgPool2dGrad: (gradOutput, inputShape, kernelSize, options) => {
      const op = 'avgPool2dGrad';
      const pool = avgPoolAttrs(op, kernelSize, options);
      const g = expectValue(I, gradOutput, op, 'gradOutput');
      if (!Array.isArray(inputShape) || !inputShape.every((d) => Number.isInteger(d) && d >= 0)) {
        throw new ArgumentError(`${op}: inputShape must be an array of non-negative integers, got ${JSON.stringify(inputShape)}`);
      }
      avgPool2dGradShape(I.typeOf(g).shape, inputShape, pool);
      const gf = isFloating(I.typeOf(g).dtype) ? g : ops.cast(g, DEFAULT_FLOAT);
      const attrs: AvgPool2dGradAttrs = { ...pool, inputSize: inputShape.slice(-2) };
      return batched(I, ops, gf, (g4) => apply1(I, AVG_POOL2D_GRAD, [g4], attrs));
    },
  };
}

import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import type { Shape } from '../shape.js';
import { shapeToString } from '../shape.js';
import { apply1, expectValue, promoteOperands } from './bind.js';
import type { Interpreter } from './interpreter.js';
import type { OpDef, PrimitiveDef, TensorType } from './op.js';
import { elementwiseDType } from './rules.js';
import type { Ops } from './surface.js';

/** One integer for both spatial dimensions, or [height, width]. */
export type Pair = number | readonly [number, number];

export interface Conv2dOptions {
  /** Step between windows (default 1). */
  stride?: Pair;
  /** Zeros added on each side of the input (default 0). */
  padding?: Pair;
  /** Spacing between kernel taps (default 1). */
  dilation?: Pair;
  /** Channel groups: input and output channels are split into this many independent convolutions (default 1). */
  groups?: number;
}

export interface MaxPool2dOptions {
  /** Step between windows; defaults to the kernel size. */
  stride?: Pair | null;
  /** -Infinity added on each side (at most half the kernel; default 0). */
  padding?: Pair;
  /** Spacing between window taps (default 1). */
  dilation?: Pair;
  /** Round the output size up instead of down, so a partial last window is used (default false). */
  ceilMode?: boolean;
}

export interface AvgPool2dOptions {
  /** Step between windows; defaults to the kernel size. */
  stride?: Pair | null;
  /** Zeros added on each side (at most half the kernel; default 0). */
  padding?: Pair;
  /** Round the output size up instead of down, so a partial last window is used (default false). */
  ceilMode?: boolean;
  /** Count padded zeros in each window's divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
}

export type Conv2dAttrs = { stride: readonly number[]; padding: readonly number[]; dilation: readonly number[]; groups: number };
export type MaxPool2dAttrs = { kernelSize: readonly number[]; stride: readonly number[]; padding: readonly number[]; dilation: readonly number[]; ceilMode: boolean };
export type AvgPool2dAttrs = { kernelSize: readonly number[]; stride: readonly number[]; padding: readonly number[]; ceilMode: boolean; countIncludePad: boolean };

export const pairText = (p: readonly number[]) => `[${p.join(',')}]`;

export function requireRank(op: string, arg: string, shape: Shape, ranks: readonly number[], layout: string): void {
  if (!ranks.includes(shape.length)) {
    throw new ShapeError(`${op}: ${arg} must be ${layout}, got shape ${shapeToString(shape)} (rank ${shape.length})`);
  }
}

export function requireAtLeast(op: string, arg: string, p: readonly number[], min: number): void {
  if (p.length !== 2 || !p.every((v) => Number.isInteger(v) && v >= min)) {
    const what = min === 0 ? 'non-negative' : 'positive';
    throw new ArgumentError(`${op}: ${arg} must be ${what} integers, got ${pairText(p)}`);
  }
}

export const X_LAYOUT = '3-D (C, H, W) or 4-D (N, C, H, W)';

/** Output spatial size of a convolution (floor), or -1 where the dilated kernel does not fit. */
export function convOutputSize(size: number, kernel: number, stride: number, pad: number, dilation: number): number {
  const span = dilation * (kernel - 1) + 1;
  return size + 2 * pad < span ? -1 : Math.floor((size + 2 * pad - span) / stride) + 1;
}

/** Output spatial size of a transposed convolution: (size − 1)·stride − 2·pad + dilation·(kernel − 1) + outputPadding + 1. */
export function convTransposeOutputSize(size: number, kernel: number, stride: number, pad: number, dilation: number, outputPadding: number): number {
  return (size - 1) * stride - 2 * pad + dilation * (kernel - 1) + outputPadding + 1;
}

/** A canonical attr pair as the op surface's Pair type. */
export const asPair = (p: readonly number[]): [number, number] => [p[0], p[1]];

/**
 * Output shape of conv2d for x [N, C, H, W] (or [C, H, W]) and weight [outC, C/groups, kH, kW];
 * throws naming the shapes for rank, channel, groups and size mismatches.
 */
export function conv2dShape(x: Shape, w: Shape, { stride, padding, dilation, groups }: Conv2dAttrs, op = 'conv2d'): number[] {
  requireRank(op, 'x', x, [3, 4], X_LAYOUT);
  requireRank(op, 'weight', w, [4], '4-D (outChannels, inChannels / groups, kH, kW)');
  requireAtLeast(op, 'stride', stride, 1);
  requireAtLeast(op, 'padding', padding, 0);
  requireAtLeast(op, 'dilation', dilation, 1);
  if (!Number.isInteger(groups) || groups < 1) throw new ArgumentError(`${op}: groups must be a positive integer, got ${groups}`);
  const [outC, inCPerGroup, kH, kW] = w;
  const c = x[x.length - 3];
  if (outC < groups || outC % groups !== 0) {
    throw new ShapeError(`${op}: weight ${shapeToString(w)} has ${outC} output channels; it needs a positive multiple of groups=${groups}`);
  }
  if (c !== inCPerGroup * groups) {
    throw new ShapeError(
      `${op}: x ${shapeToString(x)} has ${c} channels but weight ${shapeToString(w)} with groups=${groups} expects ${inCPerGroup * groups} (weight.shape[1] · groups)`,
    );
  }
  const [h, wd] = x.slice(-2);
  const outH = convOutputSize(h, kH, stride[0], padding[0], dilation[0]);
  const outW = convOutputSize(wd, kW, stride[1], padding[1], dilation[1]);
  if (outH < 0 || outW < 0) {
    const span = (k: number, d: number) => d * (k - 1) + 1;
    throw new ShapeError(
      `${op}: the kernel (${span(kH, dilation[0])}x${span(kW, dilation[1])} with dilation ${pairText(dilation)}) is larger than the padded input ` +
        `(${h + 2 * padding[0]}x${wd + 2 * padding[1]}: x ${shapeToString(x)}, padding ${pairText(padding)}); use a smaller kernel or more padding`,
    );
  }
  return [...x.slice(0, -3), outC, outH, outW];
}

/** PyTorch's pooling output size (pooling_output_shape): floor or ceil, the last window starting inside the input. */
function poolOutputSize(size: number, kernel: number, stride: number, pad: number, dilation: number, ceilMode: boolean): number {
  let out = Math.floor((size + 2 * pad - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0)) / stride) + 1;
  if (ceilMode && (out - 1) * stride >= size + pad) out--;
  return out;
}

/** Output shape of a 2-D pooling op over x [N, C, H, W] (or [C, H, W]); throws for bad windows. */
export function pool2dShape(op: string, x: Shape, kernelSize: readonly number[], stride: readonly number[], padding: readonly number[], dilation: readonly number[], ceilMode: boolean): number[] {
  requireRank(op, 'x', x, [3, 4], X_LAYOUT);
  requireAtLeast(op, 'kernelSize', kernelSize, 1);
  requireAtLeast(op, 'stride', stride, 1);
  requireAtLeast(op, 'padding', padding, 0);
  requireAtLeast(op, 'dilation', dilation, 1);
  if (padding[0] > kernelSize[0] / 2 || padding[1] > kernelSize[1] / 2) {
    throw new ArgumentError(`${op}: padding ${pairText(padding)} is more than half of kernelSize ${pairText(kernelSize)}; each padding must be at most half its kernel size`);
  }
  const [h, w] = x.slice(-2);
  const outH = poolOutputSize(h, kernelSize[0], stride[0], padding[0], dilation[0], ceilMode);
  const outW = poolOutputSize(w, kernelSize[1], stride[1], padding[1], dilation[1], ceilMode);
  if (outH < 1 || outW < 1) {
    throw new ShapeError(
      `${op}: the output would be ${outH}x${outW} for x ${shapeToString(x)} with kernelSize ${pairText(kernelSize)}, padding ${pairText(padding)} and dilation ${pairText(dilation)}; ` +
        'the (dilated) window must fit in the padded input',
    );
  }
  return [...x.slice(0, -2), outH, outW];
}

export const require4D = (op: string, x: TensorType) => requireRank(op, 'x', x.shape, [4], '4-D (N, C, H, W) in the primitive; the op surface reshapes 3-D input');

export const CONV2D: PrimitiveDef<Conv2dAttrs> = {
  kind: 'primitive', name: 'conv2d', inputs: ['x', 'weight'],
  attrs: { stride: 'ints', padding: 'ints', dilation: 'ints', groups: 'int' },
  doc: '2-D cross-correlation of x [N, C, H, W] with weight [outC, C/groups, kH, kW], zero padding.',
  shape: ([x, w], attrs) => {
    require4D('conv2d', x);
    return [conv2dShape(x.shape, w.shape, attrs)];
  },
  dtype: elementwiseDType('conv2d', ['x', 'weight'], 'numeric'),
  differentiable: true,
  // dx is the transposed convolution of g (outputPadding recovers the rows a stride skipped);
  // dweight correlates x with g. Both are primitives whose own rules close the family.
  vjp: (ops, { inputs: [x, w], attrs: { stride, padding, dilation, groups }, cotangents: [g], needsGrad, typeOf }) => {
    const [xs, ws, gs] = [typeOf(x).shape, typeOf(w).shape, typeOf(g!).shape];
    const opts = { stride: asPair(stride), padding: asPair(padding), dilation: asPair(dilation), groups };
    const outputPadding = asPair([0, 1].map((i) => xs[2 + i] - convTransposeOutputSize(gs[2 + i], ws[2 + i], stride[i], padding[i], dilation[i], 0)));
    return [
      needsGrad[0] ? ops.conv2dTranspose(g!, w, null, { ...opts, outputPadding }) : null,
      needsGrad[1] ? ops.conv2dWeightGrad(x, g!, [ws[2], ws[3]], opts) : null,
    ];
  },
};

export const MAX_POOL2D: PrimitiveDef<MaxPool2dAttrs> = {
  kind: 'primitive', name: 'maxPool2d', inputs: ['x'],
  attrs: { kernelSize: 'ints', stride: 'ints', padding: 'ints', dilation: 'ints', ceilMode: 'bool' },
  doc: 'Maximum over each window of x [N, C, H, W]; padding is -Infinity and NaN propagates.',
  shape: ([x], a) => {
    require4D('maxPool2d', x);
    return [pool2dShape('maxPool2d', x.shape, a.kernelSize, a.stride, a.padding, a.dilation, a.ceilMode)];
  },
  dtype: elementwiseDType('maxPool2d', ['x'], 'numeric'),
  differentiable: true,
  // Each window's cotangent goes to the input element maxPool2dIndices picks (PyTorch's: the
  // first maximum, or the last NaN), summed where windows overlap.
  vjp: (ops, { inputs: [x], attrs: a, cotangents: [g], typeOf }) => {
    const [n, c, h, w] = typeOf(x).shape;
    const [, , outH, outW] = typeOf(g!).shape;
    const options = { stride: asPair(a.stride), padding: asPair(a.padding), dilation: asPair(a.dilation), ceilMode: a.ceilMode };
    const index = ops.reshape(ops.maxPool2dIndices(x, asPair(a.kernelSize), options), [n, c, outH * outW]);
    const routed = ops.scatterAdd(ops.zeros([n, c, h * w], typeOf(g!).dtype), 2, index, ops.reshape(g!, [n, c, outH * outW]));
    return [ops.reshape(routed, [n, c, h, w])];
  },
};

export const AVG_POOL2D: PrimitiveDef<AvgPool2dAttrs> = {
  kind: 'primitive', name: 'avgPool2d', inputs: ['x'],
  attrs: { kernelSize: 'ints', stride: 'ints', padding: 'ints', ceilMode: 'bool', countIncludePad: 'bool' },
  doc: 'Mean over each window of x [N, C, H, W]; zero padding, counted in the divisor if countIncludePad.',
  shape: ([x], a) => {
    require4D('avgPool2d', x);
    return [pool2dShape('avgPool2d', x.shape, a.kernelSize, a.stride, a.padding, [1, 1], a.ceilMode)];
  },
  dtype: elementwiseDType('avgPool2d', ['x'], 'numeric'),
  differentiable: true,
  vjp: (ops, { inputs: [x], attrs: a, cotangents: [g], typeOf }) => [
    ops.avgPool2dGrad(g!, typeOf(x).shape, asPair(a.kernelSize), {
      stride: asPair(a.stride), padding: asPair(a.padding), ceilMode: a.ceilMode, countIncludePad: a.countIncludePad,
    }),
  ],
};

export const convDefs: readonly OpDef<any>[] = [CONV2D, MAX_POOL2D, AVG_POOL2D];

/** Convolution and pooling over NCHW (or unbatched CHW) tensors, as torch.nn.functional. */
export interface ConvOps<V> {
  /**
   * 2-D convolution (cross-correlation, as F.conv2d) of x [N, C, H, W] or [C, H, W] with weight
   * [outC, C/groups, kH, kW], plus bias [outC] if given. Mixed dtypes promote; int32 is allowed.
   * @example `conv2d(zeros([8, 3, 32, 32]), zeros([16, 3, 3, 3]), null, { padding: 1 })` → shape [8, 16, 32, 32]
   */
  conv2d(x: V, weight: V, bias?: V | null, options?: Conv2dOptions): V;
  /**
   * Max pooling (F.max_pool2d) over x [N, C, H, W] or [C, H, W]; stride defaults to kernelSize.
   * @example `maxPool2d(zeros([1, 3, 32, 32]), 2)` → shape [1, 3, 16, 16]
   */
  maxPool2d(x: V, kernelSize: Pair, options?: MaxPool2dOptions): V;
  /**
   * Average pooling (F.avg_pool2d) over x [N, C, H, W] or [C, H, W]; stride defaults to
   * kernelSize. int32 input divides with truncation, as PyTorch's integer tensors.
   * @example `avgPool2d(zeros([1, 3, 32, 32]), 3, { stride: 1, padding: 1 })` → shape [1, 3, 32, 32]
   */
  avgPool2d(x: V, kernelSize: Pair, options?: AvgPool2dOptions): V;
}

/** `v` as [height, width], or an ArgumentError; range checks are the shape rules'. */
export function pair(op: string, arg: string, v: unknown): number[] {
  if (Number.isInteger(v)) return [v as number, v as number];
  if (Array.isArray(v) && v.length === 2 && v.every((d) => Number.isInteger(d))) return [v[0], v[1]];
  throw new ArgumentError(`${op}: ${arg} must be an integer or a pair of integers [height, width], got ${JSON.stringify(v)}`);
}

export function checkOptions(op: string, options: unknown, valid: readonly string[]): Record<string, unknown> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) throw new ArgumentError(`${op}: options must be an object, got ${JSON.stringify(options)}`);
  for (const key of Object.keys(options)) {
    if (!valid.includes(key)) throw new ArgumentError(`${op}: unknown option '${key}'; valid options are ${valid.join(', ')}`);
  }
  return options as Record<string, unknown>;
}

export function bool(op: string, arg: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new ArgumentError(`${op}: ${arg} must be a boolean, got ${JSON.stringify(v)}`);
  return v;
}

/** Canonical maxPool2d attrs from the surface's arguments (stride defaults to the kernel size). */
export function maxPoolAttrs(op: string, kernelSize: unknown, options: unknown): MaxPool2dAttrs {
  const o = checkOptions(op, options, ['stride', 'padding', 'dilation', 'ceilMode']);
  const k = pair(op, 'kernelSize', kernelSize);
  return {
    kernelSize: k,
    stride: o.stride === undefined || o.stride === null ? k : pair(op, 'stride', o.stride),
    padding: pair(op, 'padding', o.padding ?? 0),
    dilation: pair(op, 'dilation', o.dilation ?? 1),
    ceilMode: bool(op, 'ceilMode', o.ceilMode, false),
  };
}

/** Canonical avgPool2d attrs from the surface's arguments (stride defaults to the kernel size). */
export function avgPoolAttrs(op: string, kernelSize: unknown, options: unknown): AvgPool2dAttrs {
  const o = checkOptions(op, options, ['stride', 'padding', 'ceilMode', 'countIncludePad']);
  const k = pair(op, 'kernelSize', kernelSize);
  return {
    kernelSize: k,
    stride: o.stride === undefined || o.stride === null ? k : pair(op, 'stride', o.stride),
    padding: pair(op, 'padding', o.padding ?? 0),
    ceilMode: bool(op, 'ceilMode', o.ceilMode, false),
    countIncludePad: bool(op, 'countIncludePad', o.countIncludePad, true),
  };
}

/** Runs a 4-D primitive on 3-D input by adding and removing a batch axis of 1, as PyTorch. */
export function batched<V>(I: Interpreter<V>, ops: Ops<V>, x: V, run: (x4: V) => V): V {
  const shape = I.typeOf(x).shape;
  if (shape.length === 4) return run(x);
  const y = run(ops.reshape(x, [1, ...shape]));
  return ops.reshape(y, I.typeOf(y).shape.slice(1));
}

export function convOps<V>(I: Interpreter<V>, ops: Ops<V>): ConvOps<V> {

  return {
    conv2d: (x, weight, bias = null, options) => {
      const o = checkOptions('conv2d', options, ['stride', 'padding', 'dilation', 'groups']);
      const names = ['x', 'weight'];
      const operands = [expectValue(I, x, 'conv2d', 'x'), expectValue(I, weight, 'conv2d', 'weight')];
      if (bias !== null && bias !== undefined) {
        operands.push(expectValue(I, bias, 'conv2d', 'bias'));
        names.push('bias');
      }
      const groups = o.groups ?? 1;
      if (!Number.isInteger(groups)) throw new ArgumentError(`conv2d: groups must be a positive integer, got ${JSON.stringify(groups)}`);
      const attrs: Conv2dAttrs = {
        stride: pair('conv2d', 'stride', o.stride ?? 1),
        padding: pair('conv2d', 'padding', o.padding ?? 0),
        dilation: pair('conv2d', 'dilation', o.dilation ?? 1),
        groups: groups as number,
      };
      const [xType, wType] = operands.map((v) => I.typeOf(v));
      conv2dShape(xType.shape, wType.shape, attrs); // checks with the user's shapes, before any reshape
      const outC = wType.shape[0];
      if (operands.length === 3) {
        const b = I.typeOf(operands[2]).shape;
        if (b.length !== 1 || b[0] !== outC) {
          throw new ShapeError(`conv2d: bias has shape ${shapeToString(b)} but weight ${shapeToString(wType.shape)} has ${outC} output channels; bias must be [${outC}]`);
        }
      }
      const { values, dtype } = promoteOperands(I, ops, operands, 'conv2d', names);
      if (dtype === 'bool') throw new DTypeError('conv2d: x and weight must be int32, float32 or float64, got bool');
      const y = batched(I, ops, values[0], (x4) => apply1(I, CONV2D, [x4, values[1]], attrs));
      return values.length === 3 ? ops.add(y, ops.reshape(values[2], [outC, 1, 1])) : y;
    },
    maxPool2d: (x, kernelSize, options) => {
      const attrs = maxPoolAttrs('maxPool2d', kernelSize, options);
      const v = expectValue(I, x, 'maxPool2d', 'x');
      pool2dShape('maxPool2d', I.typeOf(v).shape, attrs.kernelSize, attrs.stride, attrs.padding, attrs.dilation, attrs.ceilMode);
      return batched(I, ops, v, (x4) => apply1(I, MAX_POOL2D, [x4], attrs));
    },
    avgPool2d: (x, kernelSize, options) => {
      const attrs = avgPoolAttrs('avgPool2d', kernelSize, options);
      const v = expectValue(I, x, 'avgPool2d', 'x');
      pool2dShape('avgPool2d', I.typeOf(v).shape, attrs.kernelSize, attrs.stride, attrs.padding, [1, 1], attrs.ceilMode);
      return batched(I, ops, v, (x4) => apply1(I, AVG_POOL2D, [x4], attrs));
    },
  };
}

import type { DType, Pair } from '@kiln/core';
import { ArgumentError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { avgPool2d, conv2d, maxPool2d, pad, tidy } from '@kiln/eager';
import { fans, kaimingUniform, uniform } from '../init.js';
import { boolean, checkOptions, newParameter, pairOf, positiveInt, showPair } from '../internal.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';

export interface Conv2dLayerOptions {
  /** Step between windows (default 1). */
  stride?: Pair;
  /**
   * Zeros added on each side (default 0), or 'valid' (none) or 'same' (the output keeps the
   * input's size; stride 1 only; an odd total puts the extra row/column at the bottom/right).
   */
  padding?: Pair | 'valid' | 'same';
  /** Spacing between kernel taps (default 1). */
  dilation?: Pair;
  /** Split channels into this many independent convolutions (default 1). */
  groups?: number;
  /** Add a learnable bias (default true). */
  bias?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/**
 * 2-D convolution over x [N, C, H, W] or [C, H, W] (nn.Conv2d). Weight [out, in/groups, kH, kW]
 * and bias [out], initialised as PyTorch: Kaiming-uniform with a = √5, bias U(±1/√fanIn).
 *
 * @example
 * ```ts
 * const conv = new Conv2d(3, 16, 3, { padding: 1 });
 * conv.forward(zeros([8, 3, 32, 32])).shape; // [8, 16, 32, 32]
 * ```
 */
export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | 'valid' | 'same';
  readonly dilation: [number, number];
  readonly groups: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, options: Conv2dLayerOptions = {}) {
    super();
    const o = checkOptions('Conv2d', options, ['stride', 'padding', 'dilation', 'groups', 'bias', 'dtype']);
    this.inChannels = positiveInt('Conv2d', 'inChannels', inChannels);
    this.outChannels = positiveInt('Conv2d', 'outChannels', outChannels);
    this.kernelSize = pairOf('Conv2d', 'kernelSize', kernelSize, 1);
    this.stride = pairOf('Conv2d', 'stride', o.stride ?? 1, 1);
    const padding = o.padding ?? 0;
    this.padding = padding === 'valid' || padding === 'same' ? padding : pairOf('Conv2d', 'padding', padding, 0);
    this.dilation = pairOf('Conv2d', 'dilation', o.dilation ?? 1, 1);
    this.groups = positiveInt('Conv2d', 'groups', o.groups ?? 1);
    for (const [n, arg] of [[inChannels, 'inChannels'], [outChannels, 'outChannels']] as const) {
      if (n % this.groups !== 0) throw new ArgumentError(`Conv2d: ${arg} (${n}) must be divisible by groups (${this.groups})`);
    }
    if (this.padding === 'same' && (this.stride[0] !== 1 || this.stride[1] !== 1)) {
      throw new ArgumentError(`Conv2d: padding 'same' needs stride 1, got stride ${showPair(this.stride)}; give the padding as numbers instead`);
    }
    this.weight = newParameter([outChannels, inChannels / this.groups, ...this.kernelSize], o.dtype);
    this.bias = boolean('Conv2d', 'bias', o.bias, true) ? newParameter([outChannels], o.dtype) : null;
    this.resetParameters();
  }

  /** Re-draws the weights as the constructor does. */
  resetParameters(): void {
    kaimingUniform(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const bound = 1 / Math.sqrt(fans(this.weight.shape).fanIn);
      uniform(this.bias, -bound, bound);
    }
  }

  forward(x: Tensor): Tensor {
    const opts = { stride: this.stride, dilation: this.dilation, groups: this.groups };
    if (this.padding === 'valid') return conv2d(x, this.weight, this.bias, opts);
    if (this.padding !== 'same') return conv2d(x, this.weight, this.bias, { ...opts, padding: this.padding });
    // 'same': total padding dilation·(k-1) per axis, the odd one extra at the end.
    const total = this.kernelSize.map((k, i) => this.dilation[i] * (k - 1));
    const before = total.map((t) => Math.floor(t / 2));
    if (total.every((t, i) => t === 2 * before[i])) return conv2d(x, this.weight, this.bias, { ...opts, padding: [before[0], before[1]] });
    return tidy(() => {
      const padded = pad(x, [before[1], total[1] - before[1], before[0], total[0] - before[0]]);
      return conv2d(padded, this.weight, this.bias, opts);
    });
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernelSize=${showPair(this.kernelSize)}, stride=${showPair(this.stride)}`;
    if (typeof this.padding === 'string') s += `, padding='${this.padding}'`;
    else if (this.padding.some((p) => p !== 0)) s += `, padding=${showPair(this.padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${showPair(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ', bias=false';
    return s;
  }
}

export interface MaxPool2dLayerOptions {
  /** Step between windows (default: the kernel size). */
  stride?: Pair | null;
  /** -Infinity added on each side, at most half the kernel (default 0). */
  padding?: Pair;
  /** Spacing between window taps (default 1). */
  dilation?: Pair;
  /** Round the output size up, so a partial last window is used (default false). */
  ceilMode?: boolean;
}

const showOpt = (p: Pair): string => (typeof p === 'number' ? String(p) : showPair(p));

/**
 * Max pooling over x [N, C, H, W] or [C, H, W] (nn.MaxPool2d).
 * @example `new MaxPool2d(2).forward(zeros([1, 3, 32, 32])).shape` → `[1, 3, 16, 16]`
 */
export class MaxPool2d extends Module {
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly dilation: Pair;
  readonly ceilMode: boolean;

  constructor(kernelSize: Pair, options: MaxPool2dLayerOptions = {}) {
    super();
    const o = checkOptions('MaxPool2d', options, ['stride', 'padding', 'dilation', 'ceilMode']);
    pairOf('MaxPool2d', 'kernelSize', kernelSize, 1);
    this.kernelSize = kernelSize;
    this.stride = o.stride ?? kernelSize;
    this.padding = o.padding ?? 0;
    this.dilation = o.dilation ?? 1;
    pairOf('MaxPool2d', 'stride', this.stride, 1);
    pairOf('MaxPool2d', 'padding', this.padding, 0);
    pairOf('MaxPool2d', 'dilation', this.dilation, 1);
    this.ceilMode = boolean('MaxPool2d', 'ceilMode', o.ceilMode, false);
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode });
  }

  override extraRepr(): string {
    return `kernelSize=${showOpt(this.kernelSize)}, stride=${showOpt(this.stride)}, padding=${showOpt(this.padding)}, dilation=${showOpt(this.dilation)}, ceilMode=${this.ceilMode}`;
  }
}

export interface AvgPool2dLayerOptions {
  /** Step between windows (default: the kernel size). */
  stride?: Pair | null;
  /** Zeros added on each side, at most half the kernel (default 0). */
  padding?: Pair;
  /** Round the output size up, so a partial last window is used (default false). */
  ceilMode?: boolean;
  /** Count the padded zeros in each window's divisor (default true). */
  countIncludePad?: boolean;
}

/**
 * Average pooling over x [N, C, H, W] or [C, H, W] (nn.AvgPool2d).
 * @example `new AvgPool2d(2).forward(ones([1, 1, 4, 4])).shape` → `[1, 1, 2, 2]`
 */
export class AvgPool2d extends Module {
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;

  constructor(kernelSize: Pair, options: AvgPool2dLayerOptions = {}) {
    super();
    const o = checkOptions('AvgPool2d', options, ['stride', 'padding', 'ceilMode', 'countIncludePad']);
    pairOf('AvgPool2d', 'kernelSize', kernelSize, 1);
    this.kernelSize = kernelSize;
    this.stride = o.stride ?? kernelSize;
    this.padding = o.padding ?? 0;
    pairOf('AvgPool2d', 'stride', this.stride, 1);
    pairOf('AvgPool2d', 'padding', this.padding, 0);
    this.ceilMode = boolean('AvgPool2d', 'ceilMode', o.ceilMode, false);
    this.countIncludePad = boolean('AvgPool2d', 'countIncludePad', o.countIncludePad, true);
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, ceilMode: this.ceilMode, countIncludePad: this.countIncludePad });
  }

  override extraRepr(): string {
    return `kernelSize=${showOpt(this.kernelSize)}, stride=${showOpt(this.stride)}, padding=${showOpt(this.padding)}`;
  }
}

import type { Shape } from '@kiln/core';
import { ArgumentError, DTypeError, isFloating, shapeToString, sizeOf } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { full, noGrad, normal as normalOp, tidy, uniform as uniformOp } from '@kiln/eager';

/*
 * Initialisers, as torch.nn.init: each fills a tensor in place (with `assign`, not recorded by
 * autograd) and returns it. Random ones draw from Kiln's seeded generator (`manualSeed`), so the
 * same seed gives the same weights; the numbers differ from PyTorch's generator.
 */

/** Nonlinearities `calculateGain` knows (PyTorch's names in camelCase). */
export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'convTranspose1d' | 'convTranspose2d' | 'convTranspose3d' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'selu';

/** Which fan the Kaiming initialisers scale by: 'fanIn' keeps the forward pass's variance, 'fanOut' the backward's. */
export type FanMode = 'fanIn' | 'fanOut';

export interface KaimingOptions {
  /** Negative slope of the leaky ReLU that follows (only used with 'leakyRelu'; default 0). */
  a?: number;
  /** Default 'fanIn'. */
  mode?: FanMode;
  /** Default 'leakyRelu' (with a = 0 that is ReLU's gain √2). */
  nonlinearity?: Nonlinearity;
}

const LINEAR_LIKE = ['linear', 'conv1d', 'conv2d', 'conv3d', 'convTranspose1d', 'convTranspose2d', 'convTranspose3d', 'sigmoid'];

/**
 * The recommended gain for a nonlinearity (torch.nn.init.calculate_gain): 1 for linear layers and
 * sigmoid, 5/3 for tanh, √2 for ReLU, √(2 / (1 + slope²)) for leaky ReLU (`param` is the slope,
 * default 0.01), 3/4 for SELU.
 *
 * @example
 * ```ts
 * calculateGain('relu');            // 1.4142…
 * calculateGain('leakyRelu', 0.2);  // 1.3867…
 * ```
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  if (LINEAR_LIKE.includes(nonlinearity)) return 1;
  switch (nonlinearity) {
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'selu':
      return 3 / 4;
    case 'leakyRelu': {
      const slope = param ?? 0.01;
      if (typeof slope !== 'number' || !Number.isFinite(slope)) throw new ArgumentError(`calculateGain: the negative slope must be a finite number, got ${JSON.stringify(param)}`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    default:
      throw new ArgumentError(`calculateGain: unsupported nonlinearity ${JSON.stringify(nonlinearity)}; valid ones are ${[...LINEAR_LIKE, 'tanh', 'relu', 'leakyRelu', 'selu'].join(', ')}`);
  }
}

/**
 * Fan-in and fan-out of a weight shape, as PyTorch: dimension 1 and dimension 0, each times the
 * receptive field (the product of dimensions 2…). A Linear weight [out, in] has fanIn = in; a
 * Conv2d weight [out, in/groups, kH, kW] has fanIn = in/groups·kH·kW.
 *
 * @example `fans([16, 3, 5, 5])` → `{ fanIn: 75, fanOut: 400 }`
 */
export function fans(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    throw new ArgumentError(`init: fan in and fan out cannot be computed for a tensor with fewer than 2 dimensions (shape ${shapeToString(shape)})`);
  }
  const receptive = sizeOf(shape.slice(2));
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** Fills `t` in place with what `make` returns (same shape and dtype). */
function fill<T extends Tensor>(where: string, t: T, make: (shape: number[]) => Tensor): T {
  if (!isFloating(t.dtype)) throw new DTypeError(`${where}: the tensor is ${t.dtype}; only float32 and float64 tensors can be initialised`);
  noGrad(() => tidy(() => void t.assign(make([...t.shape]))));
  return t;
}

function finite(where: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ArgumentError(`${where}: ${arg} must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Fills `t` with samples from U(low, high) (torch.nn.init.uniform_).
 * @example `uniform(new Parameter(zeros([3])), -0.1, 0.1)`
 */
export function uniform<T extends Tensor>(t: T, low = 0, high = 1): T {
  finite('uniform', 'low', low);
  finite('uniform', 'high', high);
  if (low > high) throw new ArgumentError(`uniform: low (${low}) must not exceed high (${high})`);
  return fill('uniform', t, (shape) => uniformOp(shape, low, high, t.dtype));
}

/**
 * Fills `t` with samples from N(mean, std²) (torch.nn.init.normal_).
 * @example `normal(embedding.weight, 0, 0.02)`
 */
export function normal<T extends Tensor>(t: T, mean = 0, std = 1): T {
  finite('normal', 'mean', mean);
  if (finite('normal', 'std', std) < 0) throw new ArgumentError(`normal: std must be non-negative, got ${std}`);
  return fill('normal', t, (shape) => normalOp(shape, mean, std, t.dtype));
}

/** Fills `t` with `value` (torch.nn.init.constant_). @example `constant(bias, 0.1)` */
export function constant<T extends Tensor>(t: T, value: number): T {
  if (typeof value !== 'number') throw new ArgumentError(`constant: value must be a number, got ${JSON.stringify(value)}`);
  return fill('constant', t, (shape) => full(shape, value, t.dtype));
}

/** Fills `t` with zeros. @example `zeros(linear.bias!)` */
export function zeros<T extends Tensor>(t: T): T {
  return fill('zeros', t, (shape) => full(shape, 0, t.dtype));
}

/** Fills `t` with ones. @example `ones(norm.weight!)` */
export function ones<T extends Tensor>(t: T): T {
  return fill('ones', t, (shape) => full(shape, 1, t.dtype));
}

function xavierStd(where: string, t: Tensor, gain: number): number {
  finite(where, 'gain', gain);
  const { fanIn, fanOut } = fans(t.shape);
  return gain * Math.sqrt(2 / (fanIn + fanOut));
}

/**
 * Glorot/Xavier uniform: U(-a, a) with a = gain·√(6 / (fanIn + fanOut)) (torch.nn.init.xavier_uniform_).
 * @example `xavierUniform(attention.inProjWeight!)`
 */
export function xavierUniform<T extends Tensor>(t: T, gain = 1): T {
  const bound = Math.sqrt(3) * xavierStd('xavierUniform', t, gain);
  return fill('xavierUniform', t, (shape) => uniformOp(shape, -bound, bound, t.dtype));
}

/**
 * Glorot/Xavier normal: N(0, std²) with std = gain·√(2 / (fanIn + fanOut)) (torch.nn.init.xavier_normal_).
 * @example `xavierNormal(linear.weight, calculateGain('tanh'))`
 */
export function xavierNormal<T extends Tensor>(t: T, gain = 1): T {
  const std = xavierStd('xavierNormal', t, gain);
  return fill('xavierNormal', t, (shape) => normalOp(shape, 0, std, t.dtype));
}

/** std = gain / √fan for the Kaiming initialisers, or null for an empty tensor (left as is, as PyTorch). */
function kaimingStd(where: string, t: Tensor, options: KaimingOptions): number | null {
  const { a = 0, mode = 'fanIn', nonlinearity = 'leakyRelu' } = options;
  finite(where, 'a', a);
  if (mode !== 'fanIn' && mode !== 'fanOut') throw new ArgumentError(`${where}: mode must be 'fanIn' or 'fanOut', got ${JSON.stringify(mode)}`);
  const fan = fans(t.shape)[mode];
  if (t.size === 0) return null;
  return calculateGain(nonlinearity, a) / Math.sqrt(fan);
}

/**
 * He/Kaiming uniform: U(-b, b) with b = gain·√(3 / fan) (torch.nn.init.kaiming_uniform_).
 * Linear and Conv2d weights are initialised with `{ a: √5 }`, as PyTorch's layers.
 * @example `kaimingUniform(conv.weight, { nonlinearity: 'relu' })`
 */
export function kaimingUniform<T extends Tensor>(t: T, options: KaimingOptions = {}): T {
  const std = kaimingStd('kaimingUniform', t, options);
  if (std === null) return t;
  const bound = Math.sqrt(3) * std;
  return fill('kaimingUniform', t, (shape) => uniformOp(shape, -bound, bound, t.dtype));
}

/**
 * He/Kaiming normal: N(0, std²) with std = gain / √fan (torch.nn.init.kaiming_normal_).
 * @example `kaimingNormal(linear.weight, { mode: 'fanOut', nonlinearity: 'relu' })`
 */
export function kaimingNormal<T extends Tensor>(t: T, options: KaimingOptions = {}): T {
  const std = kaimingStd('kaimingNormal', t, options);
  if (std === null) return t;
  return fill('kaimingNormal', t, (shape) => normalOp(shape, 0, std, t.dtype));
}

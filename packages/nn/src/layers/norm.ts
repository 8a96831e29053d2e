import type { DType } from '@kiln/core';
import { ArgumentError, ShapeError, shapeToString } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { add, cast, full, layerNorm, noGrad, reciprocal, tidy, zeros } from '@kiln/eager';
import { batchNorm } from '../functional.js';
import { ones as initOnes, zeros as initZeros } from '../init.js';
import { boolean, checkOptions, newBuffer, newParameter, nonNegativeNumber, positiveInt } from '../internal.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';

export interface BatchNormLayerOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Weight of each new batch in the running averages (default 0.1); null for a cumulative average over all batches. */
  momentum?: number | null;
  /** Learnable per-channel scale and shift (default true). */
  affine?: boolean;
  /** Keep running statistics for eval mode (default true); without them the batch's statistics are always used. */
  trackRunningStats?: boolean;
  /** Parameter and statistics dtype (default float32). */
  dtype?: DType;
}

/** What BatchNorm1d and BatchNorm2d share (PyTorch's _BatchNorm). */
abstract class BatchNormBase extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  /** int32 scalar: training batches seen (PyTorch: int64). */
  numBatchesTracked: Tensor | null;

  constructor(numFeatures: number, options: BatchNormLayerOptions) {
    super();
    const name = this.constructor.name;
    const o = checkOptions(name, options, ['eps', 'momentum', 'affine', 'trackRunningStats', 'dtype']);
    this.numFeatures = positiveInt(name, 'numFeatures', numFeatures);
    this.eps = nonNegativeNumber(name, 'eps', o.eps ?? 1e-5);
    const momentum = o.momentum === undefined ? 0.1 : o.momentum;
    if (momentum !== null && (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1))) {
      throw new ArgumentError(`${name}: momentum must be a number in [0, 1] or null (cumulative average), got ${JSON.stringify(momentum)}`);
    }
    this.momentum = momentum;
    this.affine = boolean(name, 'affine', o.affine, true);
    this.trackRunningStats = boolean(name, 'trackRunningStats', o.trackRunningStats, true);
    const dtype = o.dtype ?? 'float32';
    this.weight = this.affine ? newParameter([numFeatures], dtype) : null;
    this.bias = this.affine ? newParameter([numFeatures], dtype) : null;
    const track = this.trackRunningStats;
    this.runningMean = this.registerBuffer('runningMean', track ? newBuffer(() => zeros([numFeatures], dtype)) : null);
    this.runningVar = this.registerBuffer('runningVar', track ? newBuffer(() => full([numFeatures], 1, dtype)) : null);
    this.numBatchesTracked = this.registerBuffer('numBatchesTracked', track ? newBuffer(() => zeros([], 'int32')) : null);
    this.resetParameters();
  }

  /** Ranks of input this layer accepts, and how to describe them. */
  protected abstract readonly ranks: readonly number[];

  /** Running statistics back to mean 0, variance 1, no batches seen. */
  resetRunningStats(): void {
    if (!this.runningMean || !this.runningVar || !this.numBatchesTracked) return;
    initZeros(this.runningMean);
    noGrad(() => tidy(() => {
      this.runningVar!.assign(full([this.numFeatures], 1, this.runningVar!.dtype));
      this.numBatchesTracked!.assign(zeros([], 'int32'));
    }));
  }

  /** Running statistics reset; weight 1 and bias 0. */
  resetParameters(): void {
    this.resetRunningStats();
    if (this.weight) initOnes(this.weight);
    if (this.bias) initZeros(this.bias);
  }

  forward(x: Tensor): Tensor {
    const name = this.constructor.name;
    if (!this.ranks.includes(x.rank)) {
      throw new ShapeError(`${name}: expected ${this.ranks.map((r) => `${r}-D`).join(' or ')} input [N, C${this.ranks.includes(3) ? ', L' : ', H, W'}], got shape ${shapeToString(x.shape)}`);
    }
    if (x.shape[1] !== this.numFeatures) {
      throw new ShapeError(`${name}: x has shape ${shapeToString(x.shape)}, with ${x.shape[1]} channels on axis 1, but the layer has numFeatures=${this.numFeatures}`);
    }
    return tidy(() => {
      let factor: number | Tensor = this.momentum ?? 0;
      if (this.training && this.numBatchesTracked) {
        const count = this.numBatchesTracked;
        noGrad(() => count.assign(add(count, 1)));
        // Cumulative average: weight 1/count for the new batch, computed without reading count back.
        if (this.momentum === null) factor = reciprocal(cast(count, this.runningMean!.dtype));
      }
      const useBatchStats = this.training || this.runningMean === null;
      const stats = !this.training || this.trackRunningStats;
      return batchNorm(x, stats ? this.runningMean : null, stats ? this.runningVar : null, {
        weight: this.weight, bias: this.bias, training: useBatchStats, momentum: factor, eps: this.eps,
      });
    });
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/**
 * Batch normalization over x [N, C] or [N, C, L] (nn.BatchNorm1d): per channel, normalised with
 * the batch's statistics in training mode (updating the running mean and unbiased variance with
 * `momentum`, outside autograd) and with the running statistics in eval mode; then scaled and
 * shifted by the learnable weight and bias if `affine`.
 *
 * @example
 * ```ts
 * const bn = new BatchNorm1d(16);
 * bn.forward(x);           // training: batch statistics; updates bn.runningMean/runningVar
 * bn.eval().forward(x);    // running statistics
 * ```
 */
export class BatchNorm1d extends BatchNormBase {
  protected readonly ranks = [2, 3];

  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super(numFeatures, options);
  }
}

/**
 * Batch normalization over x [N, C, H, W] (nn.BatchNorm2d); see BatchNorm1d.
 * @example `new BatchNorm2d(3).forward(randn([8, 3, 4, 4])).shape` → `[8, 3, 4, 4]`
 */
export class BatchNorm2d extends BatchNormBase {
  protected readonly ranks = [4];

  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super(numFeatures, options);
  }
}

export interface LayerNormLayerOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Learnable elementwise weight (and bias) of shape normalizedShape (default true). */
  elementwiseAffine?: boolean;
  /** With elementwiseAffine, also a learnable bias (default true). */
  bias?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/**
 * Layer normalization over the trailing `normalizedShape` axes (nn.LayerNorm): each slice gets
 * mean 0 and (biased) variance 1, then `* weight + bias` (initialised to ones and zeros).
 *
 * @example
 * ```ts
 * const ln = new LayerNorm(64);
 * ln.forward(randn([8, 10, 64])).shape; // [8, 10, 64]
 * ```
 */
export class LayerNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(normalizedShape: number | readonly number[], options: LayerNormLayerOptions = {}) {
    super();
    const o = checkOptions('LayerNorm', options, ['eps', 'elementwiseAffine', 'bias', 'dtype']);
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
    if (!Array.isArray(shape) || shape.length === 0) throw new ArgumentError(`LayerNorm: normalizedShape must be a positive integer or a non-empty array of them, got ${JSON.stringify(normalizedShape)}`);
    shape.forEach((d) => positiveInt('LayerNorm', 'normalizedShape', d));
    this.normalizedShape = [...shape];
    this.eps = nonNegativeNumber('LayerNorm', 'eps', o.eps ?? 1e-5);
    this.elementwiseAffine = boolean('LayerNorm', 'elementwiseAffine', o.elementwiseAffine, true);
    const withBias = boolean('LayerNorm', 'bias', o.bias, true);
    this.weight = this.elementwiseAffine ? newParameter(shape, o.dtype) : null;
    this.bias = this.elementwiseAffine && withBias ? newParameter(shape, o.dtype) : null;
    this.resetParameters();
  }

  /** Weight 1, bias 0. */
  resetParameters(): void {
    if (this.weight) initOnes(this.weight);
    if (this.bias) initZeros(this.bias);
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `[${this.normalizedShape.join(', ')}], eps=${this.eps}, elementwiseAffine=${this.elementwiseAffine}`;
  }
}

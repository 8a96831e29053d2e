import { DTypeError, isFloating, ShapeError, shapeToString, ArgumentError } from '@kiln/core';
import { Tensor, add, cast, ge, matmul, mean, mul, noGrad, rand, reshape, rsqrt, sub, tidy, transpose } from '@kiln/eager';
import { probability } from './internal.js';

/*
 * The computations behind the layers, as torch.nn.functional: stateless functions of tensors.
 */

/**
 * x·weightᵀ + bias (F.linear): x [..., in], weight [out, in], bias [out].
 * @example `linear(ones([2, 3]), ones([4, 3]))` → shape [2, 4], every element 3
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  const inFeatures = weight.shape[1];
  if (weight.rank !== 2) throw new ShapeError(`linear: weight must be 2-D [outFeatures, inFeatures], got ${shapeToString(weight.shape)}`);
  if (x.rank === 0 || x.shape[x.rank - 1] !== inFeatures) {
    throw new ShapeError(`linear: x has shape ${shapeToString(x.shape)} but weight ${shapeToString(weight.shape)} takes ${inFeatures} input features; x must be [..., ${inFeatures}]`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new ShapeError(`linear: bias has shape ${shapeToString(bias.shape)} but weight ${shapeToString(weight.shape)} has ${weight.shape[0]} output features; bias must be [${weight.shape[0]}]`);
  }
  return tidy(() => {
    const y = matmul(x, transpose(weight, 0, 1));
    return bias ? add(y, bias) : y;
  });
}

/**
 * Dropout (F.dropout): in training, zeroes each element with probability `p` (drawn from Kiln's
 * seeded generator, see `manualSeed`) and scales the others by 1/(1-p), so the expected value is
 * unchanged; outside training (or with p = 0) returns `x` itself.
 *
 * @example
 * ```ts
 * manualSeed(0);
 * dropout(ones([4]), 0.5); // e.g. [2, 0, 2, 2]
 * ```
 */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  probability('dropout', 'p', p);
  if (!isFloating(x.dtype)) throw new DTypeError(`dropout: x must be float32 or float64, got ${x.dtype}`);
  if (!training || p === 0) return x;
  return tidy(() => {
    if (p === 1) return mul(x, 0);
    // noise = keep / (1 - p), then x · noise, as PyTorch's dropout.
    const keep = cast(ge(rand([...x.shape]), p), x.dtype);
    return mul(x, mul(keep, 1 / (1 - p)));
  });
}

export interface BatchNormOptions {
  /** Per-channel scale [C] (default none). */
  weight?: Tensor | null;
  /** Per-channel shift [C] (default none). */
  bias?: Tensor | null;
  /** Use the batch's statistics (and update the running ones) instead of the running ones (default false). */
  training?: boolean;
  /**
   * Weight of the new batch in the running averages: running = (1 - momentum)·running +
   * momentum·batch (default 0.1). A scalar tensor works too (BatchNorm's cumulative average
   * uses 1 / numBatchesTracked without reading it back).
   */
  momentum?: number | Tensor;
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
}

/**
 * Batch normalization over channel axis 1 of x [N, C, ...] (F.batch_norm). In training, each
 * channel is normalised with the batch's mean and biased variance, and the running statistics
 * (if given) are updated in place with the unbiased variance, outside autograd; otherwise the
 * running statistics are used.
 *
 * @example
 * ```ts
 * const y = batchNorm(x, runningMean, runningVar, { training: true }); // updates runningMean/Var
 * ```
 */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, options: BatchNormOptions = {}): Tensor {
  const { weight = null, bias = null, training = false, momentum = 0.1, eps = 1e-5 } = options;
  if (x.rank < 2) throw new ShapeError(`batchNorm: x must be [N, C, ...] (at least 2-D), got ${shapeToString(x.shape)}`);
  const c = x.shape[1];
  for (const [t, name] of [[runningMean, 'runningMean'], [runningVar, 'runningVar'], [weight, 'weight'], [bias, 'bias']] as const) {
    if (t && (t.rank !== 1 || t.shape[0] !== c)) {
      throw new ShapeError(`batchNorm: ${name} has shape ${shapeToString(t.shape)} but x ${shapeToString(x.shape)} has ${c} channels (axis 1); it must be [${c}]`);
    }
  }
  if ((runningMean === null) !== (runningVar === null)) throw new ArgumentError('batchNorm: give both runningMean and runningVar, or neither');
  if (typeof momentum === 'number' ? !(momentum >= 0 && momentum <= 1) : !(momentum instanceof Tensor && momentum.size === 1)) {
    throw new ArgumentError(`batchNorm: momentum must be a number in [0, 1] (or a one-element tensor), got ${momentum instanceof Tensor ? `a tensor of shape ${shapeToString(momentum.shape)}` : JSON.stringify(momentum)}`);
  }
  if (typeof eps !== 'number' || !(eps >= 0)) throw new ArgumentError(`batchNorm: eps must be a non-negative number, got ${JSON.stringify(eps)}`);
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const perChannel = x.shape.map((d, i) => (i === 1 ? d : 1));
  const n = x.size / Math.max(c, 1);
  return tidy(() => {
    let y: Tensor;
    if (training) {
      if (n <= 1) throw new ArgumentError(`batchNorm: expected more than 1 value per channel when training, got x of shape ${shapeToString(x.shape)}; use a larger batch or eval mode`);
      const mu = mean(x, axes, true);
      const centered = sub(x, mu);
      const variance = mean(mul(centered, centered), axes, true);
      y = mul(centered, rsqrt(add(variance, eps)));
      if (runningMean && runningVar) {
        noGrad(() => {
          const m = typeof momentum === 'number' ? momentum : reshape(momentum, []);
          const update = (running: Tensor, batch: Tensor) => running.assign(cast(add(mul(running, sub(1, m)), mul(batch, m)), running.dtype));
          update(runningMean, reshape(mu, [c]));
          update(runningVar, mul(reshape(variance, [c]), n / (n - 1))); // unbiased, as PyTorch
        });
      }
    } else {
      if (!runningMean || !runningVar) throw new ArgumentError('batchNorm: outside training, runningMean and runningVar are needed (or pass training: true to use the batch statistics)');
      y = mul(sub(x, reshape(runningMean, perChannel)), rsqrt(add(reshape(runningVar, perChannel), eps)));
    }
    if (weight) y = mul(y, reshape(weight, perChannel));
    if (bias) y = add(y, reshape(bias, perChannel));
    return y;
  });
}

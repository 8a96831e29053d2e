import type { Tensor } from '@kiln/eager';
import { div, logSoftmax, mul, ne, neg, oneHot, permute, sum, tidy, unsqueeze } from '@kiln/eager';
import { ArgumentError, DTypeError, ShapeError, shapeToString } from '@kiln/core';
import type { Reduction } from './common.js';
import { checkReduction, expectFloat, expectTensor, reduce } from './common.js';

/** Options shared by {@link crossEntropy} and {@link nllLoss}. */
export interface NllOptions {
  /** A rescaling weight for each class: a float tensor of shape [C]. */
  weight?: Tensor | null;
  /** Targets equal to this class index add nothing to the loss or to the mean's denominator (default -100). */
  ignoreIndex?: number;
  /** 'mean' (default: weighted mean over non-ignored targets), 'sum' or 'none'. */
  reduction?: Reduction;
}

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions extends NllOptions {
  /** Mixes the target with the uniform distribution: `(1 - ε)·target + ε/C` (default 0). */
  labelSmoothing?: number;
}

interface Checked {
  /** The class axis of the input (1, or 0 for an unbatched [C] input). */
  classAxis: number;
  numClasses: number;
  /** Class-index targets (int32) or class probabilities (float, input's shape). */
  probabilities: boolean;
  weight: Tensor | null;
  ignoreIndex: number;
  reduction: Reduction;
}

/** Checks shapes, dtypes and label values for crossEntropy/nllLoss; throws typed errors naming the problem. */
function check(loss: string, input: Tensor, target: Tensor, options: NllOptions, allowProbabilities: boolean): Checked {
  expectTensor(loss, 'input', input);
  expectTensor(loss, 'target', target);
  expectFloat(loss, 'input', input);
  const reduction = checkReduction(loss, options.reduction ?? 'mean');
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (!Number.isInteger(ignoreIndex)) throw new ArgumentError(`${loss}: ignoreIndex must be an integer, got ${JSON.stringify(ignoreIndex)}`);
  const rank = input.rank;
  if (rank === 0) throw new ShapeError(`${loss}: input must have a class dimension: [C], [N, C] or [N, C, d1, ...], got a scalar`);
  const classAxis = rank === 1 ? 0 : 1;
  const numClasses = input.shape[classAxis];
  const indexShape = input.shape.filter((_, i) => i !== classAxis);
  const sameAs = (s: readonly number[]) => target.rank === s.length && target.shape.every((d, i) => d === s[i]);
  let probabilities = false;
  if (target.dtype === 'int32') {
    if (!sameAs(indexShape)) {
      throw new ShapeError(`${loss}: target has shape ${shapeToString(target.shape)} but input has shape ${shapeToString(input.shape)}; class-index targets must have shape ${shapeToString(indexShape)} (the input's shape without its class axis ${classAxis})`);
    }
    // Traced targets (inside compile) have no data yet to check; eager ones are read.
    if (target.isConcrete) checkLabels(loss, target, numClasses, ignoreIndex);
  } else if (allowProbabilities && (target.dtype === 'float32' || target.dtype === 'float64')) {
    if (!sameAs(input.shape)) {
      throw new ShapeError(`${loss}: a float target holds class probabilities and must have the input's shape ${shapeToString(input.shape)}, got ${shapeToString(target.shape)}; for class indices pass an int32 target of shape ${shapeToString(indexShape)}`);
    }
    probabilities = true;
  } else {
    const want = allowProbabilities ? 'int32 class indices or float class probabilities' : 'int32 class indices';
    throw new DTypeError(`${loss}: target must be ${want}, got ${target.dtype}; cast labels with target.cast('int32')`);
  }
  const weight = options.weight ?? null;
  if (weight !== null) {
    expectTensor(loss, 'weight', weight);
    expectFloat(loss, 'weight', weight);
    if (weight.rank !== 1 || weight.shape[0] !== numClasses) {
      throw new ShapeError(`${loss}: weight must have shape [${numClasses}] (one weight per class), got ${shapeToString(weight.shape)}`);
    }
  }
  return { classAxis, numClasses, probabilities, weight, ignoreIndex, reduction };
}

/** Reads the labels (a device read) and throws an ArgumentError naming the first one out of range (unchecked where the backend cannot read synchronously). */
function checkLabels(loss: string, target: Tensor, numClasses: number, ignoreIndex: number): void {
  let labels: ArrayLike<number>;
  try {
    labels = target.dataSync();
  } catch (e) {
    // A backend that reads only asynchronously (WebGPU) leaves the labels unchecked, as compile() does.
    if (e instanceof Error && e.name === 'SyncReadError') return;
    throw e;
  }
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if ((y < 0 || y >= numClasses) && y !== ignoreIndex) {
      throw new ArgumentError(
        `${loss}: target holds label ${y} (at flat position ${i}), but the input has ${numClasses} classes: labels must be in 0..${numClasses - 1}` +
          ` (or equal ignoreIndex, ${ignoreIndex})`,
      );
    }
  }
}

/** Moves the class axis of log-probabilities last, so it lines up with oneHot(target). */
function classLast(logp: Tensor, classAxis: number): Tensor {
  if (classAxis === logp.rank - 1) return logp;
  const axes = [...Array(logp.rank).keys()].filter((a) => a !== classAxis);
  return permute(logp, [...axes, classAxis]);
}

/**
 * The loss of log-probabilities against class indices, with label smoothing mixed in. Picks
 * with a one-hot mask (ignored targets give all-zero rows), so only elementwise ops and sums
 * are differentiated.
 */
function indexLoss(logp: Tensor, target: Tensor, c: Checked, smoothing: number): Tensor {
  const lp = classLast(logp, c.classAxis); // [..., C]
  let picks = oneHot(target, c.numClasses).cast(lp.dtype); // all-zero rows for targets outside 0..C-1
  if (c.ignoreIndex >= 0 && c.ignoreIndex < c.numClasses) picks = mul(picks, unsqueeze(ne(target, c.ignoreIndex).cast(lp.dtype), -1));
  if (c.weight) picks = mul(picks, c.weight);
  let perElement = neg(sum(mul(lp, picks), -1)); // -w[y]·logp[y]
  if (smoothing > 0) {
    const keep = ne(target, c.ignoreIndex).cast(lp.dtype);
    const all = c.weight ? sum(mul(lp, c.weight), -1) : sum(lp, -1);
    const smooth = mul(neg(all), keep);
    perElement = mul(perElement, 1 - smoothing).add(mul(smooth, smoothing / c.numClasses));
  }
  if (c.reduction === 'none') return perElement;
  if (c.reduction === 'sum') return sum(perElement);
  // The weighted mean: divided by the total weight of the targets that count.
  return div(sum(perElement), sum(picks));
}

/** The loss against class probabilities (a float target of the input's shape). */
function probabilityLoss(logp: Tensor, target: Tensor, c: Checked, smoothing: number): Tensor {
  const lp = classLast(logp, c.classAxis);
  let t = classLast(target, c.classAxis);
  if (smoothing > 0) t = mul(t, 1 - smoothing).add(smoothing / c.numClasses);
  if (c.weight) t = mul(t, c.weight);
  const perElement = neg(sum(mul(lp, t), -1));
  if (c.reduction === 'mean') return div(sum(perElement), perElement.size); // per sample, not per weight
  return reduce(perElement, c.reduction);
}

/**
 * Cross-entropy between `logits` and the target classes, as `torch.nn.functional.cross_entropy`:
 * log-softmax over the class axis (1, or 0 for an unbatched [C] input) then the negative
 * log-likelihood. `target` is either int32 class indices of the input's shape without the
 * class axis ([N] for [N, C] logits; [N, d1, ...] for [N, C, d1, ...]) or float class
 * probabilities of the input's shape. The 'mean' reduction divides by the total weight of
 * the non-ignored targets (their count when there is no `weight`).
 *
 * Labels are read to check them: one outside 0..C-1 (other than `ignoreIndex`) throws an
 * ArgumentError naming it.
 *
 * @example
 * ```ts
 * const logits = tensor([[2, 0.5, -1], [0, 1, 0]], 'float32');
 * const loss = crossEntropy(logits, tensor([0, 1], 'int32'));                  // scalar
 * const smoothed = crossEntropy(logits, tensor([0, 1], 'int32'), { labelSmoothing: 0.1 });
 * ```
 */
export function crossEntropy(logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const c = check('crossEntropy', logits, target, options, true);
  const smoothing = options.labelSmoothing ?? 0;
  if (typeof smoothing !== 'number' || !(smoothing >= 0 && smoothing <= 1)) {
    throw new ArgumentError(`crossEntropy: labelSmoothing must be a number in [0, 1], got ${JSON.stringify(smoothing)}`);
  }
  // Own scope, like an op: the intermediates are freed now (the tape keeps what backward needs).
  return tidy(() => {
    const logp = logSoftmax(logits, c.classAxis);
    return c.probabilities ? probabilityLoss(logp, target, c, smoothing) : indexLoss(logp, target, c, smoothing);
  });
}

/**
 * Negative log-likelihood of log-probabilities (the output of `logSoftmax`) at the target
 * classes, as `torch.nn.functional.nll_loss`: `-weight[y]·input[y]` per element, 0 for
 * targets equal to `ignoreIndex`; the 'mean' reduction divides by the total weight of the
 * non-ignored targets. Shapes as {@link crossEntropy} with int32 class-index targets.
 *
 * @example
 * ```ts
 * const logp = logSoftmax(tensor([[1, 2, 3]], 'float32'));
 * nllLoss(logp, tensor([2], 'int32')).item(); // 0.4076
 * ```
 */
export function nllLoss(logProbs: Tensor, target: Tensor, options: NllOptions = {}): Tensor {
  const c = check('nllLoss', logProbs, target, options, false);
  return tidy(() => indexLoss(logProbs, target, c, 0));
}

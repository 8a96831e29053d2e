import type { Tensor } from '@kiln/eager';
import { abs, add, exp, ge, log1p, mul, neg, sub, tidy, where } from '@kiln/eager';
import type { Reduction } from './common.js';
import { checkReduction, expectBroadcastsTo, expectFloat, expectSameShape, expectTensor, reduce } from './common.js';

/** The `reduction` option of the elementwise losses. */
export interface ReductionOptions {
  /** 'mean' (default: over every element), 'sum' or 'none'. */
  reduction?: Reduction;
}

/** Options of {@link binaryCrossEntropyWithLogits}. */
export interface BceWithLogitsOptions extends ReductionOptions {
  /** Rescales each element's loss; broadcasts to the input's shape. */
  weight?: Tensor | null;
  /** Weight of the positive term, per class (broadcasts along the last axis): > 1 raises recall. */
  posWeight?: Tensor | null;
}

function checkPair(loss: string, input: Tensor, target: Tensor, options: ReductionOptions): Reduction {
  expectTensor(loss, 'input', input);
  expectTensor(loss, 'target', target);
  expectFloat(loss, 'input', input);
  expectSameShape(loss, input, target);
  return checkReduction(loss, options.reduction ?? 'mean');
}

/**
 * Mean squared error, `(input - target)²` per element, as `torch.nn.functional.mse_loss`.
 * The shapes must be equal (PyTorch broadcasts them with a warning; Kiln throws a ShapeError).
 *
 * @example
 * ```ts
 * mseLoss(tensor([1, 2, 3], 'float32'), tensor([1, 2, 5], 'float32')).item(); // 4/3
 * ```
 */
export function mseLoss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  const reduction = checkPair('mseLoss', input, target, options);
  return tidy(() => {
    const d = sub(input, target);
    return reduce(mul(d, d), reduction);
  });
}

/**
 * Mean absolute error, `|input - target|` per element, as `torch.nn.functional.l1_loss` (its
 * gradient at a zero difference is 0). The shapes must be equal.
 *
 * @example
 * ```ts
 * l1Loss(tensor([1, 2, 3], 'float32'), tensor([1, 2, 5], 'float32'), { reduction: 'sum' }).item(); // 2
 * ```
 */
export function l1Loss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  const reduction = checkPair('l1Loss', input, target, options);
  return tidy(() => reduce(abs(sub(input, target)), reduction));
}

/**
 * `softplus(-x)` = `-log(sigmoid(x))`, stable for any x and with the exact gradient
 * `sigmoid(x) - 1` everywhere (an `|x|`-based form would give 0 at x = 0).
 */
function softplusOfNegative(x: Tensor): Tensor {
  const nonNegative = ge(x, 0);
  const e = exp(where(nonNegative, neg(x), x)); // exp(-|x|) ≤ 1: never overflows
  return add(log1p(e), where(nonNegative, 0, neg(x)));
}

/**
 * Binary cross-entropy on logits, as `torch.nn.functional.binary_cross_entropy_with_logits`:
 * `-[posWeight·t·log σ(x) + (1 - t)·log(1 - σ(x))]` per element, computed stably (no
 * overflow for large |x|) as `(1 - t)·x + (1 + (posWeight - 1)·t)·softplus(-x)`. `target`
 * holds probabilities in [0, 1] and must have the input's shape.
 *
 * @example
 * ```ts
 * const logits = tensor([[0.5, -2], [3, 0]], 'float32');
 * const labels = tensor([[1, 0], [1, 1]], 'float32');
 * binaryCrossEntropyWithLogits(logits, labels, { posWeight: tensor([2, 1], 'float32') });
 * ```
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options: BceWithLogitsOptions = {}): Tensor {
  const loss = 'binaryCrossEntropyWithLogits';
  const reduction = checkPair(loss, input, target, options);
  expectFloat(loss, 'target', target);
  for (const [name, t] of [['weight', options.weight], ['posWeight', options.posWeight]] as const) {
    if (t === undefined || t === null) continue;
    expectTensor(loss, name, t);
    expectFloat(loss, name, t);
    expectBroadcastsTo(loss, name, t, input.shape);
  }
  return tidy(() => {
    const sp = softplusOfNegative(input);
    const logWeight = options.posWeight ? add(mul(sub(options.posWeight, 1), target), 1) : null;
    let perElement = add(mul(sub(1, target), input), logWeight ? mul(logWeight, sp) : sp);
    if (options.weight) perElement = mul(perElement, options.weight);
    return reduce(perElement, reduction);
  });
}

import type { Tensor } from '@kiln/eager';
import { Tensor as TensorClass, abs, clamp, div, max, mul, noGrad, pow, sqrt, stack, sum, tensor, tidy } from '@kiln/eager';
import { ArgumentError } from '@kiln/core';

/**
 * Scales the gradients of `parameters` in place so that their total norm (the norm of all
 * gradients together, as if concatenated) is at most `maxNorm`, as
 * `torch.nn.utils.clip_grad_norm_`: each gradient is multiplied by
 * `min(1, maxNorm / (total + 1e-6))`. Parameters without a gradient are skipped. Returns the
 * total norm before clipping (a scalar tensor; 0 when no parameter has a gradient).
 *
 * `normType` is any p > 0, or `Infinity` for the largest absolute value. With
 * `errorIfNonfinite`, a NaN or infinite total norm throws instead of clipping.
 *
 * @example
 * ```ts
 * loss.backward();
 * const norm = clipGradNorm(model.parameters(), 1.0);
 * opt.step();
 * ```
 */
export function clipGradNorm(parameters: Iterable<Tensor>, maxNorm: number, normType = 2, options: { errorIfNonfinite?: boolean } = {}): Tensor {
  if (typeof maxNorm !== 'number' || !(maxNorm >= 0)) throw new ArgumentError(`clipGradNorm: maxNorm must be a number ≥ 0, got ${JSON.stringify(maxNorm)}`);
  if (typeof normType !== 'number' || !(normType > 0)) throw new ArgumentError(`clipGradNorm: normType must be a number > 0 or Infinity, got ${JSON.stringify(normType)}`);
  if (parameters === null || typeof parameters !== 'object' || !(Symbol.iterator in parameters)) {
    throw new ArgumentError(`clipGradNorm: parameters must be an iterable of tensors (e.g. model.parameters()), got ${parameters === null ? 'null' : typeof parameters}`);
  }
  const list = [...parameters];
  list.forEach((p, i) => {
    if (!(p instanceof TensorClass)) throw new ArgumentError(`clipGradNorm: parameters must be tensors; item ${i} is ${p === null ? 'null' : typeof p}`);
  });
  const grads = list.flatMap((p) => (p.grad ? [p.grad] : []));
  if (grads.length === 0) return tensor(0, 'float32');
  return tidy(() =>
    noGrad(() => {
      const norms = grads.map((g) => normOf(g, normType));
      const total = normOf(stack(norms.map((n) => n.cast(grads[0].dtype))), normType);
      if (options.errorIfNonfinite) {
        const value = total.item() as number;
        if (!Number.isFinite(value)) {
          throw new ArgumentError(`clipGradNorm: the total norm of order ${normType} of the gradients is ${value}, so they cannot be clipped; pass errorIfNonfinite: false to clip anyway`);
        }
      }
      const coef = clamp(div(maxNorm, total.add(1e-6)), null, 1);
      for (const g of grads) g.assign(mul(g, coef.cast(g.dtype)));
      return total;
    }),
  );
}

/** The p-norm of all elements of g (the maximum absolute value for p = Infinity). */
function normOf(g: Tensor, p: number): Tensor {
  if (p === Infinity) return max(abs(g));
  if (p === 2) return sqrt(sum(mul(g, g)));
  if (p === 1) return sum(abs(g));
  return pow(sum(pow(abs(g), p)), 1 / p);
}

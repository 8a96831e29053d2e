import { ArgumentError, isFloating } from '@kiln/core';
import { Tensor } from '../tensor.js';
import { gradients } from './engine.js';
import { enableGrad, isGradEnabled } from './mode.js';

type GradsOf<N> = N extends readonly number[] ? Tensor[] : Tensor;

function prepare(args: unknown[], argnums: number | readonly number[], where: string) {
  const nums = typeof argnums === 'number' ? [argnums] : [...argnums];
  // An argument that already requires grad (an outer grad's variable, a parameter) is used as
  // is, so the result stays differentiable with respect to it: that is what makes grad(grad(f)) work.
  let nested = false;
  const targets = nums.map((i) => {
    const a = args[i];
    if (!(a instanceof Tensor)) {
      throw new ArgumentError(`${where}: argument ${i} must be a tensor to differentiate with respect to it, got ${a === null ? 'null' : typeof a}`);
    }
    if (!isFloating(a.dtype)) throw new ArgumentError(`${where}: argument ${i} is ${a.dtype}; only float tensors can be differentiated`);
    if (a.requiresGrad) {
      nested = true;
      return a;
    }
    return a.detach().requireGrad();
  });
  const callArgs = [...args];
  nums.forEach((i, k) => (callArgs[i] = targets[k]));
  return { targets, callArgs, createGraph: nested && isGradEnabled() };
}

/**
 * Returns a function computing `[fn(...args), d fn / d args[argnums]]` without touching `.grad`.
 * `fn` must return a one-element float tensor. `argnums` is an index or a list of indices (then
 * the gradients come as a list). Composes: `grad(grad(f))` is the second derivative.
 *
 * @example
 * ```ts
 * const f = (x: Tensor) => x.pow(3).sum();
 * const [value, g] = valueAndGrad(f)(tensor([2.0]));  // 8, [12]
 * ```
 */
export function valueAndGrad<Args extends unknown[], N extends number | readonly number[] = 0>(
  fn: (...args: Args) => Tensor,
  argnums?: N,
): (...args: Args) => [Tensor, GradsOf<N>] {
  return (...args: Args) => {
    const { targets, callArgs, createGraph } = prepare(args, argnums ?? 0, 'valueAndGrad');
    // fn is recorded even inside noGrad: differentiating it is the point of the call.
    const value = enableGrad(() => fn(...(callArgs as Args)));
    if (!(value instanceof Tensor)) throw new ArgumentError(`valueAndGrad: fn must return a tensor, got ${typeof value}`);
    const grads = gradients(value, targets, { createGraph, where: 'valueAndGrad' });
    return [value, (typeof argnums === 'object' ? grads : grads[0]) as GradsOf<N>];
  };
}

/**
 * Returns a function computing the gradient of `fn` with respect to `args[argnums]`.
 *
 * @example
 * ```ts
 * const d2 = grad(grad((x: Tensor) => x.pow(3).sum()));
 * d2(tensor([2.0])).item(); // 12
 * ```
 */
export function grad<Args extends unknown[], N extends number | readonly number[] = 0>(
  fn: (...args: Args) => Tensor,
  argnums?: N,
): (...args: Args) => GradsOf<N> {
  const vg = valueAndGrad(fn, argnums);
  return (...args: Args) => {
    const [value, grads] = vg(...args);
    // The value is not returned; free it unless the gradients' recorded graph may read it.
    if (!createsGraph(grads)) value.dispose();
    return grads;
  };
}

function createsGraph(grads: Tensor | Tensor[]): boolean {
  return (Array.isArray(grads) ? grads : [grads]).some((g) => g.requiresGrad);
}

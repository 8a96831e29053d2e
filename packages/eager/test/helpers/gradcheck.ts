import { expect } from 'vitest';
import type { Tensor } from '../../src/index.js';
import { mul, noGrad, sum, tensor, tidy, valueAndGrad } from '../../src/index.js';

/** Deterministic pseudo-random numbers in [-1, 1) (an LCG), independent of Kiln's generator. */
export function pseudoRandom(n: number, seed = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

export function randomTensor(shape: number[], seed = 1, scale = 1, offset = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(pseudoRandom(n, seed).map((v) => v * scale + offset), { dtype: 'float64', shape });
}

export interface GradCheckOptions {
  eps?: number;
  rtol?: number;
  atol?: number;
  /** Which inputs to differentiate (default: all). */
  argnums?: number[];
}

/**
 * Compares autograd's gradient of `fn` with central finite differences in float64. Non-scalar
 * outputs are reduced with fixed pseudo-random weights, so every output element matters.
 */
export function checkGradients(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: GradCheckOptions = {}): void {
  const { eps = 1e-6, rtol = 1e-5, atol = 1e-7 } = options;
  const argnums = options.argnums ?? inputs.map((_, i) => i);
  tidy(() => {
    const probe = noGrad(() => fn(...inputs));
    const weights = tensor(pseudoRandom(probe.size, 7), { dtype: 'float64', shape: [...probe.shape] });
    const scalar = (...xs: Tensor[]) => sum(mul(fn(...xs), weights));
    const [, grads] = valueAndGrad(scalar, argnums)(...inputs);
    argnums.forEach((argIndex, k) => {
      const x = inputs[argIndex];
      const base = Array.from(x.dataSync());
      const analytic = Array.from(grads[k].dataSync());
      const numeric = base.map((_, j) =>
        tidy(() => {
          const at = (delta: number) => {
            const shifted = base.slice();
            shifted[j] += delta;
            const args = inputs.slice();
            args[argIndex] = tensor(shifted, { dtype: x.dtype, shape: [...x.shape] });
            return noGrad(() => scalar(...args).item() as number);
          };
          return (at(eps) - at(-eps)) / (2 * eps);
        }),
      );
      const bad = numeric.flatMap((n, j) => (Math.abs(n - analytic[j]) <= atol + rtol * Math.abs(n) ? [] : [`[${j}] autograd ${analytic[j]} vs numeric ${n}`]));
      expect(bad, `gradient of input ${argIndex}`).toEqual([]);
    });
  });
}

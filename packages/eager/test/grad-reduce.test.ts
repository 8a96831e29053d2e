import { ArgumentError } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../src/index.js';
import {
  argmax, argmin, cumsum, grad, logsumexp, max, mean, min, mul, pow, prod, sum, tensor, variance,
} from '../src/index.js';
import { checkGradients, randomTensor } from './helpers/gradcheck.js';

type Fn = (x: Tensor) => Tensor;

/** A scalar that depends nonlinearly on every element of `y`, so second derivatives are not trivially 0. */
const cubic = (y: Tensor): Tensor => sum(mul(pow(y, 3), randomTensor([...y.shape], 11)));

// Distinct values (no ties), so max/min are differentiable everywhere near them.
const x = randomTensor([2, 3, 4], 1);
const axisCases: [string, number | number[] | null, boolean][] = [
  ['all axes', null, false], ['all axes, keepdims', null, true], ['axis 0', 0, false], ['axis -1, keepdims', -1, true],
  ['axes [0, 2]', [0, 2], false], ['axes [2, 1], keepdims', [2, 1], true],
];

describe('reductions match finite differences (float64)', () => {
  const reductions: Record<string, (t: Tensor, axis: number | number[] | null, keepdims: boolean) => Tensor> = {
    sum, mean, prod, max, min, logsumexp,
    'var (correction 1)': (t, a, k) => variance(t, a, 1, k),
    'var (correction 0)': (t, a, k) => variance(t, a, 0, k),
  };
  for (const [name, f] of Object.entries(reductions)) {
    for (const [label, axis, keepdims] of axisCases) {
      it(`${name} over ${label}`, () => checkGradients((t) => f(t, axis, keepdims), [x]));
    }
  }

  it('logsumexp of large values (the max shift)', () => checkGradients((t) => logsumexp(t, 1), [randomTensor([3, 4], 5, 3, 800)]));

  it('prod where the input holds zeros: one, two and none per row', () => {
    const p = tensor([[2, 0, 3, 0.5], [0, 0, 5, 1.5], [1, 2, -4, 0.25]], 'float64');
    checkGradients((t) => prod(t, 1), [p]);
    checkGradients((t) => prod(t, 0, true), [p]);
    checkGradients((t) => prod(t), [tensor([[2, 0], [3, 4]], 'float64')]);
  });

  for (const axis of [0, 1, -1]) {
    it(`cumsum along axis ${axis}`, () => checkGradients((t) => cumsum(t, axis), [x]));
  }

  it('cumsum feeding a nonlinear function', () => checkGradients((t) => pow(cumsum(t, 0), 2), [randomTensor([5], 2)]));
});

describe('reduction gradients at special points (values as PyTorch 1.13 gives them)', () => {
  it('prod with zeros: one zero gets the product of the others, two zeros give 0', () => {
    const g = grad((t: Tensor) => sum(prod(t, 1)))(tensor([[2, 0, 3], [0, 0, 5], [1, 2, 4]], 'float64'));
    expect(g.toArray()).toEqual([[0, 6, 0], [0, 0, 0], [8, 4, 2]]);
  });

  it('prod of a scalar and over an empty axis', () => {
    expect(grad((t: Tensor) => prod(t))(tensor(3, 'float64')).item()).toBe(1);
    const g = grad((t: Tensor) => sum(prod(t, 1)))(tensor([[], []], { dtype: 'float64', shape: [2, 0] }));
    expect(g.shape).toEqual([2, 0]);
  });

  it('max and min split the gradient evenly among ties (amax/amin)', () => {
    const t = tensor([[1, 3, 3], [2, 2, 2]], 'float64');
    const third = 1 / 3;
    expect(grad((v: Tensor) => sum(max(v, 1)))(t).toArray()).toEqual([[0, 0.5, 0.5], [third, third, third]]);
    expect(grad((v: Tensor) => max(v))(t).toArray()).toEqual([[0, 0.5, 0.5], [0, 0, 0]]);
    expect(grad((v: Tensor) => sum(min(v, 0)))(t).toArray()).toEqual([[1, 0, 0], [0, 1, 1]]);
    expect(grad((v: Tensor) => sum(min(v, 1, true)))(t).toArray()).toEqual([[1, 0, 0], [third, third, third]]);
  });

  it('max with NaN gives NaN gradients for the whole group, as PyTorch', () => {
    const g = grad((v: Tensor) => sum(max(v, 1)))(tensor([[1, NaN, 2], [1, 4, 2]], 'float64'));
    expect(g.toArray()).toEqual([[NaN, NaN, NaN], [0, 1, 0]]);
  });

  it('cumsum: each element gets the sum of the later cotangents', () => {
    const g = grad((t: Tensor) => sum(mul(cumsum(t, 0), tensor([1, 10, 100], 'float64'))))(tensor([5, 6, 7], 'float64'));
    expect(g.toArray()).toEqual([111, 110, 100]);
  });
});

describe('second derivatives of reductions match finite differences', () => {
  const second: Record<string, Fn> = {
    sum: (t) => cubic(sum(t, 1)),
    'sum, keepdims': (t) => cubic(sum(t, [0, 2], true)),
    mean: (t) => cubic(mean(t, -1)),
    'mean, all axes': (t) => cubic(mean(t, null, true)),
    prod: (t) => cubic(prod(t, 2)),
    max: (t) => cubic(max(t, 1)),
    cumsum: (t) => cubic(cumsum(t, 1)),
    'var (correction 1)': (t) => cubic(variance(t, 2)),
    logsumexp: (t) => cubic(logsumexp(t, [0, 1])),
  };
  for (const [name, f] of Object.entries(second)) {
    it(name, () => checkGradients((t) => grad(f)(t), [randomTensor([2, 3, 3], 3)]));
  }

  it('prod with zeros (one and two per row; matches PyTorch 1.13 create_graph)', () => {
    const p = tensor([[2, 0, 3], [0, 0, 5], [1, 2, 4]], 'float64');
    const w = tensor([[0, 1, 2], [3, 4, 5], [6, 7, 8]], 'float64');
    const hess = grad((t: Tensor) => sum(mul(grad((u: Tensor) => sum(prod(u, 1)))(t), w)));
    expect(hess(p).toArray()).toEqual([[3, 4, 2], [20, 15, 0], [44, 32, 19]]);
    checkGradients((t) => grad((u: Tensor) => sum(prod(u, 1)))(t), [p]);
  });

  it('prod with one, two and three zeros per group, over two axes', () => {
    const p = tensor([[[0, 2], [3, 1.5]], [[0, 0], [-2, 1]], [[0, 0], [0, 4]]], 'float64');
    const w = tensor([1.5, -2, 0.5], 'float64');
    checkGradients((t) => grad((u: Tensor) => sum(mul(prod(u, [1, 2]), w)))(t), [p]);
  });
});

describe('non-differentiable reductions', () => {
  it('a gradient through argmax or argmin says which op blocked it', () => {
    const w = tensor([1, 3, 2], 'float32').requireGrad();
    expect(() => sum(argmax(w).cast('float32')).backward()).toThrowError(ArgumentError);
    expect(() => sum(argmax(w).cast('float32')).backward()).toThrowError(/computed through 'argmax', which has no gradient/);
    expect(() => sum(argmin(w, 0, true).cast('float32')).backward()).toThrowError(/computed through 'argmin', which has no gradient/);
    expect(() => grad((t: Tensor) => sum(argmax(t, 0).cast('float64')))(tensor([1, 2], 'float64'))).toThrowError(/'argmax', which has no gradient/);
  });
});

/**
 * Autograd inside compiled functions, compared with eager on hand-picked cases: the functional
 * API (grad, valueAndGrad, nested grad), detach, and backward() with retained gradients.
 * Expected values are computed by hand where they are simple.
 */
import { printGraph, verifyGraph } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { exp, grad, mul, sin, sum, tensor, tidy, valueAndGrad } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/index.js';
import { expectSameTensors } from './equivalence-compare.js';

describe('autograd inside compile', () => {
  it('valueAndGrad: value and gradient of x³ summed (3x²)', () => {
    const f = compile((x: Tensor) => valueAndGrad((y: Tensor) => sum(mul(mul(y, y), y)))(x));
    const [value, g] = f(tensor([1, 2, -3], 'float32'));
    expect(value.item()).toBe(1 + 8 - 27);
    expect(g.toArray()).toEqual([3, 12, 27]);
    verifyGraph(f.graph(tensor([1, 2, -3], 'float32')));
  });

  it('grad with several argnums, and grad of grad (second derivative of sin is −sin)', () => {
    const f = compile((a: Tensor, b: Tensor) => grad((p: Tensor, q: Tensor) => sum(mul(p, exp(q))), [0, 1])(a, b));
    const a = tensor([1, 2], 'float64');
    const b = tensor([0, 1], 'float64');
    const [ga, gb] = f(a, b);
    expect(ga.toArray()).toEqual([1, Math.E]);
    expect(gb.toArray()).toEqual([1, 2 * Math.E]);
    const second = grad((x: Tensor) => sum(grad((y: Tensor) => sum(sin(y)))(x)));
    const d2 = compile(second);
    const x = tensor([0.5, 1, 2], 'float64');
    expectSameTensors([d2(x)], [second(x)]);
    (d2(x).toArray() as number[]).forEach((v, i) => expect(v).toBeCloseTo(-Math.sin([0.5, 1, 2][i]), 12));
  });

  it('detach cuts the traced value from the gradient, as in eager', () => {
    const body = (x: Tensor) => valueAndGrad((y: Tensor) => sum(mul(y, y.detach())))(x);
    const f = compile(body);
    const x = tensor([2, -1], 'float32');
    const [, g] = f(x);
    expect(g.toArray()).toEqual([2, -1]); // d/dy (y · c) = c, not 2y
    tidy(() => expectSameTensors(f(x).flat(), body(x).flat()));
    // The traced gradient is the detached copy itself: one mul forward, one for the cotangent, no add.
    expect(printGraph(f.explain(x).tracedGraph)).toMatchInlineSnapshot(`
      "graph(%a0: f32[2]) {
        %0: f32[2] = mul %a0 %a0
        %1: f32[] = sum %0 {axes=[0], keepdims=false}
        %2: f32[] = full {dtype="float32", shape=[], value=1}
        %3: f32[1] = reshape %2 {shape=[1]}
        %4: f32[2] = broadcastTo %3 {shape=[2]}
        %5: f32[2] = mul %4 %a0
        return %1, %5
      }"
    `);
  });
});

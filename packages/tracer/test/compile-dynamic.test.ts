import { printGraph, ShapeError, TraceError, verifyGraph } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { add, broadcastTo, concat, manualSeed, matmul, mean, mul, ones, rand, randint, randn, reshape, sum, tensor, tidy, zeros } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { crossEntropy, Linear, ReLU, SGD, Sequential } from '../../nn/src/index.js';
import { compile } from '../src/index.js';

const arange = (n: number, cols: number) => tensor(Array.from({ length: n * cols }, (_, i) => (i % 7) - 3), 'float32').reshape([n, cols]);

describe('dynamic dimensions', () => {
  it('serves every batch size from one traced template', () => {
    const w = tensor([[1, -1], [2, 0.5], [0, 1]], 'float32');
    const f = (x: Tensor) => mean(matmul(x, w).relu(), 0);
    const cf = compile(f, { dynamic: { 0: [0] } });
    for (const n of [4, 9, 2, 31, 9, 4]) {
      const x = arange(n, 3);
      expect(cf(x).toArray()).toEqual(f(x).toArray());
    }
    // Traced at 4 (the call), 5, 6 and 11 (probes); 9, 2 and 31 specialized; 9 and 4 from the cache.
    expect(cf.stats).toEqual({ traces: 4, hits: 5, misses: 1, specializations: 3 });
    expect(cf.retraceReasons).toEqual([]);
  });

  it('prints the specialized graph with the new size in every shape and the mean divisor', () => {
    const cf = compile((x: Tensor) => mean(mul(x, 2), 0), { dynamic: { 0: [0] } });
    cf(ones([4, 3]));
    const g = cf.explain(ones([6, 3])).tracedGraph; // as traced (before the optimizer runs)
    verifyGraph(g);
    expect(printGraph(g)).toMatchInlineSnapshot(`
      "graph(%a0: f32[6,3]) {
        %0: f32[] = full {dtype="float32", shape=[], value=2}
        %1: f32[6,3] = mul %a0 %0
        %2: f32[3] = sum %1 {axes=[0], keepdims=false}
        %3: f32[] = full {dtype="float32", shape=[], value=6}
        %4: f32[3] = div %2 %3
        return %4
      }"
    `);
    expect(cf.explain(ones([6, 3])).dynamic).toEqual({
      symbols: ['s0 = arg 0 axis 0'],
      formulas: ['input 0 shape[0] = s0', 'node 3 (full) value = s0'],
      tracedAt: ['s0=4', 's0=5', 's0=6', 's0=11'],
    });
  });

  it('rebuilds the graph a probe traced exactly from the template', () => {
    const w = randn([5, 4]);
    const f = (x: Tensor) => reshape(add(matmul(x, w), zeros([x.shape[0], 4])), [-1]).softmax(0);
    const cf = compile(f, { dynamic: { 0: [0] } });
    cf(randn([3, 5]));
    const plain = compile(f);
    for (const n of [3, 4, 9, 17]) {
      const x = randn([n, 5]);
      const g = cf.explain(x).tracedGraph;
      verifyGraph(g);
      expect(printGraph(g)).toBe(printGraph(plain.explain(x).tracedGraph));
      verifyGraph(cf.graph(x));
    }
  });

  it('fits reciprocals (a mean written as x · 1/n) and sizes used twice', () => {
    const f = (x: Tensor) => mul(sum(x, 0), 1 / x.shape[0]);
    const cf = compile(f, { dynamic: { 0: [0] } });
    for (const n of [2, 3, 7, 49, 100]) {
      const x = randn([n, 2]);
      expect(cf(x).toArray()).toEqual(f(x).toArray());
    }
    expect(cf.explain(randn([7, 2])).dynamic!.formulas).toContain('node 1 (full) value = 1/s0');
  });

  it('gives sizes 0 and 1 their own graphs, and says so', () => {
    const messages: string[] = [];
    const cf = compile((x: Tensor) => sum(x, 0), { dynamic: { 0: [0] }, onRetrace: (m) => messages.push(m) });
    cf(ones([5, 2]));
    expect(cf(ones([1, 2])).toArray()).toEqual([1, 1]);
    expect(cf(ones([0, 2])).toArray()).toEqual([0, 0]);
    expect(cf(ones([8, 2])).toArray()).toEqual([8, 8]);
    expect(cf(ones([1, 2])).toArray()).toEqual([1, 1]);
    expect(messages).toEqual(['compile: retracing the function (trace 2): arg 0: shape [n,2] → [1,2]', 'compile: retracing the function (trace 3): arg 0: shape [1,2] → [0,2]']);
    expect(cf.stats).toEqual({ traces: 6, hits: 2, misses: 3, specializations: 1 });
  });

  it('lets dimensions of equal size vary together, and retraces when they part', () => {
    const messages: string[] = [];
    const cf = compile((x: Tensor, y: Tensor) => add(x, y), { dynamic: { 0: [0], 1: [0] }, onRetrace: (m) => messages.push(m) });
    cf(ones([4]), ones([4]));
    expect(cf(ones([6]), ones([6])).toArray()).toEqual([2, 2, 2, 2, 2, 2]);
    expect(cf.stats.specializations).toBe(1);
    expect(() => cf(ones([6]), ones([7]))).toThrowError(ShapeError); // add cannot broadcast 6 and 7: the trace fails, as eager would
    expect(messages).toEqual(['compile: retracing the function (trace 2): dynamic dimensions of equal size were {arg 0 axis 0 = arg 1 axis 0}, now {arg 0 axis 0; arg 1 axis 0} (equal sizes share one symbol)']);
  });

  it('fits several independent sizes', () => {
    const f = (a: Tensor, b: Tensor) => concat([reshape(a, [-1]), reshape(b, [-1])], 0).sum();
    const cf = compile(f, { dynamic: { 0: [0, 1], 1: [1] } });
    cf(ones([2, 3]), ones([4, 5]));
    for (const [m, n, k] of [[3, 4, 6], [5, 2, 2], [7, 7, 9]]) {
      const a = ones([m, n]);
      const b = ones([4, k]);
      expect(cf(a, b).item()).toBe(m * n + 4 * k);
    }
    // Traced at (m, n, k) = (2, 3, 5), 9 more points for the quadratic terms, and (7, 9, 13); then
    // (5, 2, 2) and (7, 7, 9) make two equal sizes one symbol: two more templates of 7 traces.
    expect(cf.stats.traces).toBe(11 + 7 + 7);
    expect(cf.explain(ones([3, 4]), ones([4, 6])).dynamic!.formulas).toEqual([
      'input 0 shape[0] = s0', 'input 0 shape[1] = s1', 'input 1 shape[1] = s2',
      'node 0 (reshape) shape[0] = s0·s1', 'node 1 (reshape) shape[0] = 4·s2',
    ]);
  });

  it('fits squares, and names the number that is no polynomial of degree 2', () => {
    const square = compile((x: Tensor) => add(sum(x), x.shape[0] ** 2), { dynamic: { 0: [0] } });
    square(ones([4]));
    expect(square(ones([7])).item()).toBe(7 + 49);
    const cf = compile((x: Tensor) => add(sum(x), x.shape[0] ** 3), { dynamic: { 0: [0] } });
    expect(() => cf(ones([4]))).toThrowError(TraceError);
    expect(() => cf(ones([4]))).toThrowError('compile: dynamic dimensions: the function traced at arg 0 axis 0 = 4, arg 0 axis 0 = 5, arg 0 axis 0 = 6, arg 0 axis 0 = 11 gives node 1 (full) value = 64, 125, 216, 1331, which is not a polynomial of degree ≤ 2 in the size (nor is its reciprocal); keep that dimension out of dynamic, or compute the value with tensor ops');
  });

  it('rejects a function whose ops depend on the size', () => {
    const cf = compile((x: Tensor) => {
      let acc = sum(x);
      for (let i = 0; i < x.shape[0]; i++) acc = add(acc, 1);
      return acc;
    }, { dynamic: { 0: [0] } });
    expect(() => cf(ones([3]))).toThrowError('compile: dynamic dimensions: the function traced at arg 0 axis 0 = 3, arg 0 axis 0 = 4, arg 0 axis 0 = 5, arg 0 axis 0 = 9 records a different number of ops (7, 9, 11, 19): what the function does depends on the size');
    const results = compile((x: Tensor) => ({ n: x.shape[0], s: sum(x) }), { dynamic: { 0: [0] } });
    expect(() => results(ones([3]))).toThrowError(/the function returns a different structure \(or different non-tensor values\) at arg 0 axis 0 = 3 and at arg 0 axis 0 = 4/);
  });

  it('names the node whose shape rule rejects a size', () => {
    const cf = compile((x: Tensor) => reshape(x, [x.shape[0] / 2, 2]), { dynamic: { 0: [0] } });
    expect(() => cf(ones([4]))).toThrowError(/tracing again with arg 0 axis 0 = 5, to fit the graph to the size, failed: reshape/);
    const half = compile((x: Tensor) => reshape(x, [2, -1]), { dynamic: { 0: [0] } });
    expect(() => half(ones([4]))).toThrowError(ShapeError);
    const even = compile((x: Tensor, y: Tensor) => add(reshape(x, [-1, 2]), y), { dynamic: { 0: [0] } });
    expect(() => even(ones([4]), ones([2]))).toThrowError(/arg 0 axis 0 = 5/);
  });

  it('names the probe size the function rejects, with the error it threw', () => {
    const w = ones([3, 2]);
    const cf = compile((x: Tensor) => matmul(x, w), { dynamic: { 0: [1] } });
    expect(() => cf(ones([2, 3]))).toThrowError(ShapeError);
    expect(() => cf(ones([2, 3]))).toThrowError(/^compile: dynamic dimensions: tracing again with arg 0 axis 1 = 4, to fit the graph to the size, failed: matmul/);
  });

  it('names the node when a later size breaks a shape rule', () => {
    const cf = compile((x: Tensor) => add(sum(x), broadcastTo(zeros([1, 2]), [x.shape[0] - 5, 2]).sum()), { dynamic: { 0: [0] } });
    cf(ones([8]));
    expect(cf(ones([6])).item()).toBe(6);
    expect(() => cf(ones([3]))).toThrowError(ShapeError);
    expect(() => cf(ones([3]))).toThrowError(/^compile: dynamic dimensions: the graph does not fit arg 0 axis 0 = 3: node 2 \(broadcastTo\) \(recorded at .*compile-dynamic\.test\.ts:\d+\): /);
  });

  it('compiles a training step once for every batch size, matching eager', () => {
    const run = (compiled: boolean) => {
      manualSeed(3);
      const model = new Sequential(new Linear(4, 6), new ReLU(), new Linear(6, 3));
      const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
      const body = (x: Tensor, y: Tensor) => {
        opt.zeroGrad();
        const loss = crossEntropy(model.forward(x), y);
        loss.backward();
        opt.step();
        return loss;
      };
      const step = compiled ? compile(body, { dynamic: { 0: [0], 1: [0] } }) : body;
      const losses = [8, 5, 8, 13, 2, 5].map((n) => tidy(() => step(randn([n, 4]), randint(0, 3, [n])).item() as number));
      return { losses, w: Array.from(model.parameters()[0].dataSync()), stats: compiled ? (step as ReturnType<typeof compile>).stats : undefined };
    };
    const eager = run(false);
    const compiled = run(true);
    expect(compiled.losses).toEqual(eager.losses);
    expect(compiled.w).toEqual(eager.w);
    expect(compiled.stats).toEqual({ traces: 4, hits: 5, misses: 1, specializations: 3 });
  });

  it('keeps random ops exact at every size', () => {
    const g = (x: Tensor) => add(x, rand([x.shape[0], 2]));
    const cg = compile(g, { dynamic: { 0: [0] } });
    for (const n of [3, 6, 4]) {
      manualSeed(11);
      const e = g(zeros([n, 2])).toArray();
      manualSeed(11);
      expect(cg(zeros([n, 2])).toArray()).toEqual(e);
    }
  });

  it('bounds the sizes it keeps', () => {
    const cf = compile((x: Tensor) => sum(x), { dynamic: { 0: [0] }, maxCacheEntries: 2 });
    for (const n of [2, 3, 4, 3, 2]) cf(ones([n]));
    // Sizes kept: {2 (traced), 3, 4} bounded to 2 → 3 and 4; 2 again is specialized once more.
    expect(cf.stats).toEqual({ traces: 4, hits: 4, misses: 1, specializations: 3 });
  });
});

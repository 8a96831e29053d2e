import { printGraph, verifyGraph } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { add, div, exp, matmul, mul, neg, noGrad, ones, permute, reshape, sub, sum, tanh, tensor, tidy, transpose } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/index.js';

const FUSION = ['fuse-elementwise', 'fuse-matmul-epilogue'];

/** Exact equality that tells -0 from 0. */
const bits = (t: Tensor) => Array.from(t.dataSync(), (v) => (Object.is(v, -0) ? '-0' : String(v)));

describe('compile() optimizes each traced graph once', () => {
  it('drops dead code, merges duplicates, folds constants and simplifies: printed, and equal to eager bit for bit', () => {
    const f = (x: Tensor, w: Tensor) => {
      void exp(x); // dead
      const scale = mul(ones([2, 2]), 0.5); // folds to a full
      const wt = transpose(transpose(w, 0, 1), 0, 1); // simplifies to w
      const y = matmul(mul(x, 1), wt);
      return add(mul(tanh(y), scale), tanh(y)); // tanh(y) twice: merged
    };
    const noFusion = compile(f, { optimize: { skip: FUSION, verify: true } });
    const cf = compile(f);
    const x = tensor([[1, -2], [0.5, NaN]], 'float32');
    const w = tensor([[0.25, -0], [3, 1e-3]], 'float32');
    expect(printGraph(noFusion.graph(x, w))).toMatchInlineSnapshot(`
      "graph(%a0: f32[2,2], %a1: f32[2,2]) {
        %0: f32[2,2] = full {dtype="float32", shape=[2,2], value=0.5}
        %1: f32[2,2] = matmul %a0 %a1
        %2: f32[2,2] = tanh %1
        %3: f32[2,2] = mul %2 %0
        %4: f32[2,2] = add %3 %2
        return %4
      }"
    `);
    expect(cf.explain(x, w).passes.map((p) => p.name)).toEqual(['dce', 'cse', 'fold-constants', 'simplify', 'cse', 'dce', ...FUSION]);
    expect(bits(noFusion(x, w))).toEqual(bits(f(x, w)));
    expect(bits(cf(x, w))).toEqual(bits(f(x, w)));
    verifyGraph(cf.graph(x, w));
    const raw = compile(f, { optimize: false });
    expect(raw.graph(x, w).nodes.length).toBeGreaterThan(cf.graph(x, w).nodes.length);
    expect(bits(raw(x, w))).toEqual(bits(f(x, w)));
  });

  it('keeps -0 and NaN exactly where a float x + 0 is not dropped', () => {
    const f = (x: Tensor) => [add(x, 0), sub(x, 0), div(neg(neg(x)), 1), reshape(reshape(x, [4]), [2, 2])];
    const cf = compile(f, { optimize: { skip: FUSION } });
    const x = tensor([[-0, 0], [NaN, -Infinity]], 'float32');
    const got = cf(x) as Tensor[];
    f(x).forEach((e, i) => expect(bits(got[i])).toEqual(bits(e)));
    expect(printGraph(cf.graph(x))).toMatchInlineSnapshot(`
      "graph(%a0: f32[2,2]) {
        %0: f32[] = full {dtype="float32", shape=[], value=0}
        %1: f32[2,2] = add %a0 %0
        return %1, %a0, %a0, %a0
      }"
    `);
    const fused = compile(f);
    const all = fused(x) as Tensor[];
    f(x).forEach((e, i) => expect(bits(all[i])).toEqual(bits(e)));
  });

  it('a state update that simplifies to the state itself still writes back', () => {
    const counter = tensor([1, 2], 'float32');
    const step = compile(() => {
      noGrad(() => counter.assign(mul(permute(permute(counter, [0]), [0]), 1)));
      return sum(counter);
    });
    expect(step().item()).toBe(3);
    expect(step().item()).toBe(3);
    expect(counter.toArray()).toEqual([1, 2]);
    expect(step.graph().nodes.map((n) => n.op)).toEqual(['sum']);
  });

  it('trains like eager over 50 steps with every pass and the memory plan on', () => {
    const init = () => ({ w: tensor([[0.1, -0.2, 0.3], [0.3, 0.4, -0.1]], 'float32').requireGrad(), b: tensor([0, 0.1, -0.1], 'float32').requireGrad() });
    const x = tensor([[1, 2], [3, -1], [0.5, 0.5], [-1, 0]], 'float32');
    const target = tensor([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1]], 'float32');
    const makeStep = (p: { w: Tensor; b: Tensor }) => () =>
      tidy(() => {
        const h = tanh(add(matmul(x, p.w), p.b));
        const loss = div(sum(mul(sub(h, target), sub(h, target))), 4);
        loss.backward();
        noGrad(() => {
          for (const t of [p.w, p.b]) {
            t.assign(sub(t, mul(t.grad!, 0.5)));
            t.zeroGrad();
          }
        });
        return loss;
      });
    const eager = init();
    const compiled = init();
    const eagerStep = makeStep(eager);
    const compiledStep = compile(makeStep(compiled));
    for (let i = 0; i < 50; i++) {
      const a = eagerStep();
      const b = compiledStep();
      expect(b.item()).toBe(a.item());
      a.dispose();
      b.dispose();
    }
    expect(bits(compiled.w)).toEqual(bits(eager.w));
    expect(bits(compiled.b)).toEqual(bits(eager.b));
  });
});

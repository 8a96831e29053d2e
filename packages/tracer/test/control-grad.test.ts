import { printGraph } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { add, cond, grad, matmul, mul, noGrad, scan, sub, sum, tanh, tensor, tidy, valueAndGrad, where } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/index.js';
import { expectClose, f32, f64, list, traced, verified } from './control-helpers.js';

describe('gradients through compiled control flow', () => {
  /** Values and gradients of f with respect to every argument: eagerly, and traced inside compile(). */
  const both = (f: (...xs: Tensor[]) => Tensor, args: Tensor[]) => {
    const nums = args.map((_, i) => i);
    const eager = valueAndGrad(f, nums)(...args);
    const compiled = compile((...xs: Tensor[]) => valueAndGrad(f, nums)(...xs));
    return { eager, compiled: compiled(...args), graph: verified(compiled.graph(...args)) };
  };

  it('cond: the backward is a cond over the branches\' backward sub-graphs', () => {
    const f = (x: Tensor, w: Tensor) => cond(x.sum().gt(0), (a: Tensor) => a.mul(w).mul(w).sum(), (a: Tensor) => a.add(w).sum(), [x]);
    const w = f64([1, 2, 3]);
    for (const x of [f64([1, 2, 3]), f64([-1, -2, -3])]) {
      const { eager, compiled } = both(f, [x, w]);
      expectClose(compiled[0], eager[0]);
      compiled[1].forEach((g, i) => expectClose(g, eager[1][i]));
    }
    // d/dw of sum(x w²) is 2xw; of sum(x + w), 1.
    expect(both(f, [f64([1, 2, 3]), w]).compiled[1][1].toArray()).toEqual([2, 8, 18]);
    expect(both(f, [f64([-1, -2, -3]), w]).compiled[1][1].toArray()).toEqual([1, 1, 1]);
    const small = (x: Tensor) => cond(x.sum().gt(0), (a: Tensor) => a.mul(a).sum(), (a: Tensor) => a.sum(), [x]);
    expect(printGraph(traced((x: Tensor) => valueAndGrad(small, [0])(x), f32([1, 2])))).toMatchInlineSnapshot(`
      "graph(%a0: f32[2]) {
        %0: f32[] = sum %a0 {axes=[0], keepdims=false}
        %1: f32[] = full {dtype="float32", shape=[], value=0}
        %2: bool[] = gt %0 %1
        %3: f32[] = cond %2 %a0
          body0(%x0: f32[2]) {
            %4: f32[2] = mul %x0 %x0
            %5: f32[] = sum %4 {axes=[0], keepdims=false}
            return %5
          }
          body1(%x0: f32[2]) {
            %6: f32[] = sum %x0 {axes=[0], keepdims=false}
            return %6
          }
        %7: f32[] = full {dtype="float32", shape=[], value=1}
        %8: f32[2] = cond %2 %a0 %7
          body0(%x0: f32[2], %x1: f32[]) {
            %9: f32[] = full {dtype="float32", shape=[], value=1}
            %10: f32[] = mul %9 %x1
            %11: f32[1] = reshape %10 {shape=[1]}
            %12: f32[2] = broadcastTo %11 {shape=[2]}
            %13: f32[2] = mul %12 %x0
            %14: f32[2] = mul %12 %x0
            %15: f32[2] = add %13 %14
            return %15
          }
          body1(%x0: f32[2], %x1: f32[]) {
            %16: f32[] = full {dtype="float32", shape=[], value=1}
            %17: f32[] = mul %16 %x1
            %18: f32[1] = reshape %17 {shape=[1]}
            %19: f32[2] = broadcastTo %18 {shape=[2]}
            return %19
          }
        return %3, %8
      }"
    `);
  });

  it('cond: equals the same computation written with where, and finite differences', () => {
    const withCond = (x: Tensor, w: Tensor) => cond(x.sum().gt(0), (a: Tensor) => tanh(a.mul(w)).sum(), (a: Tensor) => a.mul(a).mul(w).sum(), [x]);
    const withWhere = (x: Tensor, w: Tensor) => where(x.sum().gt(0), tanh(x.mul(w)).sum(), x.mul(x).mul(w).sum());
    for (const x of [f64([0.3, -0.1, 0.7]), f64([-0.3, 0.1, -0.7])]) {
      const w = f64([0.5, -1.5, 2]);
      const got = both(withCond, [x, w]).compiled;
      const want = valueAndGrad(withWhere, [0, 1])(x, w);
      expectClose(got[0], want[0]);
      got[1].forEach((g, i) => expectClose(g, want[1][i]));
      // central finite differences on w
      const eps = 1e-6;
      const numeric = list(w).map((_, j) => {
        const at = (d: number) => withCond(x, f64(list(w).map((v, k) => (k === j ? v + d : v)))).item() as number;
        return (at(eps) - at(-eps)) / (2 * eps);
      });
      list(got[1][1]).forEach((g, j) => expect(g).toBeCloseTo(numeric[j], 7));
    }
  });

  /** An RNN over a sequence: h ← tanh(W h + x_t), loss = Σ h_T + Σ_t h_t². */
  const rnn = (w: Tensor, h0: Tensor, xs: Tensor) => {
    const [h, hs] = scan((h: Tensor, x: Tensor) => {
      const next = tanh(add(matmul(w, h), x));
      return [next, next.mul(next)];
    }, h0, xs);
    return h.sum().add(hs.sum());
  };
  const unrolled = (w: Tensor, h0: Tensor, xs: Tensor) => {
    let h = h0;
    let total = f64([0]).sum();
    for (let t = 0; t < xs.shape[0]; t++) {
      h = tanh(add(matmul(w, h), xs.slice([t])));
      total = total.add(h.mul(h).sum());
    }
    return h.sum().add(total);
  };
  const args = () => [f64([0.5, -0.3, 0.2, 0.1, 0.4, -0.6, 0.3, 0.2, -0.1], [3, 3]), f64([0.1, -0.2, 0.3]), f64([1, -1, 0.5, 0.2, 0.3, -0.4, -0.5, 0.6, 0.1, 0.9, -0.8, 0.7], [4, 3])];

  it('scan: the backward is a reverse scan over the kept carries; equals eager, the unrolled loop and finite differences', () => {
    const { eager, compiled, graph } = both(rnn, args());
    const plain = valueAndGrad(unrolled, [0, 1, 2])(...(args() as [Tensor, Tensor, Tensor]));
    expectClose(compiled[0], eager[0]);
    expectClose(compiled[0], plain[0]);
    compiled[1].forEach((g, i) => {
      expectClose(g, eager[1][i]);
      expectClose(g, plain[1][i], 1e-10);
    });
    const scans = printGraph(graph).split('\n').filter((l) => / = scan /.test(l)).map((l) => l.replace(/%\w+/g, '%_'));
    expect(scans).toEqual([
      // forward: the carry, the ys, and what the backward reads: the carry entering each step and tanh's result
      '  %_: f64[3], %_: f64[4,3], %_: f64[4,3], %_: f64[4,3] = scan %_ %_ %_ {length=4, numCarry=1, numConsts=1, reverse=false}',
      // backward, in the other direction: the gradients of the constant, of the initial carry, of the xs
      '  %_: f64[3,3], %_: f64[3], %_: f64[4,3] = scan %_ %_ %_ %_ %_ %_ %_ %_ {length=4, numCarry=2, numConsts=1, reverse=true}',
    ]);
    const eps = 1e-6;
    const [w, h0, xs] = args();
    const numeric = list(w).map((_, j) => {
      const at = (d: number) => rnn(f64(list(w).map((v, k) => (k === j ? v + d : v)), [3, 3]), h0, xs).item() as number;
      return (at(eps) - at(-eps)) / (2 * eps);
    });
    list(compiled[1][0]).forEach((g, j) => expect(g).toBeCloseTo(numeric[j], 7));
  });

  it('scan in reverse, with an integer carry and a nested cond, matches eager', () => {
    const f = (xs: Tensor, w: Tensor) => {
      const [c] = scan(({ i, s }: { i: Tensor; s: Tensor }, x: Tensor) => {
        const y = cond(i.mod(2).eq(0), (a: Tensor) => a.mul(w).sin(), (a: Tensor) => a.mul(a), [x]);
        return [{ i: i.add(1), s: s.add(y.mul(s.add(1))) }, null];
      }, { i: tensor(0), s: f64([0.5]).sum() }, xs, { reverse: true });
      return c.s;
    };
    const { eager, compiled } = both(f, [f64([0.1, 0.2, 0.3, 0.4, 0.5]), f64([1.5]).sum()]);
    expectClose(compiled[0], eager[0]);
    compiled[1].forEach((g, i) => expectClose(g, eager[1][i]));
  });

  it('second derivatives through a compiled cond', () => {
    const f = (x: Tensor) => cond(x.sum().gt(0), (a: Tensor) => a.pow(3).sum(), (a: Tensor) => a.sum(), [x]);
    const d2 = (x: Tensor) => grad((y: Tensor) => grad(f)(y).sum())(x);
    const x = f64([1, 2]);
    expect(compile(d2)(x).toArray()).toEqual([6, 12]);
    expect(d2(x).toArray()).toEqual([6, 12]);
  });

  it('a training step with backward() through a scan compiles and trains like eager', () => {
    const init = () => ({ w: f32([0.2, -0.1, 0.4, 0.3]).reshape([2, 2]).requireGrad(), u: f32([0.5, -0.5]).requireGrad() });
    const xs = f32([1, 0, 0.5, -1, -0.2, 0.3, 0.8, 0.1]).reshape([4, 2]);
    const target = f32([0.3, -0.2]);
    const makeStep = (p: { w: Tensor; u: Tensor }) => () =>
      tidy(() => {
        const [h] = scan((h: Tensor, x: Tensor) => [tanh(add(matmul(p.w, h), x.mul(p.u))), null], f32([0, 0]), xs);
        const loss = sum(mul(sub(h, target), sub(h, target)));
        loss.backward();
        noGrad(() => {
          for (const t of [p.w, p.u]) {
            t.assign(sub(t, mul(t.grad!, 0.2)));
            t.zeroGrad();
          }
        });
        return loss;
      });
    const [eager, compiled] = [init(), init()];
    const [eagerStep, compiledStep] = [makeStep(eager), compile(makeStep(compiled))];
    const losses: number[][] = [];
    for (let i = 0; i < 20; i++) losses.push([eagerStep().item() as number, compiledStep().item() as number]);
    losses.forEach(([a, b]) => expect(b).toBeCloseTo(a, 5));
    expect(losses[19][0]).toBeLessThan(losses[0][0] / 2);
    expectClose(compiled.w, eager.w, 1e-5);
    expectClose(compiled.u, eager.u, 1e-5);
    expect(compiledStep.stats.traces).toBe(1);
  });
});

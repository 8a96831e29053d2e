import type { Graph } from '@kiln/core';
import { ArgumentError, DTypeError, printGraph, ShapeError, TraceError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { add, cond, fromStorage, getBackend, grad, matmul, memory, mul, noGrad, rand, scan, sub, sum, tanh, tensor, tidy, valueAndGrad, whileLoop } from '@kiln/eager';
import { executeGraph, optimize } from '@kiln/runtime';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/index.js';
import { expectClose, f32, f64, list, traced } from './control-helpers.js';

describe('cond, compiled', () => {
  const w = f32([1, 2, 3]);
  const f = (x: Tensor) => cond(x.sum().gt(0), (v: Tensor) => v.mul(w), (v: Tensor) => v.neg(), [x]);

  it('matches eager on both branches with one trace, reading the closure as a node input', () => {
    const cf = compile(f);
    for (const x of [f32([1, 2, 3]), f32([-1, -2, -3]), f32([4, -5, 0.5])]) expect(cf(x).toArray()).toEqual(f(x).toArray());
    expect(cf.stats.traces).toBe(1);
    expect(printGraph(traced(f, f32([1, 2, 3])))).toMatchInlineSnapshot(`
      "graph(%a0: f32[3], %c0: f32[3]) {
        %0: f32[] = sum %a0 {axes=[0], keepdims=false}
        %1: f32[] = full {dtype="float32", shape=[], value=0}
        %2: bool[] = gt %0 %1
        %3: f32[3] = cond %2 %a0 %c0
          body0(%x0: f32[3], %k0: f32[3]) {
            %4: f32[3] = mul %x0 %k0
            return %4
          }
          body1(%x0: f32[3], %k0: f32[3]) {
            %5: f32[3] = neg %x0
            return %5
          }
        return %3
      }"
    `);
  });

  it('takes nested operands and results', () => {
    const g = (p: Tensor, o: { a: Tensor; b: [Tensor, Tensor] }) =>
      cond(p, (q: typeof o) => ({ s: q.a.add(q.b[0]), t: q.b[1] }), (q: typeof o) => ({ s: q.a.sub(q.b[0]), t: q.b[1].mul(2) }), [o]);
    const o = { a: f32([1, 2]), b: [f32([3, 4]), f32([5])] as [Tensor, Tensor] };
    const cg = compile(g);
    for (const p of [tensor(true), tensor(false)]) {
      const [got, want] = [cg(p, o), g(p, o)];
      expect([got.s.toArray(), got.t.toArray()]).toEqual([want.s.toArray(), want.t.toArray()]);
    }
  });

  it('rejects branches whose results differ in structure, shape or dtype, naming the result', () => {
    const x = f32([1, 2]);
    const trace = (other: (v: Tensor) => unknown) => () => compile((v: Tensor) => cond(v.sum().gt(0), (u: Tensor) => ({ y: u }), other, [v]))(x);
    expect(trace((u) => [u])).toThrowError(ArgumentError);
    expect(trace((u) => [u])).toThrowError('cond: the else branch returns [tensor] but the then branch returns {y: tensor}; both branches must return the same structure');
    expect(trace((u) => ({ y: u.sum() }))).toThrowError(ShapeError);
    expect(trace((u) => ({ y: u.sum() }))).toThrowError('cond: the else branch returns result.y as float32[] but the then branch returns it as float32[2]; both branches must return the same shapes and dtypes');
    expect(trace((u) => ({ y: u.cast('float64') }))).toThrowError(DTypeError);
    expect(trace((u) => ({ y: u.cast('float64') }))).toThrowError('cond: the else branch returns result.y as float64[2] but the then branch returns it as float32[2]');
  });

  it('rejects a predicate that is not a bool scalar', () => {
    const id = (v: Tensor) => v;
    expect(() => compile((v: Tensor) => cond(v.sum(), id, id, [v]))(f32([1]))).toThrowError(DTypeError);
    expect(() => compile((v: Tensor) => cond(v.gt(0), id, id, [v]))(f32([1, 2]))).toThrowError(ShapeError);
    expect(() => compile((v: Tensor) => cond(v.gt(0), id, id, [v]))(f32([1, 2]))).toThrowError('cond: pred must be a scalar (shape []), got bool[2]');
  });

  it('rejects random numbers and in-place updates inside its functions, and reading a traced value', () => {
    const state = f32([0]);
    expect(() => compile((v: Tensor) => cond(v.sum().gt(0), (u: Tensor) => u.add(rand([1])), (u: Tensor) => u, [v]))(f32([1]))).toThrowError(TraceError);
    expect(() => compile((v: Tensor) => cond(v.sum().gt(0), (u: Tensor) => u.add(rand([1])), (u: Tensor) => u, [v]))(f32([1]))).toThrowError('random ops inside the functions of cond, whileLoop or scan are not supported in compiled code');
    expect(() => compile((v: Tensor) => cond(v.sum().gt(0), (u: Tensor) => (state.assign(u), u), (u: Tensor) => u, [v]))(f32([1]))).toThrowError('assign: in-place updates inside the functions of cond, whileLoop or scan are not supported');
    expect(() => compile((v: Tensor) => cond(v.sum().gt(0), (u: Tensor) => (u.item() ? u : u), (u: Tensor) => u, [v]))(f32([1]))).toThrowError(/item at .*control\.test\.ts:\d+:\d+: cannot read the value of a traced tensor/);
    const param = f32([1]).requireGrad();
    expect(() => compile((v: Tensor) => cond(v.sum().gt(0), (u: Tensor) => ((param.grad = u), u), (u: Tensor) => u, [v]))(f32([1]))).toThrowError('backward() (or setting .grad) inside the functions of cond, whileLoop or scan is not supported');
  });
});

describe('whileLoop, compiled', () => {
  it('matches eager, with constants read by its functions as node inputs', () => {
    const limit = tensor(100);
    const rate = f32([1.5]);
    const f = (x: Tensor) => whileLoop(({ x }) => x.sum().lt(limit.cast('float32')), ({ n, x }) => ({ n: n.add(1), x: x.mul(rate) }), { n: tensor(0), x });
    const cf = compile(f);
    for (const x of [f32([1, 2]), f32([30, 80]), f32([3, -1])]) {
      const [got, want] = [cf(x), f(x)];
      expect([got.n.item(), got.x.toArray()]).toEqual([want.n.item(), want.x.toArray()]);
    }
    expect(printGraph(traced(f, f32([1, 2])))).toMatchInlineSnapshot(`
      "graph(%a0: f32[2], %c0: i32[], %c1: f32[1]) {
        %0: i32[] = constant {data=[0], dtype="int32", shape=[]}
        %1: i32[], %2: f32[2] = whileLoop %c0 %c1 %0 %a0 {bodyConsts=1, condConsts=1}
          body0(%k0: i32[], %carry0: i32[], %carry1: f32[2]) {
            %3: f32[] = sum %carry1 {axes=[0], keepdims=false}
            %4: f32[] = cast %k0 {dtype="float32"}
            %5: bool[] = lt %3 %4
            return %5
          }
          body1(%k0: f32[1], %carry0: i32[], %carry1: f32[2]) {
            %6: i32[] = full {dtype="int32", shape=[], value=1}
            %7: i32[] = add %carry0 %6
            %8: f32[2] = mul %carry1 %k0
            return %7, %8
          }
        return %1, %2
      }"
    `);
  });

  it('rejects a body that changes the shape or dtype of a carry', () => {
    const grow = compile((x: Tensor) => whileLoop((c: Tensor) => c.sum().lt(10), (c: Tensor) => c.reshape([1, -1]), x));
    expect(() => grow(f32([1, 2]))).toThrowError(ShapeError);
    expect(() => grow(f32([1, 2]))).toThrowError("whileLoop: the body changes carry from float32[2] to float32[1,2]; every step must keep each carry's shape and dtype");
    const widen = compile((x: Tensor) => whileLoop((c: Tensor) => c.sum().lt(10), (c: Tensor) => c.cast('float64'), x));
    expect(() => widen(f32([1, 2]))).toThrowError(DTypeError);
  });

  it('is not differentiable: backward through it inside a compiled function says so', () => {
    const w = f32([0.5]).requireGrad();
    const step = compile((x: Tensor) => whileLoop((c: Tensor) => c.sum().gt(1), (c: Tensor) => c.mul(w), x).sum().backward());
    expect(() => step(f32([4]))).toThrowError('backward: whileLoop is not differentiable in reverse mode');
  });
});

describe('scan, compiled', () => {
  const w = f32([1, -1]);
  const body = (s: Tensor, x: Tensor): [Tensor, Tensor] => {
    const t = s.add(x).mul(w);
    return [t, t.sum()];
  };

  it('matches eager forwards and in reverse', () => {
    const xs = f32([1, 2, 3, 4, 5, 6]).reshape([3, 2]);
    for (const reverse of [false, true]) {
      const f = (v: Tensor) => scan(body, f32([0, 0]), v, { reverse });
      const [[c1, y1], [c2, y2]] = [compile(f)(xs), f(xs)];
      expect([c1.toArray(), y1.toArray()]).toEqual([c2.toArray(), y2.toArray()]);
    }
    expect(printGraph(traced((v: Tensor) => scan(body, f32([0, 0]), v), xs))).toMatchInlineSnapshot(`
      "graph(%a0: f32[3,2], %c0: f32[2]) {
        %0: f32[2] = constant {data=[0,0], dtype="float32", shape=[2]}
        %1: f32[2], %2: f32[3] = scan %c0 %0 %a0 {length=3, numCarry=1, numConsts=1, reverse=false}
          body0(%k0: f32[2], %carry0: f32[2], %x0: f32[2]) {
            %3: f32[2] = add %carry0 %x0
            %4: f32[2] = mul %3 %k0
            %5: f32[] = sum %4 {axes=[0], keepdims=false}
            return %4, %5
          }
        return %1, %2
      }"
    `);
  });

  it('rejects xs whose leading axis is not the scan length', () => {
    const cf = compile((a: Tensor, b: Tensor) => scan((s: Tensor, x: { a: Tensor; b: Tensor }) => [s.add(x.a).add(x.b), null], f32([0]).sum(), { a, b }));
    expect(() => cf(f32([1, 2, 3]), f32([1, 2]))).toThrowError(ShapeError);
    expect(() => cf(f32([1, 2, 3]), f32([1, 2]))).toThrowError('scan: xs.b has shape [2], so 2 steps along axis 0, but xs.a (shape [3]) gives 3');
  });

  it('runs nested control flow: a cond in each step', () => {
    const f = (xs: Tensor) => scan((s: Tensor, x: Tensor) => {
      const y = cond(x.gt(0), (v: Tensor) => v.mul(v), (v: Tensor) => v.mul(-0.5), [x]);
      return [s.add(y), y];
    }, f32([0]).sum(), xs);
    const xs = f32([1, -2, 3, -4]);
    const [[c1, y1], [c2, y2]] = [compile(f)(xs), f(xs)];
    expect([c1.item(), y1.toArray()]).toEqual([c2.item(), y2.toArray()]);
    expect(y1.toArray()).toEqual([1, 1, 9, 2]);
  });
});

describe('nesting and memory', () => {
  it('nests any construct in any other, with gradients through nested scans and conds', () => {
    const f = (x: Tensor) =>
      cond(x.sum().gt(0), (v: Tensor) => whileLoop((c: Tensor) => c.sum().lt(100), (c: Tensor) => scan((s: Tensor, e: Tensor) => [s.add(e), s.mul(2).add(e)], c.sum().mul(0), c)[1].add(c).add(1), v), (v: Tensor) => v.neg(), [x]);
    const x = f32([1, 2, 3]);
    expect(compile(f)(x).toArray()).toEqual(f(x).toArray());
    expect(compile(f)(x).toArray()).toEqual([15, 57, 151]);
    const g = (v: Tensor) =>
      scan((s: Tensor, e: Tensor) => [cond(e.gt(0), (a: Tensor, b: Tensor) => scan((q: Tensor, r: Tensor) => [q.mul(r), null], a, b.reshape([1]).add(f64([0, 1])))[0], (a: Tensor) => a.sin(), [s, e]), null], v.sum(), v)[0];
    const vg = (v: Tensor) => valueAndGrad(g)(v);
    const [[v1, g1], [v2, g2]] = [vg(f64([1, 2, -3])), compile(vg)(f64([1, 2, -3]))];
    expectClose(v2, v1);
    expectClose(g2, g1);
  });

  it('a compiled training step through a scan leaves memory flat', () => {
    const w = f32([0.2, -0.1, 0.4, 0.3]).reshape([2, 2]).requireGrad();
    const xs = f32([1, 0, 0.5, -1, -0.2, 0.3]).reshape([3, 2]);
    const step = compile(() =>
      tidy(() => {
        const [h] = scan((h: Tensor, x: Tensor) => [tanh(add(matmul(w, h), x)), null], f32([0, 0]), xs);
        const loss = sum(mul(h, h));
        loss.backward();
        noGrad(() => {
          w.assign(sub(w, mul(w.grad!, 0.1)));
          w.zeroGrad();
        });
        return loss;
      }),
    );
    step().dispose();
    const { numTensors, numBytes } = memory();
    for (let i = 0; i < 10; i++) step().dispose();
    expect([memory().numTensors, memory().numBytes]).toEqual([numTensors, numBytes]);
  });
});

describe('control flow with the rest of compile()', () => {
  const w = f32([0.5, -0.2, 0.1, 0.3]).reshape([2, 2]);
  const rnn = (xs: Tensor) =>
    scan((h: Tensor, x: Tensor) => [tanh(add(matmul(w, h), x)), cond(x.sum().gt(0), (a: Tensor) => a.mul(2), (a: Tensor) => a, [x])], f32([0, 0]), xs);
  const seq = (n: number) => tensor(Array.from({ length: 2 * n }, (_, i) => Math.sin(i + 1)), { dtype: 'float32', shape: [n, 2] });

  it('check mode runs each construct eagerly as one op and compares it with the node', () => {
    const checked = compile(rnn, { check: true });
    expect(list(checked(seq(3))[1])).toEqual(list(rnn(seq(3))[1]));
    let k = 2; // a JavaScript number read while tracing: baked into the graph
    const baked = compile((x: Tensor) => cond(x.sum().gt(0), (v: Tensor) => v.mul(k), (v: Tensor) => v, [x]).sum(), { check: true });
    baked(f32([1, 2]));
    k = 3;
    expect(() => baked(f32([1, 2]))).toThrowError(/compile check: node 3 \(%3: f32\[2\] = cond %2 %a0, recorded at .*control\.test\.ts:\d+\) output 0 differs from eager at element 0: 2 compiled vs 3 eager/);
    // With a backward through the scan, ops are compared up to the backward's scan nodes, then results and state.
    const grads = compile((xs: Tensor, v: Tensor) => grad((u: Tensor) => scan((h: Tensor, x: Tensor) => [tanh(add(matmul(u, h), x)), null], f32([0, 0]), xs)[0].sum())(v), { check: true });
    expectClose(grads(seq(3), w), grad((u: Tensor) => scan((h: Tensor, x: Tensor) => [tanh(add(matmul(u, h), x)), null], f32([0, 0]), seq(3))[0].sum())(w), 1e-6);
  });

  it('one template serves every scan length of a dynamic dimension', () => {
    const dyn = compile(rnn, { dynamic: { 0: [0] } });
    for (const n of [3, 4, 5, 9]) {
      const [[c1, y1], [c2, y2]] = [dyn(seq(n)), rnn(seq(n))];
      expect([list(c1), list(y1)]).toEqual([list(c2), list(y2)]);
    }
    expect(dyn.stats.misses).toBe(1);
    expect(dyn.graph(seq(9)).nodes.find((n) => n.op === 'scan')!.attrs.length).toBe(9);
  });

  it('the optimization pipeline keeps control flow verified and equal to eager', () => {
    const step = (xs: Tensor, v: Tensor) => valueAndGrad((u: Tensor) => {
      const [h, ys] = scan((h: Tensor, x: Tensor) => [tanh(add(matmul(u, h), x.mul(1).add(0))), cond(x.sum().gt(0), (a: Tensor) => a.mul(a), (a: Tensor) => a.neg(), [h])], f32([0, 0]), xs);
      return h.sum().add(ys.sum());
    })(v);
    const args = [seq(4), w];
    const traced = compile(step).graph(...(args as [Tensor, Tensor]));
    expect(traced.inputs.length).toBe(2); // the two arguments: nothing captured
    const { graph } = optimize(traced, { verify: true, backend: getBackend() }); // the verifier runs after every pass
    const run = (g: Graph) => executeGraph(g, getBackend(), args.map((t) => t.bufferFor('test').storage)).map((s, i) => fromStorage(getBackend(), s, g.outputs[i].type.shape, g.outputs[i].type.dtype));
    const [a, b] = [run(graph), run(traced)];
    a.forEach((t, i) => expectClose(t, b[i], 1e-6));
    expectClose(a[1], step(seq(4), w)[1], 1e-5);
  });
});

import { printGraph, TraceError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { add, manualSeed, matmul, memory, mul, noGrad, rand, relu, sub, sum, tanh, tensor, tidy } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/index.js';

describe('compile()', () => {
  it('gives the same result as eager and caches by signature', () => {
    const f = (x: Tensor, y: Tensor) => relu(add(mul(x, 2), y));
    const cf = compile(f);
    const x = tensor([1, -2, 3], 'float32');
    const y = tensor([0.5, 0.5, -10], 'float32');
    expect(cf(x, y).toArray()).toEqual(f(x, y).toArray());
    expect(cf(y, x).toArray()).toEqual(f(y, x).toArray());
    expect(cf.stats).toEqual({ traces: 1, hits: 1, misses: 1 });
  });

  it('records a typed graph', () => {
    const cf = compile((x: Tensor) => tanh(mul(x, x)).sum(), { optimize: false }); // the graph as traced
    expect(printGraph(cf.graph(tensor([[1, 2]], 'float32')))).toMatchInlineSnapshot(`
      "graph(%a0: f32[1,2]) {
        %0: f32[1,2] = mul %a0 %a0
        %1: f32[1,2] = tanh %0
        %2: f32[] = sum %1 {axes=[0,1], keepdims=false}
        return %2
      }"
    `);
  });

  it('explains why it traces again', () => {
    const messages: string[] = [];
    const cf = compile((x: Tensor, scale: number) => mul(x, scale), { onRetrace: (m) => messages.push(m) });
    cf(tensor([[1, 2]], 'float32'), 2);
    cf(tensor([[1, 2], [3, 4]], 'float32'), 2);
    cf(tensor([[1, 2], [3, 4]], 'float32'), 3);
    expect(messages).toEqual([
      'compile: retracing the function (trace 2): arg 0: shape [1,2] → [2,2]',
      'compile: retracing the function (trace 3): arg 1: value 2 → 3 (non-tensor arguments are part of the cache key)',
    ]);
    expect(cf.stats.traces).toBe(3);
  });

  it('reads captured tensors fresh on every call', () => {
    const w = tensor([1, 2], 'float32');
    const cf = compile((x: Tensor) => mul(x, w));
    expect(cf(tensor([3, 3], 'float32')).toArray()).toEqual([3, 6]);
    noGrad(() => w.assign(tensor([10, 20], 'float32')));
    expect(cf(tensor([3, 3], 'float32')).toArray()).toEqual([30, 60]);
    expect(cf.stats.traces).toBe(1);
  });

  it('turns in-place assignment into state written back after each call', () => {
    const counter = tensor([0], 'float32');
    const step = compile(() => {
      counter.assign(add(counter, 1));
      return mul(counter, 10);
    });
    expect(step().toArray()).toEqual([10]);
    expect(step().toArray()).toEqual([20]);
    expect(counter.toArray()).toEqual([2]);
  });

  it('compiles a whole training step (forward, backward, update) that matches eager', () => {
    const init = () => ({ w: tensor([[0.1, -0.2], [0.3, 0.4]], 'float32').requireGrad(), b: tensor([0, 0.1], 'float32').requireGrad() });
    const x = tensor([[1, 2], [3, -1], [0.5, 0.5]], 'float32');
    const target = tensor([[1, 0], [0, 1], [1, 1]], 'float32');
    const makeStep = (p: { w: Tensor; b: Tensor }) => () =>
      tidy(() => {
        const loss = sum(mul(sub(tanh(add(matmul(x, p.w), p.b)), target), sub(tanh(add(matmul(x, p.w), p.b)), target)));
        loss.backward();
        noGrad(() => {
          for (const t of [p.w, p.b]) {
            t.assign(sub(t, mul(t.grad!, 0.1)));
            t.zeroGrad();
          }
        });
        return loss;
      });
    const eager = init();
    const compiled = init();
    const eagerStep = makeStep(eager);
    const compiledStep = compile(makeStep(compiled));
    for (let i = 0; i < 100; i++) {
      const a = eagerStep();
      const b = compiledStep();
      expect(b.item()).toBeCloseTo(a.item() as number, 5);
      a.dispose();
      b.dispose();
    }
    const close = (p: Tensor, q: Tensor) => (p.toArray() as number[][]).flat().forEach((v, i) => expect(v).toBeCloseTo((q.toArray() as number[][]).flat()[i], 5));
    close(compiled.w, eager.w);
    close(compiled.b, eager.b);
    expect(compiledStep.stats.traces).toBe(1);
    expect(compiled.w.grad).toBeNull();
  });

  it('leaves .grad written back when backward runs inside without zeroGrad', () => {
    const w = tensor([1, 2], 'float32').requireGrad();
    const f = compile((x: Tensor) => sum(mul(w, x)).backward());
    f(tensor([3, 4], 'float32'));
    expect(w.grad!.toArray()).toEqual([3, 4]);
    f(tensor([1, 1], 'float32'));
    expect(w.grad!.toArray()).toEqual([4, 5]);
    f(tensor([1, 1], 'float32'));
    expect(w.grad!.toArray()).toEqual([5, 6]);
    // The first graph assumed no gradient yet; accumulating into one needs a second graph.
    expect(f.stats.traces).toBe(2);
    expect(f.retraceReasons).toEqual(['compile: retracing the function (trace 2): captured c0 (float32[2]): .grad was null when traced, now set']);
  });

  it('keeps tensors created inside as constants', () => {
    const f = compile((x: Tensor) => add(x, tensor([1, 2], 'float32')));
    expect(f(tensor([1, 1], 'float32')).toArray()).toEqual([2, 3]);
    expect(f(tensor([5, 5], 'float32')).toArray()).toEqual([6, 7]);
  });

  it('draws random numbers exactly as eager does, advancing the generator', () => {
    const g = (x: Tensor) => add(x, rand([3]));
    manualSeed(7);
    const e1 = g(tensor(0, 'float32')).toArray();
    const e2 = g(tensor(0, 'float32')).toArray();
    manualSeed(7);
    const cg = compile(g);
    expect(cg(tensor(0, 'float32')).toArray()).toEqual(e1);
    expect(cg(tensor(0, 'float32')).toArray()).toEqual(e2);
  });

  it('throws a TraceError naming the source line when code reads a traced value', () => {
    const f = compile((x: Tensor) => ((x.sum().item() as number) > 0 ? x : mul(x, -1)));
    expect(() => f(tensor([1, 2], 'float32'))).toThrowError(TraceError);
    expect(() => f(tensor([1, 2], 'float32'))).toThrowError(/item at .*compile\.test\.ts:\d+:\d+: cannot read the value of a traced tensor/);
    const g = compile((x: Tensor) => ((x as unknown as number) > 0 ? x : x));
    expect(() => g(tensor([1], 'float32'))).toThrowError(/a comparison or arithmetic on the tensor object/);
    const h = compile((x: Tensor) => `${x}`);
    expect(() => h(tensor([1], 'float32'))).toThrowError(/a template string/);
  });

  it('rejects unsupported arguments, naming where', () => {
    const f = compile((x: unknown) => x as Tensor);
    expect(() => f({ a: [1, () => 2] })).toThrowError("compile: args[0].a[1] is a function; a compiled function takes and returns tensors, numbers, strings, booleans, and arrays or plain objects of them. Close over other values (models, optimizers) instead of passing them.");
    expect(() => f(new Map())).toThrowError(/args\[0\] is an instance of Map/);
  });

  it('says so when a traced tensor escapes', () => {
    let leaked: Tensor | undefined;
    const f = compile((x: Tensor) => {
      leaked = mul(x, 2);
      return x;
    });
    f(tensor([1], 'float32'));
    expect(() => leaked!.toArray()).toThrowError(/escaped its compiled function/);
  });

  it('takes and returns nested structures', () => {
    const f = compile(({ a, b }: { a: Tensor; b: [Tensor, number] }) => ({ sum: add(a, b[0]), scaled: [mul(a, b[1])], label: 'ok' }));
    const out = f({ a: tensor([1], 'float32'), b: [tensor([2], 'float32'), 3] }) as { sum: Tensor; scaled: Tensor[]; label: string };
    expect(out.sum.toArray()).toEqual([3]);
    expect(out.scaled[0].toArray()).toEqual([3]);
    expect(out.label).toBe('ok');
  });

  it('does not leak across calls', () => {
    const w = tensor([[0.5]], 'float32').requireGrad();
    const step = compile((x: Tensor) => {
      const loss = sum(matmul(x, w));
      loss.backward();
      noGrad(() => w.assign(sub(w, mul(w.grad!, 0.01))));
      w.zeroGrad();
      return loss;
    });
    const x = tensor([[1]], 'float32');
    step(x).dispose();
    const before = memory();
    for (let i = 0; i < 20; i++) step(x).dispose();
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
  });
});

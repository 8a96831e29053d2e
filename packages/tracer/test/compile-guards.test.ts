import { ArgumentError, AxisError, printGraph, TraceError, verifyGraph } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { add, mul, ones, sub, sum, tensor, tidy } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { Dropout, Linear, Parameter, SGD, Sequential } from '../../nn/src/index.js';
import { compile } from '../src/index.js';

describe('static arguments', () => {
  it('bakes a static tensor in by value, so the function may read it', () => {
    // A data-dependent JavaScript branch: impossible on a traced tensor, fine on a static one.
    const f = compile((x: Tensor, mode: Tensor) => ((mode.item() as number) > 0 ? mul(x, mode) : sub(x, 1)), { static: [1] });
    const messages: string[] = [];
    const g = compile((x: Tensor, mode: Tensor) => ((mode.item() as number) > 0 ? mul(x, mode) : sub(x, 1)), { static: [1], onRetrace: (m) => messages.push(m) });
    const x = tensor([1, 2], 'float32');
    expect(f(x, tensor(3, 'float32')).toArray()).toEqual([3, 6]);
    expect(f(x, tensor(3, 'float32')).toArray()).toEqual([3, 6]); // another tensor, same value: a hit
    expect(f(x, tensor(-1, 'float32')).toArray()).toEqual([0, 1]);
    expect(f.stats).toEqual({ traces: 2, hits: 1, misses: 2 });
    expect(printGraph(f.explain(x, tensor(3, 'float32')).tracedGraph)).toMatchInlineSnapshot(`
      "graph(%a0: f32[2]) {
        %0: f32[] = constant {data=[3], dtype="float32", shape=[]}
        %1: f32[2] = mul %a0 %0
        return %1
      }"
    `);
    g(x, tensor(3, 'float32'));
    g(x, tensor(-1, 'float32'));
    expect(messages).toEqual(['compile: retracing the function (trace 2): arg 1: static float32[] 3 → float32[] -1']);
  });

  it('compares large static tensors by a hash of their data, and names them by it', () => {
    const messages: string[] = [];
    const f = compile((x: Tensor, table: Tensor) => add(x, table), { static: [1], onRetrace: (m) => messages.push(m) });
    const a = ones([16], 'float32');
    f(a, ones([16], 'float32'));
    f(a, ones([16], 'float32'));
    f(a, tensor(Array.from({ length: 16 }, (_, i) => (i === 15 ? 2 : 1)), 'float32'));
    expect(f.stats).toEqual({ traces: 2, hits: 1, misses: 2 });
    expect(messages[0]).toMatch(/^compile: retracing the function \(trace 2\): arg 1: static float32\[16\] tensor #[0-9a-f]{8} → float32\[16\] tensor #[0-9a-f]{8}$/);
  });

  it('compares plain data by value and other objects by identity', () => {
    class Config {
      constructor(readonly scale: number) {}
    }
    const messages: string[] = [];
    const f = compile((x: Tensor, c: Config, opts: { shift: number[] }) => add(mul(x, c.scale), opts.shift[0]), { static: [1, 2], onRetrace: (m) => messages.push(m) });
    const x = tensor([1], 'float32');
    const c = new Config(2);
    expect(f(x, c, { shift: [1] }).toArray()).toEqual([3]);
    expect(f(x, c, { shift: [1] }).toArray()).toEqual([3]);
    expect(f(x, new Config(2), { shift: [1] }).toArray()).toEqual([3]);
    expect(f(x, c, { shift: [5] }).toArray()).toEqual([7]);
    expect(f.stats).toEqual({ traces: 3, hits: 1, misses: 3 });
    expect(messages[0]).toMatch(/^compile: retracing the function \(trace 2\): arg 1: static Config #\d+ \(compared by identity\) → Config #\d+ \(compared by identity\)$/);
    expect(messages[1]).toMatch(/^compile: retracing the function \(trace 3\): arg 1: static Config #\d+ .*; arg 2: static \{shift: \[1\]\} → \{shift: \[5\]\}$/);
  });

  it('lets a static argument be a function or a class instance (rejected otherwise)', () => {
    const f = compile((x: Tensor, act: (t: Tensor) => Tensor) => act(x), { static: [1] });
    expect(f(tensor([-1, 2], 'float32'), (t) => mul(t, t)).toArray()).toEqual([1, 4]);
    const g = compile((x: Tensor, act: (t: Tensor) => Tensor) => act(x));
    expect(() => g(tensor([1], 'float32'), (t) => t)).toThrowError(ArgumentError);
    expect(() => g(tensor([1], 'float32'), (t) => t)).toThrowError(/args\[1\] is a function/);
  });
});

describe('guards', () => {
  it('does not retrace a training step that clears gradients first, whatever .grad held', () => {
    const w = new Parameter(tensor([1, 2], 'float32'));
    const step = compile((x: Tensor) => {
      w.zeroGrad();
      const loss = sum(mul(w, x));
      loss.backward();
      return loss;
    });
    for (let i = 0; i < 4; i++) tidy(() => step(tensor([3, 4], 'float32')));
    expect(w.grad!.toArray()).toEqual([3, 4]);
    expect(step.stats).toEqual({ traces: 1, hits: 3, misses: 1 });
  });

  it('retraces, naming the option, when an optimizer option that decides the ops changes', () => {
    const w = new Parameter(tensor([1, 2], 'float32'));
    const opt = new SGD([w], { lr: 0.5 });
    const messages: string[] = [];
    const step = compile((x: Tensor) => {
      opt.zeroGrad();
      sum(mul(w, x)).backward();
      opt.step();
    }, { onRetrace: (m) => messages.push(m) });
    const x = tensor([1, 1], 'float32');
    step(x);
    expect(w.toArray()).toEqual([0.5, 1.5]);
    opt.paramGroups[0].weightDecay = 1; // grad + 1·w = [1.5, 2.5]
    step(x);
    expect(w.toArray()).toEqual([-0.25, 0.25]);
    opt.paramGroups[0].lr = 0.25; // a tensor: no retrace; grad + w = [0.75, 1.25]
    step(x);
    expect(w.toArray()).toEqual([-0.4375, -0.0625]);
    expect(messages).toEqual(['compile: retracing the function (trace 2): SGD parameter group 0: weightDecay ≠ 0: false → true']);
    expect(String(step.explain(x))).toContain('SGD parameter group 0: weightDecay ≠ 0 = true');
  });

  it('keeps the graphs of earlier guard states: switching an option back traces nothing', () => {
    const run = (compiled: boolean) => {
      const w = new Parameter(tensor([1, 2], 'float32'));
      const opt = new SGD([w], { lr: 0.5, momentum: 0.5 });
      const body = (x: Tensor) => {
        opt.zeroGrad();
        sum(mul(w, mul(x, w))).backward();
        opt.step();
      };
      const step = compiled ? compile(body) : body;
      for (const nesterov of [false, true, false, true, false]) {
        opt.paramGroups[0].nesterov = nesterov;
        step(tensor([1, -1], 'float32'));
      }
      return { w: w.toArray(), stats: compiled ? (step as ReturnType<typeof compile>).stats : undefined };
    };
    const compiled = run(true);
    expect(compiled.w).toEqual(run(false).w);
    expect(compiled.stats).toEqual({ traces: 2, hits: 3, misses: 2 });
  });

  it('traces again when a module switches between training and eval mode', () => {
    const model = new Sequential(new Linear(3, 4), new Dropout(0.5));
    const messages: string[] = [];
    const forward = compile((x: Tensor) => model.forward(x), { onRetrace: (m) => messages.push(m) });
    const x = ones([2, 3]);
    forward(x);
    model.eval();
    expect(forward(x).toArray()).toEqual(model.forward(x).toArray()); // no dropout in eval mode
    model.train();
    forward(x);
    expect(forward.stats).toEqual({ traces: 2, hits: 1, misses: 2 });
    expect(messages).toEqual([expect.stringMatching(/^compile: retracing the function \(trace 2\): Dropout \(module #\d+\)\.training: true → false$/)]);
  });

  it('rejects setting a hyperparameter inside the compiled function', () => {
    const w = new Parameter(tensor([1], 'float32'));
    const opt = new SGD([w], { lr: 0.5 });
    const step = compile(() => {
      opt.paramGroups[0].lr = 0.1;
      return mul(w, 2);
    });
    expect(() => step()).toThrowError(TraceError);
    expect(() => step()).toThrowError('SGD: lr of parameter group 0 was set inside a compiled function; the new value would be fixed in the graph. Change hyperparameters (scheduler.step()) outside the compiled function: the step reads them as tensors, fresh on every call.');
    expect(opt.paramGroups[0].lr).toBe(0.5);
  });
});

describe('option errors', () => {
  const id = (x: Tensor) => x;
  it('checks static and dynamic when compiling', () => {
    expect(() => compile(id, { static: [-1] })).toThrowError(new ArgumentError('compile: static must be an array of argument indices (integers ≥ 0), got [-1]'));
    expect(() => compile(id, { dynamic: [[0]] as never })).toThrowError(/compile: dynamic must map argument indices to arrays of axes, e.g. \{ 0: \[0\] \}/);
    expect(() => compile(id, { dynamic: { 0: 0 as never } })).toThrowError("compile: dynamic: arg 0 must list its dynamic axes as integers, e.g. { 0: [0] }, got 0");
    expect(() => compile(id, { dynamic: { 0: [0] }, static: [0] })).toThrowError('compile: arg 0 is both static and dynamic; a static argument\'s shape and value are fixed');
    expect(() => compile(id, { dynamic: { x: [0] } as never })).toThrowError("compile: dynamic: 'x' is not an argument index (an integer ≥ 0)");
  });

  it('checks them against each call', () => {
    const f = compile((x: Tensor, _n?: unknown) => x, { dynamic: { 1: [0] } });
    expect(() => f(ones([2]))).toThrowError(new ArgumentError('compile: dynamic names arg 1, but the function was called with 1 argument(s)'));
    expect(() => f(ones([2]), 3)).toThrowError('compile: dynamic names arg 1, but it is 3, not a tensor');
    expect(() => f(ones([2]), [ones([2])])).toThrowError('compile: dynamic names arg 1, but it is an array, not a tensor');
    expect(() => f(ones([2]), ones([2]))).not.toThrow();
    const g = compile((x: Tensor) => x, { dynamic: { 0: [2] } });
    expect(() => g(ones([2, 3]))).toThrowError(AxisError);
    expect(() => g(ones([2, 3]))).toThrowError('compile: dynamic axis 2 of arg 0 is out of range for its shape [2,3] (rank 2)');
    const h = compile((x: Tensor) => x, { static: [1] });
    expect(() => h(ones([2]))).toThrowError('compile: static names arg 1, but the function was called with 1 argument(s)');
  });

  it('verifies every graph it makes', () => {
    const f = compile((x: Tensor, k: Tensor) => mul(x, k), { static: [1] });
    expect(() => verifyGraph(f.graph(ones([3]), tensor(2, 'float32')))).not.toThrow();
  });
});

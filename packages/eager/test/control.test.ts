import { ArgumentError, DTypeError, ShapeError } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../src/index.js';
import { add, concat, cond, cumsum, grad, matmul, memory, noGrad, scan, tanh, tensor, tidy, valueAndGrad, whileLoop, zeros } from '../src/index.js';
import { checkGradients, randomTensor } from './helpers/gradcheck.js';

const f32 = (data: number[]) => tensor(data, 'float32');

describe('cond (eager)', () => {
  it('runs only the branch the predicate picks', () => {
    const ran: string[] = [];
    const f = (x: Tensor) => cond(x.sum().gt(0), (v: Tensor) => (ran.push('then'), v.mul(2)), (v: Tensor) => (ran.push('else'), v.neg()), [x]);
    expect(f(f32([1, 2])).toArray()).toEqual([2, 4]);
    expect(f(f32([-1, -2])).toArray()).toEqual([1, 2]);
    expect(ran).toEqual(['then', 'else']);
  });

  it('takes and returns nested operands; numbers become tensors; a boolean pred just picks', () => {
    const r = cond(tensor(true), (a: Tensor, o: { b: Tensor; k: number }) => ({ sum: a.add(o.b), k: o.k }), (a: Tensor) => ({ sum: a, k: 0 }), [f32([1]), { b: f32([2]), k: 3 }]);
    expect((r.sum as Tensor).toArray()).toEqual([3]);
    expect((r.k as unknown as Tensor).dtype).toBe('int32');
    expect(cond(false, () => 1, () => 2)).toBe(2);
  });

  it('rejects a predicate that is not a bool scalar', () => {
    const id = (v: Tensor) => v;
    expect(() => cond(f32([1]).sum(), id, id, [f32([1])])).toThrowError(DTypeError);
    expect(() => cond(f32([1]).sum(), id, id, [f32([1])])).toThrowError('cond: pred must be a bool scalar, got float32[]; compare to make one (x.sum().gt(0))');
    expect(() => cond(f32([1, 2]).gt(0), id, id, [f32([1])])).toThrowError(ShapeError);
    expect(() => cond(f32([1, 2]).gt(0), id, id, [f32([1])])).toThrowError('cond: pred must be a scalar (shape []), got bool[2]');
    expect(() => cond(1 as unknown as boolean, id, id, [f32([1])])).toThrowError(ArgumentError);
    expect(() => cond(tensor(true), id, id, f32([1]) as unknown as [Tensor])).toThrowError('cond: operands must be an array (its elements are passed as the functions\' arguments), got an instance of Tensor');
    expect(() => cond(tensor(true), () => (() => 1) as unknown as Tensor, () => f32([1]))).toThrowError('cond (then branch): result is a function; control-flow operands and results must be tensors');
  });

  it('is differentiated through the branch that ran (finite differences, both branches)', () => {
    const f = (x: Tensor, w: Tensor) => cond(x.sum().gt(0), (a: Tensor, b: Tensor) => a.mul(b).sin(), (a: Tensor, b: Tensor) => a.sub(b.mul(b)), [x, w]);
    checkGradients(f, [randomTensor([3], 1, 1, 2), randomTensor([3], 2)]);
    checkGradients(f, [randomTensor([3], 1, 1, -2), randomTensor([3], 2)]);
  });
});

describe('whileLoop (eager)', () => {
  it('loops while the condition holds, over a nested carry with a number in it', () => {
    // A number in the carry becomes an int32 tensor (typed here as the tensor the functions see).
    const { i, x } = whileLoop(({ i }) => i.lt(10), ({ i, x }) => ({ i: i.add(1), x: x.mul(2) }), { i: 0 as unknown as Tensor, x: f32([1, 3]) });
    expect(i.item()).toBe(10);
    expect(i.dtype).toBe('int32');
    expect(x.toArray()).toEqual([1024, 3072]);
    expect(whileLoop(() => false, (c: Tensor) => c.add(1), f32([5])).toArray()).toEqual([5]);
  });

  it('rejects a body that changes a carry\'s shape, dtype or structure, and a non-bool condition', () => {
    const init = { n: tensor(0), x: f32([1]) };
    const test = ({ n }: typeof init) => n.lt(3);
    expect(() => whileLoop(test, ({ n, x }) => ({ n: n.add(1), x: concat([x, x]) }), init)).toThrowError(ShapeError);
    expect(() => whileLoop(test, ({ n, x }) => ({ n: n.add(1), x: concat([x, x]) }), init)).toThrowError("whileLoop: the body changes carry.x from float32[1] to float32[2]; every step must keep each carry's shape and dtype");
    expect(() => whileLoop(test, ({ n, x }) => ({ n: n.add(1.5), x }), init)).toThrowError(DTypeError);
    expect(() => whileLoop(test, ({ n, x }) => ({ n: n.add(1.5), x }), init)).toThrowError('whileLoop: the body changes carry.n from int32[] to float32[]');
    expect(() => whileLoop(test, ({ n }) => ({ n: n.add(1) }) as typeof init, init)).toThrowError(ArgumentError);
    expect(() => whileLoop(test, ({ n }) => ({ n: n.add(1) }) as typeof init, init)).toThrowError('whileLoop: the body returns {n: tensor} but the carry is {n: tensor, x: tensor}; it must return a carry of the same structure');
    expect(() => whileLoop(({ x }) => x, (c) => c, init)).toThrowError("whileLoop: condFn's result must be a bool scalar, got float32[1]");
    expect(() => whileLoop(() => tensor(true), (c) => c, {})).toThrowError('whileLoop: the initial carry holds no tensors');
  });

  it('is not differentiable: backward through its result says so, also through grad()', () => {
    const w = f32([0.5]).requireGrad();
    const run = (x: Tensor) => whileLoop(({ i }) => i.lt(3), ({ i, x }) => ({ i: i.add(1), x: x.mul(w) }), { i: tensor(0), x }).x;
    expect(() => run(f32([1])).sum().backward()).toThrowError(ArgumentError);
    expect(() => run(f32([1])).sum().backward()).toThrowError('backward: whileLoop is not differentiable in reverse mode');
    expect(() => grad((x: Tensor) => run(x).sum())(f32([1]))).toThrowError('whileLoop is not differentiable in reverse mode');
    expect(noGrad(() => run(f32([2]))).toArray()).toEqual([0.25]);
  });
});

describe('scan (eager)', () => {
  const running = (s: Tensor, x: Tensor): [Tensor, Tensor] => {
    const t = s.add(x);
    return [t, t];
  };

  it('threads a carry over slices of xs and stacks the ys, forwards and in reverse', () => {
    const xs = f32([1, 2, 3, 4]);
    const [total, ys] = scan(running, f32([0]).sum(), xs);
    expect(total.item()).toBe(10);
    expect(ys.toArray()).toEqual(cumsum(xs, 0).toArray());
    const [, back] = scan(running, f32([0]).sum(), xs, { reverse: true });
    expect(back.toArray()).toEqual([10, 9, 7, 4]);
  });

  it('takes pytrees of xs and carries, y may be null, and length stands in for missing xs', () => {
    const [c, ys] = scan(({ a, b }: { a: Tensor; b: Tensor }, { u, v }: { u: Tensor; v: Tensor }) => [{ a: a.add(u), b: b.mul(v) }, null], { a: zeros([2]), b: f32([1, 1]) }, { u: f32([1, 2, 3, 4]).reshape([2, 2]), v: f32([2, 3, 4, 5]).reshape([2, 2]) });
    expect([c.a.toArray(), c.b.toArray(), ys]).toEqual([[4, 6], [8, 15], null]);
    const [n, steps] = scan((k: Tensor) => [k.add(1), k], tensor(0), null, { length: 3 });
    expect([n.item(), steps.toArray()]).toEqual([3, [0, 1, 2]]);
  });

  it('rejects xs of the wrong length, a missing length, a changed carry and a bad result', () => {
    const running = (s: Tensor, x: unknown): [Tensor, Tensor] => [s, x as Tensor];
    expect(() => scan(running, tensor(0), { a: f32([1, 2]), b: f32([1, 2, 3]) })).toThrowError(ShapeError);
    expect(() => scan(running, tensor(0), { a: f32([1, 2]), b: f32([1, 2, 3]) })).toThrowError('scan: xs.b has shape [3], so 3 steps along axis 0, but xs.a (shape [2]) gives 2; every xs must have the scan\'s length as its leading axis');
    expect(() => scan(running, tensor(0), f32([1, 2]), { length: 3 })).toThrowError('scan: xs has shape [2], so 2 steps along axis 0, but options.length gives 3');
    expect(() => scan(running, tensor(0), f32([1]).sum())).toThrowError('scan: xs is a scalar; every xs must have a leading axis to scan over');
    expect(() => scan(running, tensor(0), null)).toThrowError('scan: there are no xs to take the number of steps from; pass { length }');
    expect(() => scan((c: Tensor) => [concat([c, c]), null], f32([0]), f32([1, 2]))).toThrowError("scan: fn changes carry from float32[1] to float32[2]; every step must keep each carry's shape and dtype");
    expect(() => scan((c: Tensor) => c as unknown as [Tensor, null], f32([0]), f32([1, 2]))).toThrowError('scan: fn must return [carry, y] (y may be null), got an instance of Tensor');
  });

  it('has the gradients of the same loop written out (an RNN), checked against finite differences', () => {
    const rnn = (w: Tensor, h0: Tensor, xs: Tensor) => {
      const [h, hs] = scan((h: Tensor, x: Tensor) => {
        const next = tanh(add(matmul(w, h), x));
        return [next, next.mul(next)];
      }, h0, xs);
      return h.sum().add(hs.sum());
    };
    const unrolled = (w: Tensor, h0: Tensor, xs: Tensor) => {
      let h = h0;
      let total = tensor(0, 'float64');
      for (let t = 0; t < xs.shape[0]; t++) {
        h = tanh(add(matmul(w, h), xs.slice([t])));
        total = total.add(h.mul(h).sum());
      }
      return h.sum().add(total);
    };
    const args = [randomTensor([3, 3], 1, 0.5), randomTensor([3], 2), randomTensor([4, 3], 3)];
    const [v1, g1] = valueAndGrad(rnn, [0, 1, 2])(...(args as [Tensor, Tensor, Tensor]));
    const [v2, g2] = valueAndGrad(unrolled, [0, 1, 2])(...(args as [Tensor, Tensor, Tensor]));
    expect(v1.item()).toBeCloseTo(v2.item() as number, 12);
    g1.forEach((g, i) => expect(g.toArray()).toEqual(g2[i].toArray()));
    checkGradients(rnn, args);
  });

  it('frees replaced carries and step temporaries: memory stays flat over long loops', () => {
    const kept = f32([7]);
    tidy(() => whileLoop(({ i }) => i.lt(3), ({ i }) => ({ i: i.add(1), k: kept }), { i: tensor(0), k: kept })); // a carry from the closure is never freed
    expect(kept.toArray()).toEqual([7]);
    const init = { i: tensor(0), x: f32([1, 2, 3]) };
    const [s0, xs] = [f32([0]).sum(), zeros([300])];
    const before = memory().numTensors;
    const out = whileLoop(({ i }) => i.lt(500), ({ i, x }) => ({ i: i.add(1), x: x.mul(1.001).add(0.5) }), init);
    expect(memory().numTensors - before).toBe(2); // just the result
    expect(init.x.toArray()).toEqual([1, 2, 3]); // the initial carry is the caller's
    out.i.dispose();
    out.x.dispose();
    const [c, ys] = scan((s: Tensor, x: Tensor) => [s.add(x.mul(2)), s], s0, xs);
    expect(memory().numTensors - before).toBe(2);
    c.dispose();
    ys.dispose();
    expect(memory().numTensors).toBe(before);
  });
});

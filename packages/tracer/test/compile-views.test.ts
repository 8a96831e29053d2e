// Compiled graphs run reshape nodes as views (docs/design/memory-plan.md): results and state
// updates equal eager's, a result never shares storage with a parameter that a later step
// updates in place, and nothing leaks.
import type { Tensor } from '@kiln/eager';
import { add, matmul, memory, mul, noGrad, sub, sum, tensor, tidy } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/index.js';

const data = (n: number, k: number) => Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * k + 1)));

describe('compile() with reshape views', () => {
  it('returns views of an input, a parameter and intermediates equal to eager, as tensors of their own', () => {
    const w = tensor(data(6, 2), 'float32').reshape([2, 3]);
    const f = (x: Tensor) => {
      const h = add(x.reshape([3, 2]), w.reshape([3, 2]));
      return [x.reshape([6]), w.flatten(), h, h.reshape([2, 3]), h.reshape([6]).unsqueeze(0).squeeze(0)];
    };
    const cf = compile(f);
    const x = tensor(data(6, 3), 'float32').reshape([6]);
    const got = cf(x);
    const want = f(x);
    expect(got.map((t) => t.toArray())).toEqual(want.map((t) => t.toArray()));
    // A later in-place update of the parameter does not reach the results.
    noGrad(() => w.assign(mul(w, 0)));
    expect(got[1].toArray()).toEqual(want[1].toArray());
    got.forEach((t) => t.dispose());
    want.forEach((t) => t.dispose());
  });

  it('a training step whose update goes through reshapes: same losses, results and weights as eager after 5 steps, no leak', () => {
    const x = tensor(data(12, 1), 'float32').reshape([4, 3]);
    const make = () => tensor(data(6, 5), 'float32').reshape([3, 2]).requireGrad();
    const step = (w: Tensor) => () =>
      tidy(() => {
        const loss = sum(mul(matmul(x, w.reshape([6]).reshape([3, 2])), 0.5));
        loss.backward();
        noGrad(() => w.assign(sub(w.reshape([2, 3]), mul(w.grad!.reshape([2, 3]), 0.1)).reshape([3, 2])));
        w.grad?.dispose();
        w.grad = null;
        return [loss, w.reshape([6])];
      });
    const we = make();
    const wc = make();
    const eager = step(we);
    const compiled = compile(step(wc));
    for (let i = 0; i < 2; i++) {
      const [le, ve] = eager();
      const [lc, vc] = compiled();
      expect(lc.toArray()).toEqual(le.toArray());
      expect(vc.toArray()).toEqual(ve.toArray());
      [le, ve, lc, vc].forEach((t) => t.dispose());
    }
    const before = memory();
    for (let i = 0; i < 3; i++) {
      const [le, ve] = eager();
      const [lc, vc] = compiled();
      expect(vc.toArray()).toEqual(ve.toArray());
      [le, ve, lc, vc].forEach((t) => t.dispose());
    }
    expect(wc.toArray()).toEqual(we.toArray());
    expect(memory().numBytes).toBe(before.numBytes);
    expect(memory().numTensors).toBe(before.numTensors);
  });
});

import { describe, expect, it } from 'vitest';
import { exp, log, memory, mul, sub, sum, tensor, tidy } from '../src/index.js';

describe('backward after a tidy around the forward pass', () => {
  it('differentiates through intermediates that tidy already disposed', () => {
    const x = tensor([[2, 0.5, -1]], 'float64').requireGrad();
    // log-softmax by hand: every intermediate is disposed when tidy returns the loss.
    const loss = tidy(() => {
      const s = sub(x, 1);
      return sum(mul(sub(s, log(sum(exp(s), 1, true))), tensor([[1, 2, 3]], 'float64')));
    });
    loss.backward();
    const e = [2, 0.5, -1].map(Math.exp);
    const z = e.reduce((a, b) => a + b, 0);
    const expected = [1, 2, 3].map((w, i) => w - 6 * (e[i] / z)); // w_i - (Σw)·softmax_i
    (x.grad!.toArray() as number[][])[0].forEach((g, i) => expect(g).toBeCloseTo(expected[i], 12));
    loss.dispose();
    x.dispose();
  });

  it('leaves memory flat over repeated tidy(forward) + backward', () => {
    const w = tensor([0.5, -0.25, 1], 'float32').requireGrad();
    const stepOnce = () => {
      const loss = tidy(() => sum(mul(exp(mul(w, 2)), w)));
      loss.backward();
      loss.dispose();
      w.zeroGrad();
    };
    stepOnce();
    const before = memory();
    for (let i = 0; i < 20; i++) stepOnce();
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
    w.dispose();
  });
});

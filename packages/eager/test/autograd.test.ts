import { AnomalyError, ArgumentError, DTypeError, ShapeError } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import {
  add, argmax, div, exp, grad, log, maximum, memory, mul, noGrad, pow, relu, setAnomalyDetection, sigmoid, sub, sum,
  tanh, tensor, tidy, valueAndGrad, where, gt,
} from '../src/index.js';
import { checkGradients, randomTensor } from './helpers/gradcheck.js';

describe('backward()', () => {
  it('accumulates into .grad of leaves, through broadcasting', () => {
    const w = tensor([[1, 2, 3]], 'float32').requireGrad();
    const b = tensor([0.5], 'float32').requireGrad();
    const x = tensor([[1], [2]], 'float32');
    const loss = sum(add(mul(x, w), b)); // [2,3]
    loss.backward();
    expect(w.grad!.toArray()).toEqual([[3, 3, 3]]);
    expect(b.grad!.toArray()).toEqual([6]);
    sum(mul(w, w)).backward();
    expect(w.grad!.toArray()).toEqual([[5, 7, 9]]); // accumulated: 3 + 2w
    w.zeroGrad();
    expect(w.grad).toBeNull();
  });

  it('takes an upstream gradient for non-scalar tensors', () => {
    const x = tensor([1, 2], 'float64').requireGrad();
    mul(x, 3).backward(tensor([1, 10], 'float64'));
    expect(x.grad!.toArray()).toEqual([3, 30]);
  });

  it('rejects a non-scalar without a gradient, and a gradient of the wrong shape', () => {
    const x = tensor([1, 2], 'float32').requireGrad();
    expect(() => mul(x, 2).backward()).toThrowError(/a gradient can be implied only for a tensor with one element, but this one has shape \[2\]/);
    expect(() => mul(x, 2).backward(tensor([1, 2, 3], 'float32'))).toThrowError(ShapeError);
  });

  it('says when the tensor does not require grad, and why', () => {
    const x = tensor([1, 2], 'float32');
    expect(() => sum(x).backward()).toThrowError(/does not require grad. None of the tensors it was computed from requires grad/);
    const w = tensor([1, 2], 'float32').requireGrad();
    expect(() => argmax(w).cast('float32').backward()).toThrowError(/computed through 'argmax', which has no gradient/);
    expect(() => sum(gt(w, 1).cast('float32')).backward()).toThrowError(/'gt', which has no gradient/);
    expect(() => tensor([1, 2]).requireGrad()).toThrowError(DTypeError);
  });

  it('refuses a second backward through a freed graph, unless retainGraph', () => {
    const x = tensor([2], 'float32').requireGrad();
    const y = sum(exp(x));
    y.backward();
    expect(() => y.backward()).toThrowError(/already freed by an earlier backward\(\). Pass \{ retainGraph: true \}/);
    const z = sum(exp(x));
    z.backward(undefined, { retainGraph: true });
    z.backward();
    expect(x.grad!.item()).toBeCloseTo(3 * Math.exp(2), 4);
  });

  it('noGrad and detach stop recording', () => {
    const x = tensor([1], 'float32').requireGrad();
    expect(noGrad(() => mul(x, 2)).requiresGrad).toBe(false);
    expect(x.detach().requiresGrad).toBe(false);
    expect(mul(x.detach(), 2).requiresGrad).toBe(false);
  });

  it('retainGrad keeps gradients of intermediate tensors', () => {
    const x = tensor([3], 'float64').requireGrad();
    const h = mul(x, x).retainGrad();
    sum(mul(h, 2)).backward();
    expect(h.grad!.toArray()).toEqual([2]);
    expect(x.grad!.toArray()).toEqual([12]);
  });

  it('handles long chains without recursion limits', () => {
    const x = tensor([1], 'float64').requireGrad();
    tidy(() => {
      let y = x;
      for (let i = 0; i < 20_000; i++) y = add(y, 0);
      sum(y).backward();
    });
    expect(x.grad!.item()).toBe(1);
  });
});

describe('functional grad', () => {
  it('valueAndGrad returns value and gradients without touching .grad', () => {
    const f = (x: ReturnType<typeof tensor>) => sum(pow(x, 3));
    const x = tensor([2, -1], 'float64');
    const [value, g] = valueAndGrad(f)(x);
    expect(value.item()).toBe(7);
    expect(g.toArray()).toEqual([12, 3]);
    expect(x.grad).toBeNull();
  });

  it('takes several argnums', () => {
    const f = (a: ReturnType<typeof tensor>, b: ReturnType<typeof tensor>) => sum(mul(a, b));
    const [ga, gb] = grad(f, [0, 1])(tensor([1, 2], 'float64'), tensor([3, 4], 'float64'));
    expect(ga.toArray()).toEqual([3, 4]);
    expect(gb.toArray()).toEqual([1, 2]);
  });

  it('composes: grad of grad is the second derivative', () => {
    const f = (x: ReturnType<typeof tensor>) => sum(pow(x, 3));
    const d2 = grad((x: ReturnType<typeof tensor>) => sum(grad(f)(x)));
    expect(d2(tensor([2, -1], 'float64')).toArray()).toEqual([12, -6]);
    const d3 = grad((x: ReturnType<typeof tensor>) => sum(d2(x)));
    expect(d3(tensor([2], 'float64')).toArray()).toEqual([6]);
    const t = grad(grad((x: ReturnType<typeof tensor>) => sum(tanh(x))));
    const y = Math.tanh(0.3);
    expect(t(tensor([0.3], 'float64')).item()).toBeCloseTo(-2 * y * (1 - y * y), 12);
  });

  it('rejects integer arguments', () => {
    expect(() => grad((x: ReturnType<typeof tensor>) => sum(x))(tensor([1, 2]))).toThrowError(/argument 0 is int32; only float tensors can be differentiated/);
  });
});

describe('gradients match finite differences (float64)', () => {
  const x = randomTensor([3, 4], 1, 1.5);
  const pos = randomTensor([3, 4], 2, 0.8, 1.2);
  const unary: Record<string, (t: ReturnType<typeof tensor>) => ReturnType<typeof tensor>> = {
    neg: (t) => t.neg(), abs: (t) => t.abs(), exp: exp, log: (t) => log(t), log1p: (t) => t.log1p(), expm1: (t) => t.expm1(),
    sqrt: (t) => t.sqrt(), rsqrt: (t) => t.rsqrt(), reciprocal: (t) => t.reciprocal(), sin: (t) => t.sin(), cos: (t) => t.cos(),
    tanh, sigmoid, relu, erf: (t) => t.erf(), gelu: (t) => t.gelu(), geluTanh: (t) => t.gelu('tanh'), clamp: (t) => t.clamp(-0.5, 0.7),
  };
  for (const [name, f] of Object.entries(unary)) {
    it(name, () => checkGradients(f, [['log', 'sqrt', 'rsqrt', 'reciprocal', 'log1p'].includes(name) ? pos : x]));
  }

  const a = randomTensor([2, 3, 4], 3);
  const b = randomTensor([3, 1], 4, 1, 2);
  const binary: Record<string, (p: ReturnType<typeof tensor>, q: ReturnType<typeof tensor>) => ReturnType<typeof tensor>> = {
    add, sub, mul, div, maximum, minimum: (p, q) => p.minimum(q), mod: (p, q) => p.mod(q),
    pow: (p, q) => pow(p.abs().add(0.5), q),
    where: (p, q) => where(gt(p, 0), p, q),
  };
  for (const [name, f] of Object.entries(binary)) {
    it(`${name} with broadcasting`, () => checkGradients(f, [a, b]));
  }
});

describe('second derivatives match finite differences', () => {
  for (const [name, f] of Object.entries({
    mul: (t: ReturnType<typeof tensor>) => sum(mul(t, t)),
    tanh: (t: ReturnType<typeof tensor>) => sum(tanh(t)),
    sigmoid: (t: ReturnType<typeof tensor>) => sum(sigmoid(t)),
    expDiv: (t: ReturnType<typeof tensor>) => sum(div(exp(t), add(t.mul(t), 1))),
  })) {
    it(name, () => checkGradients((t) => grad(f)(t), [randomTensor([5], 9)]));
  }
});

describe('anomaly detection', () => {
  it('names the first op that produced NaN/Inf', () => {
    setAnomalyDetection(true);
    try {
      const x = tensor([0, 1], 'float32').requireGrad();
      expect(() => log(x)).toThrowError(AnomalyError);
      expect(() => log(x)).toThrowError(/the output 0 of 'log' holds -Infinity at flat index 0/);
      const y = tensor([0], 'float32').requireGrad();
      const s = sum(x.sqrt().mul(0).add(y)); // forward is finite; sqrt's gradient at 0 is Inf
      expect(() => s.backward()).toThrowError(/backward: in the gradient of 'sqrt': anomaly detected: the output 0 of 'div' holds NaN/);
    } finally {
      setAnomalyDetection(false);
    }
  });
});

describe('memory', () => {
  it('forward + backward inside tidy leaves only the gradients', () => {
    const w = tensor([[0.1, 0.2], [0.3, 0.4]], 'float32').requireGrad();
    const x = tensor([[1, 2]], 'float32');
    const start = memory().numTensors;
    for (let step = 0; step < 50; step++) {
      tidy(() => {
        sum(tanh(x.matmul(w))).backward();
        noGrad(() => w.assign(sub(w, mul(w.grad!, 0.1))));
        w.zeroGrad();
      });
    }
    expect(memory().numTensors).toBe(start);
  });

  it('backward works after the forward tensors were disposed by tidy: the tape owns its data', () => {
    const w = tensor([[0.5, -1], [2, 0.25]], 'float64').requireGrad();
    const x = tensor([[1, 2]], 'float64');
    const startBytes = memory().numBytes;
    const loss = tidy(() => sum(tanh(x.matmul(w)).mul(3)));
    expect(memory().numBytes).toBeGreaterThan(startBytes + 8); // the graph keeps what backward needs
    loss.backward();
    const h = [1 * 0.5 + 2 * 2, 1 * -1 + 2 * 0.25];
    const dh = h.map((v) => 3 * (1 - Math.tanh(v) ** 2));
    expect(w.grad!.toArray()).toEqual([[dh[0], dh[1]], [2 * dh[0], 2 * dh[1]]]);
    loss.dispose();
    w.zeroGrad();
    expect(memory().numBytes).toBe(startBytes);
  });

  it('disposing a result without backward releases its whole graph', () => {
    const w = tensor([1, 2, 3], 'float32').requireGrad();
    const start = memory();
    const loss = tidy(() => sum(exp(w.mul(2)).add(w)));
    loss.dispose();
    expect(memory().numBytes).toBe(start.numBytes);
    expect(memory().numTensors).toBe(start.numTensors);
  });

  it('argument errors are typed', () => {
    expect(() => grad((_x: unknown) => 3 as never)(tensor([1.5]))).toThrowError(ArgumentError);
    expect(() => grad((_x: unknown) => 3 as never)(tensor([1.5]))).toThrowError('valueAndGrad: fn must return a tensor, got number');
  });
});

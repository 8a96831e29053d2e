import { ArgumentError, ShapeError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { memory, mul, sub, sum, tensor, tidy, zeros } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import type { OptimizerStateDict } from '../src/index.js';
import { Adam, AdamW, CosineAnnealingLR, LinearWarmup, Linear, RMSprop, SGD, SequentialLR, StepLR, clipGradNorm } from '../src/index.js';
import { Parameter } from '../src/parameter.js';
import { settleGarbage } from './helpers/settle.js';

const param = (values: number[], dtype: 'float32' | 'float64' = 'float64') => new Parameter(tensor(values, dtype));

/** loss = Σ c·p² for a fixed c: the gradient is 2·c·p. */
function quadratic(params: Parameter[]): Tensor {
  return params.map((p, i) => sum(mul(mul(p, p), i + 1))).reduce((a, b) => a.add(b));
}

function train(opt: { step(): void; zeroGrad(): void }, params: Parameter[], steps: number): void {
  for (let i = 0; i < steps; i++) {
    tidy(() => {
      opt.zeroGrad();
      quadratic(params).backward();
      opt.step();
    });
  }
}

describe('optimizer construction errors', () => {
  it('accepts only Parameters, and says what it got', () => {
    const t = tensor([1, 2], 'float32');
    expect(() => new SGD([t as never], { lr: 0.1 })).toThrowError(ArgumentError);
    expect(() => new SGD([t as never], { lr: 0.1 })).toThrowError(/SGD: parameters must be nn Parameters \(from module.parameters\(\), or new Parameter\(tensor\)\); item 0 is a plain Tensor \(float32\[2\]\)/);
    expect(() => new Adam([param([1]), 3 as never])).toThrowError(/Adam: .*item 1 is a number/);
    expect(() => new Adam(new Linear(2, 2) as never)).toThrowError(/Adam: params must be an iterable of Parameters \(e.g. model.parameters\(\)\) or of parameter groups, got a Linear/);
    expect(() => new RMSprop([])).toThrowError(/RMSprop: got an empty parameter list/);
    const p = param([1]);
    expect(() => new AdamW([{ params: [p] }, { params: [p] }])).toThrowError(/a parameter appears twice \(group 1, item 0\)/);
  });

  it('checks option names and values', () => {
    const p = [param([1])];
    expect(() => new SGD(p, {} as never)).toThrowError(/SGD: options.lr is required/);
    expect(() => new SGD(p, { lr: -1 })).toThrowError(/SGD: lr must be a number ≥ 0, got -1 in options/);
    expect(() => new SGD(p, { lr: 0.1, nesterov: true })).toThrowError(/nesterov momentum needs momentum > 0 and dampening 0, got momentum 0/);
    expect(() => new SGD(p, { lr: 0.1, weight_decay: 0.1 } as never)).toThrowError(/SGD: unknown option 'weight_decay' in options; valid options are lr, momentum, dampening, weightDecay, nesterov, maximize/);
    expect(() => new Adam(p, { betas: [0.9, 1] })).toThrowError(/Adam: betas must be a pair of numbers in \[0, 1\), got \[0.9,1\]/);
    expect(() => new Adam(p, { eps: -1 })).toThrowError(/Adam: eps must be a number ≥ 0/);
    expect(() => new RMSprop([{ params: p, momentum: -0.5 }])).toThrowError(/RMSprop: momentum must be a number ≥ 0, got -0.5 in parameter group 0/);
  });
});

describe('optimizer behaviour', () => {
  it('skips parameters without a gradient and keeps the parameter objects', () => {
    const a = param([1, 2]);
    const b = param([3]);
    const opt = new SGD([a, b], { lr: 0.1 });
    tidy(() => sum(mul(a, a)).backward());
    opt.step();
    expect(a.toArray()).toEqual([0.8, 1.6]);
    expect(b.toArray()).toEqual([3]);
    expect(a.requiresGrad && a.isLeaf).toBe(true);
  });

  it('zeroGrad clears or zero-fills the gradients', () => {
    const a = param([1, 2]);
    const opt = new SGD([a], { lr: 0.1 });
    tidy(() => sum(mul(a, a)).backward());
    opt.zeroGrad(false);
    expect(a.grad!.toArray()).toEqual([0, 0]);
    opt.zeroGrad();
    expect(a.grad).toBeNull();
  });

  it('step(closure) evaluates the closure and returns its loss', () => {
    const a = param([2]);
    const opt = new SGD([a], { lr: 0.25 });
    const loss = opt.step(() => {
      opt.zeroGrad();
      const l = sum(mul(a, a));
      l.backward();
      return l;
    });
    expect(loss!.item()).toBe(4);
    expect(a.toArray()).toEqual([1]); // 2 - 0.25·4
  });

  it('per-group options apply to their parameters only, and schedulers change each group', () => {
    const a = param([1]);
    const b = param([1]);
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.01 }], { lr: 0.1 });
    train(opt, [a, b], 1);
    expect((a.toArray() as number[])[0]).toBeCloseTo(1 - 0.1 * 2, 12);
    expect((b.toArray() as number[])[0]).toBeCloseTo(1 - 0.01 * 4, 12);
    const sched = new StepLR(opt, { stepSize: 1, gamma: 0.5 });
    sched.step();
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.05, 0.005]);
  });

  it.each([
    ['SGD', (p: Parameter[]) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true })],
    ['Adam', (p: Parameter[]) => new Adam(p, { lr: 0.05, amsgrad: true })],
    ['AdamW', (p: Parameter[]) => new AdamW(p, { lr: 0.05 })],
    ['RMSprop', (p: Parameter[]) => new RMSprop(p, { lr: 0.01, centered: true, momentum: 0.5 })],
  ] as [string, (p: Parameter[]) => SGD | Adam | AdamW | RMSprop][])('%s: loadStateDict resumes exactly, and steps leak nothing', async (_, make) => {
    const a = [param([1, -2]), param([0.5])];
    const optA = make(a);
    train(optA, a, 3);
    const saved = optA.stateDict();
    const b = a.map((p) => new Parameter(tidy(() => p.add(0))));
    const optB = make(b);
    optB.loadStateDict(saved as never);
    await settleGarbage();
    const before = memory().numTensors;
    train(optA, a, 4);
    train(optB, b, 4);
    expect(memory().numTensors).toBe(before + b.length); // b's gradients are new; nothing else

    a.forEach((p, i) => expect(b[i].toArray()).toEqual(p.toArray()));
    // The loaded state is a copy: stepping B did not change A's saved tensors.
    expect(optB.stateDict().state[0]).not.toBe(saved.state[0]);
  });

  it('loadStateDict reports mismatched groups, shapes and state names', () => {
    const p = [param([1, 2]), param([3])];
    const opt = new Adam(p);
    train(opt, p, 1);
    const dict = opt.stateDict();
    const other = new Adam([param([1, 2])]);
    expect(() => other.loadStateDict(dict)).toThrowError(/Adam.loadStateDict: parameter group 0 has 2 parameters in the state dict but 1 in the optimizer/);
    const twoGroups = new Adam([{ params: [param([1, 2])] }, { params: [param([3])] }]);
    expect(() => twoGroups.loadStateDict(dict)).toThrowError(/the state dict has 1 parameter groups but the optimizer has 2/);
    const wrongShape = new Adam([param([1, 2, 3]), param([3])]);
    expect(() => wrongShape.loadStateDict(dict)).toThrowError(ShapeError);
    expect(() => wrongShape.loadStateDict(dict)).toThrowError(/state 'expAvg' of parameter 0 has shape \[2\] but the parameter has shape \[3\]/);
    const bad = { ...dict, state: { 0: { momentum: 1 } } } as unknown as OptimizerStateDict<never>;
    expect(() => new Adam(p).loadStateDict(bad)).toThrowError(/unknown state 'momentum' for parameter 0; Adam keeps step, expAvg, expAvgSq, maxExpAvgSq/);
    expect(() => new Adam(p).loadStateDict(null as never)).toThrowError(/expected \{ state, paramGroups \}/);
  });

  it('loadStateDict restores the hyperparameters, and casts state to the parameter dtype', () => {
    const p64 = [param([1, 2])];
    const opt64 = new SGD(p64, { lr: 0.5, momentum: 0.9 });
    train(opt64, p64, 2);
    const p32 = [param([1, 2], 'float32')];
    const opt32 = new SGD(p32, { lr: 0.1 });
    opt32.loadStateDict(opt64.stateDict());
    expect(opt32.paramGroups[0].lr).toBe(0.5);
    expect(opt32.paramGroups[0].momentum).toBe(0.9);
    expect((opt32.stateDict().state[0].momentumBuffer as Tensor).dtype).toBe('float32');
  });

  it('maximize climbs', () => {
    const p = [param([1])];
    train(new Adam(p, { lr: 0.1, maximize: true }), p, 3);
    expect((p[0].toArray() as number[])[0]).toBeGreaterThan(1.2);
  });
});

describe('schedulers', () => {
  const opt = () => new SGD([param([1])], { lr: 0.1 });

  it('reject bad arguments', () => {
    expect(() => new StepLR(opt(), { stepSize: 0 })).toThrowError(/StepLR: stepSize must be a positive integer, got 0/);
    expect(() => new CosineAnnealingLR(opt(), { tMax: 2.5 })).toThrowError(/tMax must be a positive integer/);
    expect(() => new LinearWarmup(opt(), { startFactor: 0 })).toThrowError(/LinearWarmup: startFactor must be in \(0, 1\], got 0/);
    expect(() => new StepLR({} as never, { stepSize: 1 })).toThrowError(/the first argument must be an optimizer/);
    const o = opt();
    const w = new LinearWarmup(o);
    const c = new CosineAnnealingLR(o, { tMax: 5 });
    expect(() => new SequentialLR(o, { schedulers: [w, c], milestones: [] })).toThrowError(/milestones must be 1 increasing positive integers/);
    expect(() => new SequentialLR(opt(), { schedulers: [w, c], milestones: [3] })).toThrowError(/scheduler 0 \(LinearWarmup\) schedules a different optimizer/);
  });

  it('warm-up then cosine: rises linearly, then decays to etaMin', () => {
    const o = opt();
    const warm = new LinearWarmup(o, { startFactor: 0.25, totalIters: 3 });
    const cos = new CosineAnnealingLR(o, { tMax: 4, etaMin: 0.01 });
    const s = new SequentialLR(o, { schedulers: [warm, cos], milestones: [3] });
    const lrs = [o.paramGroups[0].lr];
    for (let i = 0; i < 7; i++) {
      s.step();
      lrs.push(o.paramGroups[0].lr);
    }
    const expected = [0.025, 0.05, 0.075, 0.1, 0.01 + 0.09 * (1 + Math.cos(Math.PI / 4)) / 2, 0.055, 0.01 + 0.09 * (1 + Math.cos((3 * Math.PI) / 4)) / 2, 0.01];
    lrs.forEach((lr, i) => expect(lr).toBeCloseTo(expected[i], 12));
    expect(() => s.stepTo(3)).toThrowError(/can only advance one step \(to 8\) or restart at 0, not jump to 3/);
  });

  it('stateDict / loadStateDict restore the step count', () => {
    const o = opt();
    const s = new StepLR(o, { stepSize: 2 });
    s.step();
    s.step();
    const saved = s.stateDict();
    const o2 = opt();
    const s2 = new StepLR(o2, { stepSize: 2 });
    s2.loadStateDict(saved);
    s.step();
    s2.step();
    expect(s2.lastEpoch).toBe(3);
    expect(o2.paramGroups[0].lr).toBeCloseTo(o.paramGroups[0].lr, 15);
  });
});

describe('clipGradNorm', () => {
  it('returns 0 and changes nothing when no parameter has a gradient', () => {
    expect(clipGradNorm([param([1])], 1).item()).toBe(0);
  });

  it('leaves small gradients alone', () => {
    const p = param([3, 4]);
    tidy(() => sum(mul(p, 0.01)).backward());
    expect(clipGradNorm([p], 1).item()).toBeCloseTo(Math.SQRT2 * 0.01, 12);
    expect(p.grad!.toArray()).toEqual([0.01, 0.01]);
  });

  it('rejects bad arguments and, on request, a non-finite norm', () => {
    const p = param([1]);
    expect(() => clipGradNorm([p], -1)).toThrowError(/maxNorm must be a number ≥ 0, got -1/);
    expect(() => clipGradNorm([p], 1, 0)).toThrowError(/normType must be a number > 0 or Infinity, got 0/);
    expect(() => clipGradNorm([3 as never], 1)).toThrowError(/item 0 is number/);
    p.grad = tensor([Infinity], 'float64');
    expect(() => clipGradNorm([p], 1, 2, { errorIfNonfinite: true })).toThrowError(/the total norm of order 2 of the gradients is Infinity/);
    expect(clipGradNorm([p], 1).item()).toBe(Infinity);
  });

  it('gives the same total norm for any split of the gradients', () => {
    const a = param([1, 2, 3, 4]);
    tidy(() => sum(mul(a, tensor([3, -4, 12, 0], 'float64'))).backward());
    expect(clipGradNorm([a], 100, 3).item()).toBeCloseTo(Math.cbrt(27 + 64 + 1728), 10);
    const b = [param([1, 2]), param([3, 4])];
    tidy(() => sub(sum(mul(b[0], tensor([3, -4], 'float64'))), sum(mul(b[1], tensor([-12, 0], 'float64')))).backward());
    expect(clipGradNorm(b, 100, 3).item()).toBeCloseTo(Math.cbrt(27 + 64 + 1728), 10);
  });
});

it('optimizers make their state up front; the step idiom then adds only the gradients', async () => {
  const p = [new Parameter(zeros([3])), new Parameter(zeros([2]))];
  await settleGarbage();
  const before = memory().numTensors;
  const opt = new Adam(p, { amsgrad: true });
  const hyper = 5; /* the group's lr, betas[0], betas[1], eps, weightDecay as scalar tensors */
  expect(memory().numTensors).toBe(before + 2 * 4 /* step, expAvg, expAvgSq, maxExpAvgSq */ + hyper);
  expect(Object.keys(opt.stateDict().state[1])).toEqual(['step', 'expAvg', 'expAvgSq', 'maxExpAvgSq']);
  train(opt, p, 5);
  expect(memory().numTensors).toBe(before + 2 * 4 + hyper + 2 /* grads */);
  opt.dispose();
  expect(memory().numTensors).toBe(before + 2);
});

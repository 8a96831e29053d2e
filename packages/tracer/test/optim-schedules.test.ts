/**
 * Optimizers inside compiled training steps: learning-rate schedules (the step reads each
 * group's hyperparameters as tensors, fresh on every call), state that exists from
 * construction (SGD's damped momentum buffer), loadStateDict in place, option changes.
 */
import { ArgumentError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { manualSeed, mul, randint, randn, sum, tensor, tidy } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import type { LRScheduler, Optimizer } from '../../nn/src/index.js';
import { Adam, AdamW, CosineAnnealingLR, crossEntropy, Linear, Parameter, ReLU, RMSprop, Sequential, SGD, StepLR } from '../../nn/src/index.js';
import { compile } from '../src/index.js';

type MakeOpt = (m: Sequential) => Optimizer<{ lr: number }>;
type MakeSched = ((o: Optimizer<{ lr: number }>) => LRScheduler) | null;

const STEPS = 40;

function train(makeOpt: MakeOpt, makeSched: MakeSched, compiled: boolean) {
  manualSeed(1);
  const model = new Sequential(new Linear(5, 8), new ReLU(), new Linear(8, 3));
  const opt = makeOpt(model);
  const sched = makeSched?.(opt);
  const x = randn([12, 5]);
  const y = randint(0, 3, [12]);
  const body = (xb: Tensor, yb: Tensor) => {
    opt.zeroGrad();
    const loss = crossEntropy(model.forward(xb), yb);
    loss.backward();
    opt.step();
    return loss;
  };
  const step = compiled ? compile(body) : body;
  const losses: number[] = [];
  const lrs: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    losses.push(tidy(() => step(x, y).item() as number));
    lrs.push(opt.paramGroups[0].lr);
    sched?.step();
  }
  const weights = model.parameters().flatMap((p) => Array.from(p.dataSync()));
  return { losses, lrs, weights, traces: compiled ? (step as ReturnType<typeof compile>).stats.traces : 0 };
}

const optimizers: [string, MakeOpt][] = [
  ['SGD (momentum, dampening, weight decay, nesterov off)', (m) => new SGD(m.parameters(), { lr: 0.2, momentum: 0.9, dampening: 0.3, weightDecay: 1e-3 })],
  ['SGD (nesterov)', (m) => new SGD(m.parameters(), { lr: 0.2, momentum: 0.8, nesterov: true })],
  ['Adam (amsgrad)', (m) => new Adam(m.parameters(), { lr: 0.05, amsgrad: true })],
  ['AdamW', (m) => new AdamW(m.parameters(), { lr: 0.05, weightDecay: 0.1 })],
  ['RMSprop (centered, momentum)', (m) => new RMSprop(m.parameters(), { lr: 0.02, centered: true, momentum: 0.5 })],
];
const schedules: [string, MakeSched][] = [
  ['StepLR', (o) => new StepLR(o, { stepSize: 7, gamma: 0.5 })],
  ['CosineAnnealingLR', (o) => new CosineAnnealingLR(o, { tMax: STEPS, etaMin: 1e-3 })],
];

describe('a compiled training step follows a learning-rate schedule exactly as eager', () => {
  for (const [optName, makeOpt] of optimizers) {
    for (const [schedName, makeSched] of schedules) {
      it(`${optName} with ${schedName}, ${STEPS} steps, traced once`, () => {
        const eager = train(makeOpt, makeSched, false);
        const compiled = train(makeOpt, makeSched, true);
        expect(compiled.lrs).toEqual(eager.lrs);
        expect(new Set(eager.lrs).size).toBeGreaterThan(4); // the schedule moved
        compiled.losses.forEach((l, i) => expect(Math.abs(l - eager.losses[i]), `step ${i}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(eager.losses[i]))));
        compiled.weights.forEach((w, i) => expect(Math.abs(w - eager.weights[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(eager.weights[i]))));
        expect(compiled.traces).toBe(1);
      });
    }
  }

  it('would differ without the schedule (the test can fail)', () => {
    const [, makeOpt] = optimizers[2];
    const scheduled = train(makeOpt, schedules[0][1], true);
    const constant = train(makeOpt, null, true);
    expect(scheduled.losses.slice(10)).not.toEqual(constant.losses.slice(10));
  });
});

describe('SGD with dampening', () => {
  it('has its state before the first step and follows PyTorch (the first buffer is the undamped gradient)', () => {
    for (const compiled of [false, true]) {
      const p = new Parameter(tensor([1], 'float64'));
      const opt = new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.5 });
      const state = opt.stateDict().state[0];
      expect(Object.keys(state).sort()).toEqual(['momentumBuffer', 'step']);
      expect((state.momentumBuffer as Tensor).toArray()).toEqual([0]);
      const body = () => {
        opt.zeroGrad();
        sum(mul(p, 2)).backward(); // grad 2
        opt.step();
      };
      const step = compiled ? compile(body) : body;
      step();
      expect(p.item()).toBeCloseTo(0.8, 14); // buf = 2
      step();
      expect(p.item()).toBeCloseTo(0.52, 14); // buf = 0.9·2 + (1 - 0.5)·2 = 2.8
      step();
      expect(p.item()).toBeCloseTo(0.52 - 0.1 * (0.9 * 2.8 + 1), 14);
    }
  });
});

describe('option changes and loaded state', () => {
  it('retraces when momentum is switched on, with state made for it', () => {
    const messages: string[] = [];
    const run = (compiled: boolean) => {
      const p = new Parameter(tensor([1, -1], 'float32'));
      const opt = new SGD([p], { lr: 0.1 });
      const body = () => {
        opt.zeroGrad();
        sum(mul(p, p)).backward();
        opt.step();
      };
      const step = compiled ? compile(body, { onRetrace: (m) => messages.push(m) }) : body;
      step();
      opt.paramGroups[0].momentum = 0.9;
      step();
      step();
      return Array.from(p.dataSync());
    };
    expect(run(true)).toEqual(run(false));
    expect(messages).toEqual(['compile: retracing body (trace 2): SGD parameter group 0: momentum ≠ 0: false → true']);
  });

  it('rejects a bad value set on a group and keeps the old one', () => {
    const opt = new SGD([new Parameter(tensor([1], 'float32'))], { lr: 0.1, momentum: 0.5 });
    expect(() => (opt.paramGroups[0].lr = -1)).toThrowError(new ArgumentError('SGD: lr must be a number ≥ 0, got -1 in parameter group 0'));
    opt.paramGroups[0].nesterov = true;
    expect(() => (opt.paramGroups[0].dampening = 0.5)).toThrowError(/SGD: nesterov momentum needs momentum > 0 and dampening 0, got momentum 0.5 and dampening 0.5 in parameter group 0/);
    expect(opt.paramGroups[0].lr).toBe(0.1);
    expect(opt.paramGroups[0].dampening).toBe(0);
  });

  it('loads a state dict into the tensors a compiled step reads', () => {
    const make = () => {
      const p = new Parameter(tensor([0.5, -0.5], 'float32'));
      const opt = new Adam([p], { lr: 0.1 });
      const step = compile(() => {
        opt.zeroGrad();
        sum(mul(p, p)).backward();
        opt.step();
      });
      return { p, opt, step };
    };
    const a = make();
    for (let i = 0; i < 3; i++) a.step();
    const b = make();
    b.step(); // traced, with its own state
    b.opt.loadStateDict(a.opt.stateDict());
    b.p.assign(a.p);
    a.step();
    b.step();
    expect(Array.from(b.p.dataSync())).toEqual(Array.from(a.p.dataSync()));
    expect(b.step.stats.traces).toBe(1);
  });
});

import type { Tensor } from '@kiln/eager';
import { manualSeed, randint, randn, tidy } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { compile } from '../../tracer/src/index.js';
import type { Optimizer } from '../src/index.js';
import { Adam, AdamW, Linear, ReLU, RMSprop, SGD, Sequential, StepLR, crossEntropy } from '../src/index.js';

type Make = (model: Sequential) => Optimizer<{ lr: number }>;

/** Losses of 6 training steps on a fixed batch, the step run eagerly or compiled. */
function run(make: Make, compiled: boolean, scheduled = false): { losses: number[]; weights: number[] } {
  manualSeed(0);
  const model = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3));
  const opt = make(model);
  const sched = scheduled ? new StepLR(opt, { stepSize: 2, gamma: 0.1 }) : null;
  const x = randn([16, 4]);
  const y = randint(0, 3, [16]);
  const body = (xb: Tensor, yb: Tensor) => {
    opt.zeroGrad();
    const loss = crossEntropy(model.forward(xb), yb);
    loss.backward();
    opt.step();
    return loss;
  };
  const step = compiled ? compile(body) : body;
  const losses: number[] = [];
  for (let i = 0; i < 6; i++) {
    losses.push(tidy(() => step(x, y).item() as number));
    sched?.step();
  }
  const weights = Array.from(model.parameters()[0].dataSync());
  return { losses, weights };
}

describe('a training step compiles: the same losses and weights as eager', () => {
  it.each([
    ['SGD momentum', (m: Sequential) => new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 })],
    ['Adam', (m: Sequential) => new Adam(m.parameters(), { lr: 0.01, amsgrad: true })],
    ['AdamW', (m: Sequential) => new AdamW(m.parameters(), { lr: 0.01 })],
    ['RMSprop', (m: Sequential) => new RMSprop(m.parameters(), { lr: 0.01, centered: true, momentum: 0.5 })],
  ] as [string, Make][])('%s', (_, make) => {
    const eager = run(make, false);
    const compiled = run(make, true);
    expect(compiled.losses).toEqual(eager.losses);
    expect(compiled.weights).toEqual(eager.weights);
  });

  it('with a learning-rate schedule', () => {
    const make: Make = (m) => new Adam(m.parameters(), { lr: 0.05 });
    const eager = run(make, false, true);
    const compiled = run(make, true, true);
    expect(compiled.losses).toEqual(eager.losses);
    expect(run(make, false, false).losses.slice(3)).not.toEqual(eager.losses.slice(3)); // the schedule matters
  });
});

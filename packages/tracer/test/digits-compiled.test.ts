/**
 * The digits MLP (64-128-10, Adam lr 3e-3, batches of 32, the recipe of
 * docs/examples/digits-mlp.ts) trained for 100 steps eagerly and with the whole training step
 * compiled: the same loss at every step and the same weights at the end, within float32
 * tolerance; the compiled model learns (test accuracy) exactly as the eager one.
 */
import type { Tensor } from '@kiln/eager';
import { argmax, eq, manualSeed, memory, noGrad, tidy } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { loadDigits } from '../../../docs/examples/data/digits.js';
import { Adam, Linear, ReLU, Sequential, batches, crossEntropy, trainTestSplit } from '../../nn/src/index.js';
import { compile } from '../src/index.js';
import { expectSameTensors } from './equivalence-compare.js';

const STEPS = 100;

interface Run {
  losses: number[];
  weights: Tensor[];
  accuracyBefore: number;
  accuracyAfter: number;
  traces: number;
  retraceReasons: readonly string[];
  liveTensorsPerStep: number[];
}

function train(compiled: boolean): Run {
  manualSeed(0); // initialisation and batch order come from the global generator
  const { x, y } = loadDigits();
  const { train: [trainX, trainY], test: [testX, testY] } = trainTestSplit([x, y], { testFraction: 0.2, seed: 0 });
  x.dispose();
  y.dispose();
  const model = new Sequential(new Linear(64, 128), new ReLU(), new Linear(128, 10));
  const optimizer = new Adam(model.parameters(), { lr: 3e-3 });
  const accuracy = () => noGrad(() => tidy(() => eq(argmax(model.forward(testX), 1), testY).cast('float32').mean().item() as number));

  const body = (xb: Tensor, yb: Tensor) => {
    optimizer.zeroGrad();
    const loss = crossEntropy(model.forward(xb), yb);
    loss.backward();
    optimizer.step();
    return loss;
  };
  const step = compiled ? compile(body) : body;
  const accuracyBefore = accuracy();
  const losses: number[] = [];
  const liveTensorsPerStep: number[] = [];
  while (losses.length < STEPS) {
    for (const [xb, yb] of batches([trainX, trainY], { batchSize: 32, shuffle: true })) {
      if (losses.length === STEPS) break;
      losses.push(tidy(() => step(xb, yb).item() as number));
      xb.dispose();
      yb.dispose();
      liveTensorsPerStep.push(memory().numTensors);
    }
  }
  const c = compiled ? (step as ReturnType<typeof compile>) : undefined;
  const run: Run = {
    losses,
    weights: model.parameters().map((p) => p.detach()),
    accuracyBefore,
    accuracyAfter: accuracy(),
    traces: c?.stats.traces ?? 0,
    retraceReasons: c?.retraceReasons ?? [],
    liveTensorsPerStep,
  };
  for (const t of [trainX, trainY, testX, testY]) t.dispose();
  return run;
}

describe('the digits MLP: 100 training steps compiled vs eager', () => {
  const eager = train(false);
  const compiled = train(true);

  it('gives the same loss at every step', () => {
    expect(compiled.losses).toHaveLength(STEPS);
    compiled.losses.forEach((loss, i) => expect(Math.abs(loss - eager.losses[i]), `step ${i}: ${loss} vs eager ${eager.losses[i]}`).toBeLessThan(1e-4 * Math.max(1, eager.losses[i])));
    expect(eager.losses[STEPS - 1]).toBeLessThan(eager.losses[0] / 3); // it trained
  });

  it('ends with the same weights', () => {
    expectSameTensors(compiled.weights, eager.weights, [], 'parameter');
  });

  it('learns as eager does: the same test accuracy, far above chance', () => {
    expect(compiled.accuracyBefore).toBe(eager.accuracyBefore);
    expect(compiled.accuracyAfter).toBe(eager.accuracyAfter);
    expect(compiled.accuracyAfter).toBeGreaterThan(0.85);
  });

  it('traces once per batch shape: the short last batch of an epoch is explained', () => {
    // 1437 training rows = 44 batches of 32 and one of 29.
    expect(compiled.traces).toBe(2);
    expect(compiled.retraceReasons).toEqual(['compile: retracing body (trace 2): arg 0: shape [32,64] → [29,64]; arg 1: shape [32] → [29]']);
  });

  it('keeps memory flat from step to step', () => {
    const steady = compiled.liveTensorsPerStep.slice(50);
    expect(Math.max(...steady)).toBe(Math.min(...steady));
  });
});

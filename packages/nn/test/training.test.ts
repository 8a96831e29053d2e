import type { Tensor } from '@kiln/eager';
import { argmax, eq, manualSeed, memory, noGrad, tidy } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { loadDigits } from '../../../docs/examples/data/digits.js';
import { settleGarbage } from './helpers/settle.js';
import type { Optimizer } from '../src/index.js';
import { Adam, Linear, ReLU, RMSprop, SGD, Sequential, batches, clipGradNorm, crossEntropy, trainTestSplit } from '../src/index.js';

function digitsSplit() {
  const { x, y } = loadDigits();
  const split = trainTestSplit([x, y], { testFraction: 0.2, seed: 0 });
  x.dispose();
  y.dispose();
  return split;
}

function accuracy(model: Sequential, x: Tensor, y: Tensor): number {
  return noGrad(() => tidy(() => eq(argmax(model.forward(x), 1), y).cast('float32').mean().item() as number));
}

/** The documented training step: tidy around zeroGrad + forward + backward + step, returning a number. */
function trainStep(model: Sequential, opt: Optimizer<{ lr: number }>, x: Tensor, y: Tensor): number {
  return tidy(() => {
    opt.zeroGrad();
    const loss = crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss.item() as number;
  });
}

describe('training on the digits data set', () => {
  it('an MLP 64-128-10 with Adam reaches ≥ 95% test accuracy in 8 epochs', () => {
    manualSeed(0);
    const { train: [trainX, trainY], test: [testX, testY] } = digitsSplit();
    const model = new Sequential(new Linear(64, 128), new ReLU(), new Linear(128, 10));
    const opt = new Adam(model.parameters(), { lr: 3e-3 });
    const before = accuracy(model, testX, testY);
    const epochLoss: number[] = [];
    for (let epoch = 0; epoch < 8; epoch++) {
      let sum = 0;
      let n = 0;
      for (const [x, y] of batches([trainX, trainY], { batchSize: 32, shuffle: true })) {
        sum += trainStep(model, opt, x, y);
        n++;
      }
      epochLoss.push(sum / n);
    }
    const after = accuracy(model, testX, testY);
    expect(before).toBeLessThan(0.3); // untrained: about chance
    expect(epochLoss[7]).toBeLessThan(epochLoss[0] / 5);
    expect(after).toBeGreaterThanOrEqual(0.95);
    for (const t of [trainX, trainY, testX, testY]) t.dispose();
    opt.dispose();
    model.dispose();
  });

  it('200 training steps leave memory() flat (tidy around forward + backward + step)', async () => {
    manualSeed(1);
    const { train: [trainX, trainY], test: [testX, testY] } = digitsSplit();
    const model = new Sequential(new Linear(64, 32), new ReLU(), new Linear(32, 10));
    const opt = new Adam(model.parameters(), { lr: 1e-3, amsgrad: true });
    let step = 0;
    const seen = new Map<number, { numTensors: number; numBytes: number }>();
    await settleGarbage();
    const beforeLoop = memory().numTensors;
    while (step < 200) {
      for (const [x, y] of batches([trainX, trainY], { batchSize: 64, shuffle: true })) {
        trainStep(model, opt, x, y);
        step++;
        if (step === 10 || step === 200) seen.set(step, { numTensors: memory().numTensors, numBytes: memory().numBytes });
        if (step === 200) break;
      }
    }
    expect(seen.get(200)).toEqual(seen.get(10));
    // Breaking out of the loop disposed the last batch; what is new is the parameters' gradients
    // (the optimizer made its state when it was constructed).
    expect(memory().numTensors).toBe(beforeLoop + 4);
    for (const t of [trainX, trainY, testX, testY]) t.dispose();
  });

  it.each([
    ['SGD with Nesterov momentum and weight decay', (m: Sequential) => new SGD(m.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4 })],
    ['RMSprop centered with momentum', (m: Sequential) => new RMSprop(m.parameters(), { lr: 1e-3, centered: true, momentum: 0.5 })],
  ])('%s: learns and leaks nothing, with gradient clipping', async (_, make) => {
    manualSeed(2);
    const { train: [trainX, trainY], test: [testX, testY] } = digitsSplit();
    const model = new Sequential(new Linear(64, 32), new ReLU(), new Linear(32, 10));
    const opt = make(model) as Optimizer<{ lr: number }>;
    await settleGarbage();
    let atStep5 = -1;
    let atLastStep = -2;
    let step = 0;
    for (let epoch = 0; epoch < 3; epoch++) {
      for (const [x, y] of batches([trainX, trainY], { batchSize: 32, shuffle: true })) {
        tidy(() => {
          opt.zeroGrad();
          crossEntropy(model.forward(x), y).backward();
          clipGradNorm(model.parameters(), 5);
          opt.step();
        });
        if (++step === 5) atStep5 = memory().numTensors;
        atLastStep = memory().numTensors;
      }
    }
    expect(atLastStep).toBe(atStep5);
    expect(accuracy(model, testX, testY)).toBeGreaterThan(0.85);
    for (const t of [trainX, trainY, testX, testY]) t.dispose();
  });
});

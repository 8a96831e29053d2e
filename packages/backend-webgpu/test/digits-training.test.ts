/**
 * The digits MLP (64-128-10, Adam lr 3e-3, batches of 32: the recipe of docs/examples/digits-mlp.ts)
 * trained for 2 epochs (90 steps) on the CPU, eagerly on WebGPU and with the whole training step
 * compiled on WebGPU, from the same initial weights and batch order. WebGPU must learn as the
 * CPU does: test accuracy within 1.5 points of the CPU's at the same epoch, and every step's
 * loss within 2e-3 (relative) of the CPU's (float32 kernels with a different summation order
 * drift apart slowly; the drift over 90 Adam steps stays well below that). Losses are read
 * asynchronously at the end, as WebGPU code must.
 */
import type { Tensor } from '@kiln/eager';
import { argmax, eq, manualSeed, noGrad, registerBackend, setBackend, tidy } from '@kiln/eager';
import { compile } from '@kiln/tracer';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDigits } from '../../../docs/examples/data/digits.js';
import { Adam, Linear, ReLU, Sequential, batches, crossEntropy, trainTestSplit } from '../../nn/src/index.js';
import { testBackend } from './helpers/device.js';

const gpu = await testBackend;
if (gpu) registerBackend('webgpu', () => gpu);

const EPOCHS = 2;

interface Run {
  readonly losses: number[];
  /** Test accuracy after each epoch. */
  readonly accuracy: number[];
  readonly traces: number;
}

async function train(backend: 'cpu' | 'webgpu', compiled: boolean): Promise<Run> {
  setBackend(backend);
  manualSeed(0);
  const { x, y } = loadDigits();
  const { train: [trainX, trainY], test: [testX, testY] } = trainTestSplit([x, y], { testFraction: 0.2, seed: 0 });
  x.dispose();
  y.dispose();
  const model = new Sequential(new Linear(64, 128), new ReLU(), new Linear(128, 10));
  const optimizer = new Adam(model.parameters(), { lr: 3e-3 });
  const body = (xb: Tensor, yb: Tensor) => {
    optimizer.zeroGrad();
    const loss = crossEntropy(model.forward(xb), yb);
    loss.backward();
    optimizer.step();
    return loss;
  };
  const step = compiled ? compile(body) : body;
  const lossTensors: Tensor[] = [];
  const accuracy: number[] = [];
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (const [xb, yb] of batches([trainX, trainY], { batchSize: 32, shuffle: true })) {
      lossTensors.push(tidy(() => step(xb, yb)));
      xb.dispose();
      yb.dispose();
    }
    const correct = noGrad(() => tidy(() => eq(argmax(model.forward(testX), 1), testY).cast('float32').mean()));
    accuracy.push((await correct.data())[0]);
    correct.dispose();
  }
  const losses: number[] = [];
  for (const l of lossTensors) {
    losses.push((await l.data())[0]);
    l.dispose();
  }
  for (const t of [trainX, trainY, testX, testY, ...model.parameters()]) t.dispose();
  const traces = compiled ? (step as ReturnType<typeof compile>).stats.traces : 0;
  setBackend('cpu');
  return { losses, accuracy, traces };
}

describe.skipIf(!gpu)('the digits MLP trains on WebGPU as on the CPU', () => {
  afterAll(() => setBackend('cpu'));
  let cpu: Run;

  it('on the CPU (the reference): learns', async () => {
    cpu = await train('cpu', false);
    expect(cpu.accuracy[EPOCHS - 1]).toBeGreaterThan(0.85);
  }, 60_000);

  for (const compiled of [false, true]) {
    it(`on WebGPU, ${compiled ? 'the training step compiled' : 'eagerly'}: the CPU's losses and accuracy`, async () => {
      const run = await train('webgpu', compiled);
      console.info(`digits MLP, ${EPOCHS} epochs: cpu accuracy ${cpu.accuracy.join(', ')}; webgpu ${compiled ? 'compiled' : 'eager'} ${run.accuracy.join(', ')}; final loss cpu ${cpu.losses.at(-1)}, webgpu ${run.losses.at(-1)}`);
      expect(run.losses).toHaveLength(cpu.losses.length);
      run.losses.forEach((l, i) => expect(Math.abs(l - cpu.losses[i]), `step ${i}: ${l} vs cpu ${cpu.losses[i]}`).toBeLessThan(2e-3 * Math.max(1, cpu.losses[i])));
      run.accuracy.forEach((a, e) => expect(Math.abs(a - cpu.accuracy[e]), `epoch ${e}: ${a} vs cpu ${cpu.accuracy[e]}`).toBeLessThanOrEqual(0.015));
      expect(run.losses.at(-1)!).toBeLessThan(run.losses[0] / 3);
      // 1437 training rows: 44 batches of 32 and one of 29, so two signatures.
      if (compiled) expect(run.traces).toBe(2);
    }, 120_000);
  }
});

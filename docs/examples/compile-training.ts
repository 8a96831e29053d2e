/**
 * A whole training step compiled — zeroGrad, forward, backward, optimizer step — on the digits
 * MLP (docs/examples/digits-mlp.ts trains the same model eagerly). Run with
 * `pnpm exec tsx --conditions=kiln-source docs/examples/compile-training.ts`; its output is
 * checked against docs/guide/compile.md by packages/tracer/test/guide-examples.test.ts.
 */
import type { Tensor } from '@kiln/eager';
import { argmax, eq, manualSeed, noGrad, tidy } from '@kiln/eager';
import { Adam, Linear, ReLU, Sequential, batches, crossEntropy, trainTestSplit } from '@kiln/nn';
import { compile } from '@kiln/tracer';
import { loadDigits } from './data/digits.js';

manualSeed(0);
const { x, y } = loadDigits();
const { train: [trainX, trainY], test: [testX, testY] } = trainTestSplit([x, y], { testFraction: 0.2, seed: 0 });

const model = new Sequential(new Linear(64, 128), new ReLU(), new Linear(128, 10));
const optimizer = new Adam(model.parameters(), { lr: 3e-3 }); // its state exists before the first step

// The eager training step, unchanged, wrapped in compile(). The parameters, their gradients and
// the optimizer's state are captured: read before each call, written back after it.
const trainStep = compile(
  function trainStep(xb: Tensor, yb: Tensor): Tensor {
    optimizer.zeroGrad();
    const loss = crossEntropy(model.forward(xb), yb);
    loss.backward();
    optimizer.step();
    return loss;
  },
  { onRetrace: (message) => console.log(message) },
);

for (let epoch = 1; epoch <= 3; epoch++) {
  let sum = 0;
  let steps = 0;
  for (const [xb, yb] of batches([trainX, trainY], { batchSize: 32, shuffle: true })) {
    sum += tidy(() => trainStep(xb, yb).item() as number);
    steps++;
  }
  console.log(`epoch ${epoch}: mean loss ${(sum / steps).toFixed(3)} over ${steps} steps`);
}
console.log('traces:', trainStep.stats.traces, '— one per batch shape');

const accuracy = noGrad(() => tidy(() => eq(argmax(model.forward(testX), 1), testY).cast('float32').mean().item() as number));
console.log(`test accuracy after 3 epochs: ${(100 * accuracy).toFixed(1)}%`);

/**
 * Trains a small convolutional network on the 8×8 handwritten digits (data/README.md), eagerly
 * on the CPU: conv(1→16, 3×3) → ReLU → max-pool 2 → conv(16→32, 3×3) → ReLU → max-pool 2 →
 * flatten → linear(128→10), Adam with lr 3e-3, batches of 32, the same seeded 80/20 split as
 * digits-mlp.ts. Run with `pnpm exec tsx --conditions=kiln-source docs/examples/digits-cnn.ts [epochs]`
 * (default 15 epochs).
 */
import type { Tensor } from '@kiln/eager';
import { argmax, eq, manualSeed, memory, noGrad, tidy } from '@kiln/eager';
import { Adam, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, batches, crossEntropy, trainTestSplit } from '@kiln/nn';
import { loadDigits } from './data/digits.js';

const epochs = Number(process.argv[2] ?? 15);
manualSeed(0);

const { x, y } = loadDigits({ images: true }); // x: [1797, 1, 8, 8]
const { train: [trainX, trainY], test: [testX, testY] } = trainTestSplit([x, y], { testFraction: 0.2, seed: 0 });
x.dispose();
y.dispose();

const model = new Sequential(
  new Conv2d(1, 16, 3, { padding: 1 }), // [N, 16, 8, 8]
  new ReLU(),
  new MaxPool2d(2), // [N, 16, 4, 4]
  new Conv2d(16, 32, 3, { padding: 1 }), // [N, 32, 4, 4]
  new ReLU(),
  new MaxPool2d(2), // [N, 32, 2, 2]
  new Flatten(), // [N, 128]
  new Linear(128, 10),
);
const optimizer = new Adam(model.parameters(), { lr: 3e-3 });
console.log(model.toString());

function accuracy(images: Tensor, labels: Tensor): number {
  return noGrad(() => tidy(() => eq(argmax(model.forward(images), 1), labels).cast('float32').mean().item() as number));
}

const start = performance.now();
for (let epoch = 1; epoch <= epochs; epoch++) {
  model.train();
  let lossSum = 0;
  let steps = 0;
  for (const [xb, yb] of batches([trainX, trainY], { batchSize: 32, shuffle: true })) {
    lossSum += tidy(() => {
      optimizer.zeroGrad();
      const loss = crossEntropy(model.forward(xb), yb);
      loss.backward();
      optimizer.step();
      return loss.item() as number;
    });
    steps++;
  }
  model.eval();
  console.log(`epoch ${String(epoch).padStart(2)}  loss ${(lossSum / steps).toFixed(4)}  test accuracy ${(100 * accuracy(testX, testY)).toFixed(1)}%`);
}
const seconds = (performance.now() - start) / 1000;
console.log(`\ntest accuracy ${(100 * accuracy(testX, testY)).toFixed(2)}% after ${epochs} epochs (${seconds.toFixed(1)} s); live tensors: ${memory().numTensors}`);

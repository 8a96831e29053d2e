/**
 * The training side of the deploy guide (docs/guide/deploy.md): trains a small MLP (64-32-10)
 * on the handwritten digits for a few epochs, compiles its forward pass and saves it as a
 * batch-dynamic `.kiln` file, with a few test images beside it for the deployer to try.
 * Run with `pnpm exec tsx --conditions=kiln-source docs/examples/deploy-train.ts [dir]`
 * (default: the current directory); then run docs/examples/deploy-run.ts on the same dir.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '@kiln/eager';
import { argmax, manualSeed, tidy, zeros } from '@kiln/eager';
import { Adam, Linear, ReLU, Sequential, batches, crossEntropy, trainTestSplit } from '@kiln/nn';
import { compile } from '@kiln/tracer';
import { saveFile } from '@kiln/tracer/node';
import { loadDigits } from './data/digits.js';

const dir = process.argv[2] ?? '.';
manualSeed(0);
const { x, y } = loadDigits();
const { train: [trainX, trainY], test: [testX, testY] } = trainTestSplit([x, y], { testFraction: 0.2, seed: 0 });

// 1. Train (eagerly).
const model = new Sequential(new Linear(64, 32), new ReLU(), new Linear(32, 10));
const optimizer = new Adam(model.parameters(), { lr: 1e-2 });
for (let epoch = 0; epoch < 5; epoch++) {
  for (const [xb, yb] of batches([trainX, trainY], { batchSize: 64, shuffle: true })) {
    tidy(() => {
      optimizer.zeroGrad();
      crossEntropy(model.forward(xb), yb).backward();
      optimizer.step();
    });
  }
}

// 2. Compile the forward pass and 3. save it: any batch size, named inputs, outputs and weights.
model.eval();
const predict = compile((images: Tensor) => model.forward(images));
const bytes = saveFile(join(dir, 'digits.kiln'), predict, [zeros([8, 64])], {
  names: model, inputNames: ['images'], outputNames: ['logits'],
  dynamic: { 0: [0] }, symbols: [{ name: 'batch' }],
});

// A few test images and what the trained model says about them, for deploy-run.ts to compare.
const sample = testX.slice([[0, 5]]);
const expected = Array.from(argmax(predict(sample), 1).dataSync());
writeFileSync(join(dir, 'digits-sample.json'), JSON.stringify({
  images: Array.from(sample.dataSync()), labels: Array.from(testY.slice([[0, 5]]).dataSync()), expected,
}));
console.log(`wrote digits.kiln (${bytes} bytes); predictions for 5 test images: ${expected.join(' ')}`);

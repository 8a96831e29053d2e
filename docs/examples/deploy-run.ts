/**
 * The deployer's program of the deploy guide (docs/guide/deploy.md): loads the `.kiln` file
 * docs/examples/deploy-train.ts wrote and runs it on the CPU. It imports `@kiln/runtime`,
 * `@kiln/serializer` and `@kiln/backend-cpu` only — no eager tensors, no tracer, no autograd, no
 * nn (scripts/test/deploy-imports.test.ts checks that by bundling it).
 * Run with `pnpm exec tsx --conditions=kiln-source docs/examples/deploy-run.ts [dir]`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCpuBackend } from '@kiln/backend-cpu';
import { loadModel } from '@kiln/runtime';
import { FormatError } from '@kiln/serializer';

const dir = process.argv[2] ?? '.';
const bytes = readFileSync(join(dir, 'digits.kiln'));

let model;
try {
  model = loadModel(bytes, { backend: createCpuBackend() });
} catch (e) {
  if (e instanceof FormatError) {
    console.error(`digits.kiln is not a model this runtime can read: ${e.message}`);
    process.exit(1);
  }
  throw e;
}
for (const input of model.inputs) console.log(`input  ${input.name}: ${input.dtype}[${input.shape.join(',')}]`);
console.log(`output ${model.outputs.join(', ')}`);

// Five 8×8 images, scaled to [0, 1], batched as one [5, 64] input.
const sample = JSON.parse(readFileSync(join(dir, 'digits-sample.json'), 'utf8')) as { images: number[]; labels: number[]; expected: number[] };
const [logits] = model.run({ dtype: 'float32', shape: [5, 64], data: Float32Array.from(sample.images) });
const predicted: number[] = [];
for (let row = 0; row < 5; row++) {
  const scores = Array.from(logits.data.subarray(row * 10, row * 10 + 10));
  predicted.push(scores.indexOf(Math.max(...scores)));
}
console.log(`logits: float32[${logits.shape.join(',')}]`);
console.log(`predicted ${predicted.join(' ')}`);
console.log(`labels    ${sample.labels.join(' ')}`);
if (predicted.join() !== sample.expected.join()) {
  console.error(`the trained model predicted ${sample.expected.join(' ')}`);
  process.exit(1);
}
console.log('same predictions as the trained model');
model.dispose();

/**
 * A runtime-only program like the one the main job (docs/examples/main-job.ts, which runs
 * `kiln run` for this step) checks its saved model with: a separate Node program that loads
 * `model.kiln` with `@kiln/runtime`, `@kiln/serializer` and `@kiln/backend-cpu` only — no eager
 * tensors, tracer, autograd or nn — runs the whole test set through it in one batch (the model is
 * batch-dynamic) and checks its predictions against those the trained model made.
 * Run with `pnpm exec tsx --conditions=kiln-source docs/examples/main-job-run.ts DIR` after
 * main-job.ts wrote DIR/model.kiln and DIR/test-set.json. Its last line is a JSON report.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCpuBackend } from '@kiln/backend-cpu';
import { loadModel } from '@kiln/runtime';
import { FormatError } from '@kiln/serializer';

const dir = process.argv[2] ?? 'out';
const start = performance.now();
let model;
try {
  model = loadModel(readFileSync(join(dir, 'model.kiln')), { backend: createCpuBackend() });
} catch (e) {
  if (e instanceof FormatError) {
    console.error(`model.kiln is not a model this runtime can read: ${e.message}`);
    process.exit(1);
  }
  throw e;
}
const loadMs = performance.now() - start;

const set = JSON.parse(readFileSync(join(dir, 'test-set.json'), 'utf8')) as { images: number[]; labels: number[]; expected: number[] };
const rows = set.labels.length;
const runStart = performance.now();
const [logits] = model.run({ dtype: 'float32', shape: [rows, 64], data: Float32Array.from(set.images) });
const runMs = performance.now() - runStart;
const classes = logits.shape[1];
let matching = 0;
let correct = 0;
for (let row = 0; row < rows; row++) {
  const scores = logits.data.subarray(row * classes, (row + 1) * classes);
  let best = 0;
  for (let c = 1; c < classes; c++) if (scores[c] > scores[best]) best = c;
  if (best === set.expected[row]) matching++;
  if (best === set.labels[row]) correct++;
}
model.dispose();
console.log(JSON.stringify({ rows, matching, accuracy: correct / rows, loadMs, runMs }));
if (matching !== rows) process.exit(1);

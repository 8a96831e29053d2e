/**
 * Writes ONNX exports of the op cases the tests use and of an MLP, a CNN and a Transformer
 * encoder block into a folder, for scripts/check-onnx.sh to run ONNX's own checker on.
 * Usage: pnpm exec tsx --conditions=kiln-source scripts/onnx/export-samples.ts <folder>
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '@kiln/eager';
import { manualSeed, randn } from '@kiln/eager';
import * as nn from '@kiln/nn';
import { compile, exportOnnx } from '@kiln/tracer';
import { ELEMENTWISE_CASES, REDUCTION_CASES } from '../../packages/tracer/test/onnx-cases-elementwise.js';
import { SHAPE_CASES } from '../../packages/tracer/test/onnx-cases-shape.js';
import { CONTROL_CASES } from '../../packages/tracer/test/onnx-cases-control.js';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: export-samples.ts <folder>');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const slug = (name: string) => name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase();

let count = 0;
for (const c of [...ELEMENTWISE_CASES, ...REDUCTION_CASES, ...SHAPE_CASES, ...CONTROL_CASES]) {
  const inputs = c.inputs();
  writeFileSync(join(dir, `op-${slug(c.name)}.onnx`), exportOnnx(compile(c.fn), inputs));
  count++;
}

manualSeed(0);
const models: [string, nn.Module & { forward(x: Tensor): Tensor }, Tensor][] = [
  ['model-mlp', new nn.Sequential(new nn.Linear(64, 128), new nn.ReLU(), new nn.Linear(128, 10)), randn([16, 64])],
  ['model-cnn', new nn.Sequential(new nn.Conv2d(1, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Conv2d(16, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(128, 10)), randn([8, 1, 8, 8])],
  ['model-transformer', new nn.TransformerEncoderLayer(64, 4, { dimFeedforward: 128, activation: 'gelu', batchFirst: true }), randn([4, 10, 64])],
];
for (const [name, model, x] of models) {
  model.eval();
  const f = compile((t: Tensor) => model.forward(t));
  const options = { names: model, inputNames: ['x'], outputNames: ['y'] };
  writeFileSync(join(dir, `${name}.onnx`), exportOnnx(f, [x], options));
  writeFileSync(join(dir, `${name}-dynamic-batch.onnx`), exportOnnx(f, [x], { ...options, dynamic: { 0: [0] }, symbols: [{ name: 'batch' }] }));
  count += 2;
}
console.log(`wrote ${count} ONNX files to ${dir}`);

/**
 * Profiling, as in docs/guide/performance.md: an eager training step (forward and backward), a
 * compiled function (one span per call, its graph's kernels inside), the Chrome trace, and a
 * loaded model's `profile` for deployers. Run with
 * `pnpm exec tsx --conditions=kiln-source docs/examples/profile-basics.ts`; its output is checked
 * against the guide (times masked) by packages/tracer/test/performance-guide.test.ts.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCpuBackend } from '@kiln/backend-cpu';
import type { Tensor } from '@kiln/eager';
import { manualSeed, matmul, profileSync, rand, relu, tidy } from '@kiln/eager';
import { writeChromeTrace } from '@kiln/eager/node';
import { loadModel } from '@kiln/runtime';
import { compile, save } from '@kiln/tracer';

manualSeed(0);
const x = rand([64, 128]);
const w = rand([128, 32]).requireGrad();

// 1. Eager code: a row per op, ops run by backward() as "… (backward)". Warm up first: a
// first call pays for JIT and kernel compilation (twice here: the second step is the first to
// add into w.grad).
const trainStep = () => tidy(() => relu(matmul(x, w)).sum().backward());
trainStep();
trainStep();
const step = profileSync(trainStep);
console.log(step.table());
const mm = step.rows.find((r) => r.name === 'matmul')!;
console.log(`matmul: ${mm.calls} call, ${mm.flops} FLOPs, ${mm.bytes} bytes`);

// 2. A compiled function: one span per call, holding its graph's (fused) kernels.
const layer = compile(function layer(a: Tensor, b: Tensor) {
  return relu(matmul(a, b)).mul(2).tanh();
});
const b = rand([128, 32]);
tidy(() => void layer(x, b)); // the first call traces and optimizes: profile a later one
const calls = profileSync(() => {
  for (let i = 0; i < 3; i++) tidy(() => void layer(x, b));
});
console.log(calls.table());

// 3. The same spans as a Chrome trace, for chrome://tracing or ui.perfetto.dev.
const events = writeChromeTrace(join(tmpdir(), 'layer.trace.json'), calls);
console.log(`wrote ${events} trace events`);

// 4. A deployer's loaded model: profile() runs it once and returns results and report.
const model = loadModel(save(layer, [x, b]), { backend: createCpuBackend() });
const inputs = [x, b].map((t) => ({ dtype: t.dtype, shape: [...t.shape], data: t.dataSync() }));
model.run(...inputs); // warm up
const { results, report } = model.profile(...inputs);
console.log(`result ${results[0].shape.join('×')}; nodes: ${report.rows.filter((r) => r.category === 'node').map((r) => r.name).join(', ')}`);
model.dispose();

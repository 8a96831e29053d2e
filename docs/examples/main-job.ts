/**
 * The main job (`bash scripts/demo.sh`, and `kiln demo`): everything Kiln is for, on the
 * handwritten digits, on the CPU, in well under two minutes — eager training with progress,
 * the same step compiled (measured speedup), test accuracy, `model.kiln` + `model.onnx`
 * (batch-dynamic), a separate runtime-only process (`kiln run`) reproducing every test
 * prediction, the training curves and the graph as SVG, and a summary.
 *
 * The job itself lives in the CLI package (packages/cli/src/demo/main-job.ts, with the digits in
 * packages/cli/data/) so that an installed `kiln demo` runs it too; this file runs it from a
 * checkout. Run with `pnpm exec tsx --conditions=kiln-source docs/examples/main-job.ts [dir]
 * [--backend cpu|webgpu|auto]` (default `out`, gitignored, and `auto`: WebGPU on a hardware
 * adapter, else the CPU; KILN_DEMO_BACKEND says the same). KILN_DEMO_EAGER_EPOCHS and
 * KILN_DEMO_COMPILED_EPOCHS (default 5 and 15) shorten it; scripts/test/main-job.test.ts runs it
 * with one of each.
 */
import { parseArgs } from 'node:util';
import { runMainJob } from '@kiln/cli/demo';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { backend: { type: 'string' } } });
const backend = values.backend ?? process.env.KILN_DEMO_BACKEND ?? 'auto';
if (backend !== 'auto' && backend !== 'cpu' && backend !== 'webgpu') {
  console.error(`main-job: --backend must be cpu, webgpu or auto, got ${JSON.stringify(backend)}`);
  process.exit(2);
}

const summary = await runMainJob({
  dir: positionals[0] ?? 'out',
  backend,
  eagerEpochs: Number(process.env.KILN_DEMO_EAGER_EPOCHS ?? 5),
  compiledEpochs: Number(process.env.KILN_DEMO_COMPILED_EPOCHS ?? 15),
});
if (summary.failure) {
  console.error(summary.failure);
  process.exit(1);
}

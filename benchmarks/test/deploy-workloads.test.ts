/**
 * The deploy workloads run end to end on small models: every implementation is measured (none
 * skipped), setup's agreement checks pass (runtime bit-identical to the compiled function,
 * onnxruntime within 1e-4), and the .kiln file size lands in the params.
 */
import * as kiln from '@kiln/eager';
import * as nn from '@kiln/nn';
import { describe, expect, it } from 'vitest';
import { runWorkloads } from '../src/harness.js';
import { deployInference, deploySaveLoad, deployWorkloads } from '../src/workloads/kiln-deploy.js';

const tiny = {
  name: 'tiny-mlp', label: 'MLP 12→8→3', params: { sizes: '12-8-3' },
  make: () => {
    kiln.manualSeed(1);
    return { module: new nn.Sequential(new nn.Linear(12, 8), new nn.ReLU(), new nn.Linear(8, 3)), x: kiln.randn([4, 12]) };
  },
};

describe('deploy workloads', () => {
  it('names the models the issue asks for', () => {
    expect(deployWorkloads().map((w) => w.name)).toEqual([
      'deploy-save-load-mlp-784-512-512-10-b64', 'deploy-save-load-transformer-s128-d256-h4',
      'deploy-inference-mlp-784-512-512-10-b64', 'deploy-inference-transformer-s128-d256-h4',
    ]);
  });

  it('measures save, read, load and inference against onnxruntime on a small model', async () => {
    const records = await runWorkloads([deploySaveLoad(tiny), deployInference(tiny)], { warmup: 0, repetitions: 1, log: () => {} });
    expect(records.map((r) => [r.implementation, r.samples > 0 && r.medianMs! > 0, r.skipped])).toEqual([
      ['kiln-save', true, undefined], ['kiln-read', true, undefined], ['kiln-load-cpu', true, undefined],
      ['kiln-runtime-cpu', true, undefined], ['onnxruntime-node-cpu', true, undefined], ['onnxruntime-node-cpu-1-thread', true, undefined],
    ]);
    // 12·8 + 8 + 8·3 + 3 = 131 float32 weights, in a file with its graph and signature.
    const size = records[0].params.fileBytes as number;
    expect(size).toBeGreaterThan(131 * 4);
    expect(size).toBeLessThan(131 * 4 + 8192);
  });
});

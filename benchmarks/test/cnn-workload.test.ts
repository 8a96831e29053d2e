/**
 * The CNN workloads run end to end once (no timing asserted): each Kiln implementation sets up —
 * which checks compiled results against eager on a twin model — runs once and tears down.
 */
import { describe, expect, it } from 'vitest';
import { cnnInference, cnnTrainingStep, cnnWorkloads } from '../src/workloads/cnn.js';

describe('cnn workloads', () => {
  it.each([['inference', cnnInference()], ['training step', cnnTrainingStep()]])('%s: eager and compiled set up, check and run', async (_, workload) => {
    const kiln = workload.implementations.filter((i) => i.name.startsWith('kiln-'));
    expect(kiln.map((i) => i.name)).toEqual(['kiln-eager-cpu', 'kiln-compiled-cpu']);
    for (const impl of kiln) {
      const state = await impl.setup(workload.params);
      await impl.run(state);
      await impl.teardown?.(state);
    }
  }, 60_000);

  it('describes the issue\'s model and counts its flops', () => {
    expect(cnnWorkloads().map((w) => w.name)).toEqual(['cnn-inference', 'cnn-train-step']);
    // conv1 2·32·32·26·26·9 + conv2 2·32·64·24·24·32·9 + linear 2·32·9216·10
    expect(cnnInference().flopsPerRun).toBe(12_460_032 + 679_477_248 + 5_898_240);
  });
});

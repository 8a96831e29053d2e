/**
 * The compiled-vs-eager workloads run end to end (small sizes, one repetition, a fake clock: no
 * timing is asserted): every implementation sets up — which checks the compiled result against
 * eager — runs, and is not skipped.
 */
import { tensor } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { runImplementation } from '../src/harness.js';
import { compiledMlpInference, compiledMlpTrainingStep, compiledTransformerEncoder, compiledVsEagerWorkloads, maxRelativeDifference } from '../src/workloads/kiln-compiled.js';

const clock = () => {
  let t = 0;
  return () => (t += 1);
};

describe('compiled-vs-eager workloads', () => {
  it.each([
    ['training step', compiledMlpTrainingStep([12, 8, 3], 4)],
    ['inference', compiledMlpInference([12, 8, 3], 4)],
    ['transformer encoder', compiledTransformerEncoder(6, 8, 2)],
  ])('%s: eager, compiled and first-call implementations all run', async (_, workload) => {
    expect(workload.implementations.map((i) => i.name)).toEqual(['kiln-eager-cpu', 'kiln-compiled-cpu', 'kiln-compiled-cpu-first-call']);
    for (const impl of workload.implementations) {
      const record = await runImplementation(workload, impl, { warmup: 0, repetitions: 1, now: clock(), log: () => {} });
      expect(record.skipped, impl.name).toBeUndefined();
      expect(record.samples).toBe(workload.repetitions); // the workload's own count wins over the run's
    }
  });

  it('names the sizes the issue asks for by default', () => {
    expect(compiledVsEagerWorkloads().map((w) => w.name)).toEqual([
      'compiled-mlp-train-step-784-512-512-10',
      'compiled-mlp-inference-784-512-512-10',
      'compiled-transformer-encoder-s128-d256-h4',
    ]);
  });

  it('measures the difference the setup check uses', () => {
    expect(maxRelativeDifference(tensor([1, 200], 'float32'), tensor([1, 100], 'float32'))).toBe(1);
    expect(maxRelativeDifference(tensor([0.5, 2], 'float32'), tensor([0.25, 2], 'float32'))).toBe(0.25);
    expect(maxRelativeDifference(tensor([1], 'float32'), tensor([1, 2], 'float32'))).toBe(Number.POSITIVE_INFINITY);
  });
});

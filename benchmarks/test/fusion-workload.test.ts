/**
 * The elementwise-chain workload runs end to end at a small size (a fake clock: no timing is
 * asserted): every implementation sets up, which checks the compiled result
 * against eager bit for bit, and runs.
 */
import * as kiln from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { runWorkloads } from '../src/harness.js';
import { elementwiseChain, firstDifference, geluChain } from '../src/workloads/kiln-fusion.js';

describe('elementwise-chain workload', () => {
  it('eager, compiled and first-call implementations all set up (compiled checked against eager) and run', async () => {
    const workload = elementwiseChain(1000);
    expect(workload.name).toBe('elementwise-chain-1000');
    expect(workload.implementations.map((i) => i.name)).toEqual(['kiln-eager-cpu', 'kiln-compiled-cpu', 'kiln-compiled-cpu-first-call']);
    expect(workload.repetitions).toBe(20); // the workload's own count overrides the run's
    let t = 0;
    const records = await runWorkloads([workload], { warmup: 0, repetitions: 1, now: () => (t += 1), log: () => {} });
    expect(records.map((r) => [r.implementation, r.samples, r.skipped])).toEqual([
      ['kiln-eager-cpu', 20, undefined], ['kiln-compiled-cpu', 20, undefined], ['kiln-compiled-cpu-first-call', 20, undefined],
    ]);
  });

  it('computes gelu_tanh(x*1.5+0.5)+x, and its check finds the first differing element', () => {
    kiln.tidy(() => {
      const xs = [0, 1, -2];
      const x = kiln.tensor(xs);
      const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
      const got = Array.from(geluChain(x).dataSync());
      xs.forEach((xi, i) => expect(got[i]).toBeCloseTo(gelu(xi * 1.5 + 0.5) + xi, 5));
      expect(firstDifference(geluChain(x), geluChain(x))).toBe(-1);
      expect(firstDifference(kiln.tensor([1, 2, NaN]), kiln.tensor([1, 2, NaN]))).toBe(-1);
      expect(firstDifference(kiln.tensor([1, 2, 3]), kiln.tensor([1, 2.5, 3]))).toBe(1);
    });
  });
});

import { describe, expect, it } from 'vitest';
import type { BenchRecord } from '../src/harness.js';
import { formatComparison, formatTargets } from '../src/report.js';
import { TARGETS, evaluateTargets, type Target } from '../src/targets.js';

const rec = (workload: string, implementation: string, medianMs: number | null, extra: Partial<BenchRecord> = {}): BenchRecord => ({
  workload, implementation, medianMs, minMs: medianMs, maxMs: medianMs, samples: medianMs === null ? 0 : 3, params: {}, ...extra,
});

describe('evaluateTargets', () => {
  const matmul: Target = { text: 'matmul: 2x the faster peer', workload: 'matmul-512', kiln: 'kiln-eager-cpu', peers: ['tfjs-wasm', 'jax-js-eager'], maxRatio: 0.5 };

  it('divides Kiln\'s time by the fastest listed peer\'s and compares with the bound', () => {
    const records = [rec('matmul-512', 'kiln-eager-cpu', 4), rec('matmul-512', 'tfjs-wasm', 10), rec('matmul-512', 'jax-js-eager', 8), rec('matmul-512', 'tfjs-cpu', 1)];
    expect(evaluateTargets(records, [matmul])).toEqual([{ target: matmul, peer: 'jax-js-eager', ratio: 0.5, holds: true }]);
    const slower = [rec('matmul-512', 'kiln-eager-cpu', 4.4), ...records.slice(1)];
    expect(evaluateTargets(slower, [matmul])[0]).toMatchObject({ peer: 'jax-js-eager', holds: false });
    expect(evaluateTargets(slower, [matmul])[0].ratio).toBeCloseTo(0.55, 12);
  });

  it('ignores failed peers and says what is missing when nothing comparable was measured', () => {
    const records = [rec('matmul-512', 'kiln-eager-cpu', 4), rec('matmul-512', 'tfjs-wasm', null, { failed: 'differs' }), rec('matmul-512', 'jax-js-eager', 16)];
    expect(evaluateTargets(records, [matmul])[0]).toMatchObject({ peer: 'jax-js-eager', ratio: 0.25, holds: true });
    expect(evaluateTargets(records.slice(0, 2), [matmul])[0]).toEqual({ target: matmul, holds: null, missing: 'matmul-512 / tfjs-wasm or jax-js-eager' });
    expect(evaluateTargets(records.slice(1), [matmul])[0]).toEqual({ target: matmul, holds: null, missing: 'matmul-512 / kiln-eager-cpu' });
  });

  it('checks absolute µs/op bounds and strict "below" ratios', () => {
    const [perOp, below] = TARGETS.filter((t) => t.workload === 'eager-dispatch-add');
    const records = [rec('eager-dispatch-add', 'kiln-eager-cpu', 1, { usPerOp: 1 }), rec('eager-dispatch-add', 'tfjs-cpu', 1, { usPerOp: 1 })];
    const [a, b] = evaluateTargets(records, [perOp, below]);
    expect(a).toMatchObject({ holds: true, usPerOp: 1 });
    expect(b).toMatchObject({ holds: false, ratio: 1, peer: 'tfjs-cpu' }); // equal is not below
  });

  it('encode every target of the issue once', () => {
    expect(TARGETS.map((t) => [t.workload, t.kiln, t.maxRatio ?? t.maxUsPerOp])).toEqual([
      ['matmul-512', 'kiln-eager-cpu', 0.5],
      ['matmul-1024', 'kiln-eager-cpu', 0.5],
      ['compiled-mlp-train-step-784-512-512-10', 'kiln-compiled-cpu', 0.4],
      ['compiled-mlp-train-step-784-512-512-10', 'kiln-compiled-cpu', 0.1],
      ['compiled-mlp-inference-784-512-512-10', 'kiln-compiled-cpu', 0.5],
      ['elementwise-chain-1048576', 'kiln-compiled-cpu', 0.2],
      ['eager-dispatch-add', 'kiln-eager-cpu', 1],
      ['eager-dispatch-add', 'kiln-eager-cpu', 1],
      ['cnn-inference', 'kiln-compiled-cpu', 0.33],
    ]);
  });
});

describe('formatComparison and formatTargets', () => {
  it('give a table per workload with peers, with Kiln eager / peer and Kiln compiled / peer time ratios', () => {
    const records = [
      rec('w', 'kiln-eager-cpu', 10), rec('w', 'kiln-compiled-cpu', 5), rec('w', 'tfjs-wasm', 20, { gflops: 1.5 }),
      rec('w', 'jax-js-jit', null, { failed: 'differs by 0.1' }), rec('kiln-only', 'kiln-eager-cpu', 1),
    ];
    expect(formatComparison(records)).toMatchInlineSnapshot(`
      "### w

      | implementation | median ms | min ms | rate (median) | Kiln eager / this | Kiln compiled / this |
      |---|---|---|---|---|---|
      | kiln-eager-cpu | 10.0 | 10.0 |  |  |  |
      | kiln-compiled-cpu | 5.00 | 5.00 |  |  |  |
      | tfjs-wasm | 20.0 | 20.0 | 1.50 GFLOP/s | 0.500× | 0.250× |
      | jax-js-jit | FAILED: differs by 0.1 |  |  |  |  |"
    `);
    const runtime = formatComparison([rec('d', 'kiln-runtime-cpu', 3), rec('d', 'onnxruntime-node-cpu', 1)]);
    expect(runtime).toContain('| implementation | median ms | min ms | rate (median) | kiln-runtime-cpu / this |\n|---|---|---|---|---|');
    expect(runtime).toContain('| onnxruntime-node-cpu | 1.00 | 1.00 |  | 3.00× |');
    const target: Target = { text: 't', workload: 'w', kiln: 'kiln-compiled-cpu', peers: ['tfjs-wasm'], maxRatio: 0.2 };
    expect(formatTargets(evaluateTargets(records, [target]))).toContain('| t | kiln-compiled-cpu | 0.250× tfjs-wasm | ≤ 0.2× | NO |');
  });
});

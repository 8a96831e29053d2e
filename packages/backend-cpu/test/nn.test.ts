import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpuOps, value } from './helpers/cpu_ops.js';
import { goldenTests } from './helpers/golden.js';

describe('linear algebra and NN ops match PyTorch (golden)', () => {
  goldenTests('nn');
});

/** A naive triple loop over 2-D row-major matrices, in float64. */
function naiveMatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): number[] {
  const out = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) out[i * n + j] += a[i * k + p] * b[p * n + j];
  return out;
}

describe('nn kernels', () => {
  it('matmul agrees with a naive loop for every row-block remainder', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 11 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 7 }), (m, k, n) => {
        const a = Array.from({ length: m * k }, (_, i) => ((i * 7) % 11) - 5);
        const b = Array.from({ length: k * n }, (_, i) => ((i * 5) % 13) - 6);
        const out = cpuOps.matmul(value(a, [m, k], 'float64'), value(b, [k, n], 'float64'));
        expect([...out.data]).toEqual(naiveMatmul(a, b, m, k, n));
      }),
      { numRuns: 60 },
    );
  });

  it('matmul broadcasts a batch of one against many', () => {
    const a = value([1, 2, 3, 4], [1, 2, 2]);
    const b = value([1, 0, 0, 1, 2, 0, 0, 2, 0, 1, 1, 0], [3, 2, 2]);
    expect([...cpuOps.matmul(a, b).data]).toEqual([1, 2, 3, 4, 2, 4, 6, 8, 2, 1, 4, 3]);
  });

  it('pooling over zero channels gives an empty result', () => {
    const out = cpuOps.maxPool2d(value([], [2, 0, 4, 4]), 2);
    expect(out.shape).toEqual([2, 0, 2, 2]);
    expect(cpuOps.avgPool2d(value([], [0, 4, 4]), 2).shape).toEqual([0, 2, 2]);
  });

  it('softmax of an empty tensor is that tensor', () => {
    const x = value([], [3, 0]);
    expect(cpuOps.softmax(x)).toBe(x);
  });

  it('conv2d with groups equal to channels convolves each channel alone', () => {
    const x = value([1, 2, 3, 4, 10, 20, 30, 40], [1, 2, 2, 2]);
    const w = value([1, 1, 1, 1, -1, 0, 0, 1], [2, 1, 2, 2]);
    expect([...cpuOps.conv2d(x, w, value([0.5, 0], [2]), { groups: 2 }).data]).toEqual([10.5, 30]);
  });
});

import { describe, expect, it } from 'vitest';
import { gflopsPerSecond, median, microsecondsPerOp, summarize } from '../src/stats.js';

describe('median', () => {
  it('takes the middle sample of an odd count, whatever the order', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([7])).toBe(7);
  });

  it('averages the middle two of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('does not reorder its input', () => {
    const samples = [3, 1, 2];
    median(samples);
    expect(samples).toEqual([3, 1, 2]);
  });

  it('throws on no samples', () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('summarize', () => {
  it('reports median, min, max and count', () => {
    expect(summarize([2, 9, 4, 1, 5])).toEqual({ median: 4, min: 1, max: 9, count: 5 });
  });

  it('rejects empty and non-finite samples', () => {
    expect(() => summarize([])).toThrow(RangeError);
    expect(() => summarize([1, Number.NaN])).toThrow(/non-finite/);
  });
});

describe('derived rates', () => {
  it('computes GFLOP/s: a 512³ matmul (2·512³ flops) in 10 ms is 26.8 GFLOP/s', () => {
    expect(gflopsPerSecond(2 * 512 ** 3, 10)).toBeCloseTo(26.8435456, 6);
    expect(() => gflopsPerSecond(1, 0)).toThrow(RangeError);
  });

  it('computes µs per op: 10 000 ops in 20 ms is 2 µs/op', () => {
    expect(microsecondsPerOp(20, 10_000)).toBe(2);
    expect(() => microsecondsPerOp(1, 0)).toThrow(RangeError);
  });
});

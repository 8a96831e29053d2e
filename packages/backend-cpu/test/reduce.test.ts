import { describe, expect, it } from 'vitest';
import { cpuOps as ops, value } from './helpers/cpu_ops.js';
import { goldenTests } from './helpers/golden.js';

describe('reduce ops match PyTorch (golden)', () => {
  goldenTests('reduce');
});

describe('reduce ops: semantics beyond the goldens', () => {
  it('sums and multiplies int32 with wraparound (PyTorch gives int64; Kiln has none)', () => {
    const x = value([2 ** 31 - 1, 1], [2], 'int32');
    expect([...ops.sum(x).data]).toEqual([-(2 ** 31)]);
    expect([...ops.cumsum(x, 0).data]).toEqual([2 ** 31 - 1, -(2 ** 31)]);
    expect([...ops.prod(value([65536, 65537], [2], 'int32')).data]).toEqual([65536]);
  });

  it('reduces no axes for an empty list: the input itself, bool summed as int32', () => {
    const x = value([1, 2, 3, 4], [2, 2]);
    expect(ops.sum(x, [])).toBe(x);
    const b = ops.sum(value([1, 0], [2], 'bool'), []);
    expect(b.dtype).toBe('int32');
    expect([...b.data]).toEqual([1, 0]);
  });

  it('accumulates float32 sums in float64', () => {
    // Adding 1 to 2^24 in float32 rounds back to 2^24; the float64 running total does not.
    const x = value([2 ** 24, 1, 1, 1, 1], [5]);
    expect([...ops.sum(x).data]).toEqual([2 ** 24 + 4]);
    expect([...ops.cumsum(x, 0).data]).toEqual([2 ** 24, 2 ** 24, 2 ** 24 + 2, 2 ** 24 + 4, 2 ** 24 + 4]);
  });

  it('argmax returns the first NaN, and the first of tied maxima, over any axis', () => {
    const x = value([1, NaN, 5, NaN, 5, 0], [2, 3]);
    expect([...ops.argmax(x).data]).toEqual([1]);
    expect([...ops.argmax(x, 0).data]).toEqual([1, 0, 0]);
    expect([...ops.argmin(x, 1, true).data]).toEqual([1, 0]);
    expect(ops.argmin(x, 1, true).shape).toEqual([2, 1]);
  });

  it('logsumexp is exact for rows of -inf and finite for huge values', () => {
    const x = value([-Infinity, -Infinity, 1e4, 1e4], [2, 2], 'float64');
    const y = ops.logsumexp(x, -1);
    expect(y.data[0]).toBe(-Infinity);
    expect(y.data[1]).toBeCloseTo(1e4 + Math.LN2, 9);
  });
});

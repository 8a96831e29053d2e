import { ArgumentError } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import type { CpuValue } from './helpers/cpu_ops.js';
import { cpuOps as ops, value } from './helpers/cpu_ops.js';
import { goldenTests } from './helpers/golden.js';

describe('shape, slicing and index ops match PyTorch (golden)', () => {
  goldenTests('shaping');
});

const data = (v: CpuValue) => [...v.data];
const x23 = value([1, 2, 3, 4, 5, 6], [2, 3]);
const index = (values: number[], shape = [values.length]) => value(values, shape, 'int32');

/** The error `fn` throws, as `ClassName: message`. */
function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
  throw new Error('expected an error, got none');
}

describe('index values are checked when the kernel runs', () => {
  it('names the op, the axis, the bad index and the valid range', () => {
    expect(failure(() => ops.gather(x23, 1, index([0, 3], [2, 1])))).toMatchInlineSnapshot(`"ArgumentError: gather: index 3 is out of range for axis 1 of size 3 (x has shape [2,3]; valid indices are 0..2)"`);
    expect(failure(() => ops.gather(x23, 0, index([-1], [1, 1])))).toMatchInlineSnapshot(`"ArgumentError: gather: index -1 is out of range for axis 0 of size 2 (x has shape [2,3]; valid indices are 0..1)"`);
    expect(failure(() => ops.indexSelect(x23, -1, index([1, 5])))).toMatchInlineSnapshot(`"ArgumentError: indexSelect: index 5 is out of range for axis 1 of size 3 (x has shape [2,3]; valid indices are 0..2)"`);
    expect(failure(() => ops.take(x23, index([-7])))).toMatchInlineSnapshot(`"ArgumentError: take: index -7 is out of range for x of shape [2,3] with 6 elements (valid indices are -6..5)"`);
    expect(failure(() => ops.take(value([], [0]), index([0])))).toMatchInlineSnapshot(`"ArgumentError: take: index 0 is out of range for x of shape [0] with 0 elements (x is empty, so no index is valid)"`);
    expect(failure(() => ops.scatterAdd(x23, 0, index([2], [1, 1]), value([1], [1, 1])))).toMatchInlineSnapshot(`"ArgumentError: scatterAdd: index 2 is out of range for axis 0 of size 2 (x has shape [2,3]; valid indices are 0..1)"`);
    expect(() => ops.indexSelect(x23, 0, index([-1]))).toThrow(ArgumentError);
  });
});

describe('shape op semantics', () => {
  it('take counts negative indices from the end; the others reject them (as PyTorch)', () => {
    expect(data(ops.take(x23, index([-1, -6, 2])))).toEqual([6, 1, 3]);
  });

  it('scatterAdd returns a new tensor and leaves x alone', () => {
    const x = value([0, 0, 0], [3]);
    const y = ops.scatterAdd(x, 0, index([2, 2, 0]), value([1, 2, 3], [3]));
    expect(data(y)).toEqual([3, 0, 3]);
    expect(data(x)).toEqual([0, 0, 0]);
  });

  it('scatterAdd wraps int32 sums like PyTorch', () => {
    const y = ops.scatterAdd(value([2 ** 31 - 1], [1], 'int32'), 0, index([0]), value([1], [1], 'int32'));
    expect(data(y)).toEqual([-(2 ** 31)]);
  });

  it('gather and scatterAdd along each axis of [3,4,5], with index as wide as x (the row walk) or narrower, equal a naive loop', () => {
    const shape = [3, 4, 5];
    const xs = Array.from({ length: 60 }, (_, i) => ((i * 37) % 23) / 7 - 1.5);
    const x = value(xs, shape);
    for (let axis = 0; axis < 3; axis++) {
      for (const wide of [true, false]) {
        // Index of shape x's with axis of size 6 (duplicates), or narrower on another axis too.
        const ishape = shape.map((d, i) => (i === axis ? 6 : wide ? d : Math.max(1, d - 1)));
        const size = ishape.reduce((a, b) => a * b, 1);
        const ix = Array.from({ length: size }, (_, i) => (i * 7 + axis) % shape[axis]);
        const src = Array.from({ length: size }, (_, i) => ((i * 13) % 17) / 3 - 2);
        const expectGather: number[] = [];
        const expectScatter = Float32Array.from(xs);
        for (let i = 0; i < size; i++) {
          const c = [Math.floor(i / (ishape[1] * ishape[2])), Math.floor(i / ishape[2]) % ishape[1], i % ishape[2]];
          c[axis] = ix[i];
          const at = (c[0] * 4 + c[1]) * 5 + c[2];
          expectGather.push(Math.fround(xs[at]));
          expectScatter[at] += Math.fround(src[i]);
        }
        expect(data(ops.gather(x, axis, index(ix, ishape)))).toEqual(expectGather);
        expect(data(ops.scatterAdd(x, axis, index(ix, ishape), value(src, ishape)))).toEqual([...expectScatter]);
      }
    }
  });

  it('slice walks backwards with negative steps and clamps like Python', () => {
    const x = value([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [10]);
    expect(data(ops.slice(x, [[null, null, -3]]))).toEqual([9, 6, 3, 0]);
    expect(data(ops.slice(x, [[-3, 100]]))).toEqual([7, 8, 9]);
    expect(data(ops.slice(x, [[100, -100, -4]]))).toEqual([9, 5, 1]);
    expect(data(ops.slice(x, [[2, 2]]))).toEqual([]);
  });

  it('flip twice is the identity; split pieces concat back to x', () => {
    const x = value([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [3, 4]);
    expect(data(ops.flip(ops.flip(x, [0, 1]), [-1, -2]))).toEqual(data(x));
    const pieces = ops.split(x, [1, 0, 3], 1);
    expect(pieces.map((p) => p.shape)).toEqual([[3, 1], [3, 0], [3, 3]]);
    expect(data(ops.concat(pieces, 1))).toEqual(data(x));
  });

  it('pad casts the fill value to the dtype: int32 truncates, bool is truthiness', () => {
    expect(data(ops.pad(value([5], [1], 'int32'), [1, 1], -2.9))).toEqual([-2, 5, -2]);
    expect(data(ops.pad(value([0], [1], 'bool'), [0, 1], 0.5))).toEqual([0, 1]);
  });

  it('oneHot gives an all-zero row for an out-of-range class (PyTorch throws; see deviations-shaping.md)', () => {
    const y = ops.oneHot(index([1, 3, -1]), 3);
    expect(y.dtype).toBe('int32');
    expect(data(y)).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('ops that change nothing return their input without running a kernel', () => {
    expect(ops.transpose(x23, 1, -1)).toBe(x23);
    expect(ops.squeeze(x23)).toBe(x23);
    expect(ops.pad(x23, [0, 0, 0, 0])).toBe(x23);
    expect(ops.slice(x23, [null, [0, 3, 1]])).toBe(x23);
    expect(ops.concat([x23], 1)).toBe(x23);
    expect(ops.broadcastTo(x23, [-1, 3])).toBe(x23);
    expect(ops.flip(x23, [])).toBe(x23);
  });
});

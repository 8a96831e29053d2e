import { ArgumentError, ShapeError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { arange, manualSeed, memory, tensor } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { batches, permutation, trainTestSplit } from '../src/index.js';
import { settleGarbage } from './helpers/settle.js';

/** x: rows [i, 10i] (float32); y: i (int32) — so a batch's x and y rows can be matched. */
function rows(n: number): [Tensor, Tensor] {
  const x = tensor(Array.from({ length: n }, (_, i) => [i, 10 * i]), 'float32');
  return [x, arange(n).cast('int32')];
}

function collect(n: number, options: Parameters<typeof batches>[1]): number[][] {
  const [x, y] = rows(n);
  const out: number[][] = [];
  for (const [xb, yb] of batches([x, y], options)) {
    const ids = yb.toArray() as number[];
    expect(xb.toArray()).toEqual(ids.map((i) => [i, 10 * i])); // the same rows from each tensor
    out.push(ids);
  }
  return out;
}

describe('batches', () => {
  it('slices in order without shuffle; the last batch may be short', () => {
    expect(collect(7, { batchSize: 3 })).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(collect(7, { batchSize: 3, dropLast: true })).toEqual([[0, 1, 2], [3, 4, 5]]);
    expect(collect(6, { batchSize: 3, dropLast: true })).toEqual([[0, 1, 2], [3, 4, 5]]);
    expect(collect(2, { batchSize: 5, dropLast: true })).toEqual([]);
  });

  it('shuffles every row exactly once, the same way for the same seed', () => {
    const a = collect(23, { batchSize: 4, shuffle: true, seed: 5 });
    expect(a.flat().sort((p, q) => p - q)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(a.map((b) => b.length)).toEqual([4, 4, 4, 4, 4, 3]);
    expect(collect(23, { batchSize: 4, shuffle: true, seed: 5 })).toEqual(a);
    expect(collect(23, { batchSize: 4, shuffle: true, seed: 6 })).not.toEqual(a);
    expect(a.flat()).not.toEqual(Array.from({ length: 23 }, (_, i) => i));
  });

  it('without a seed, draws from the global generator: manualSeed reproduces, epochs differ', () => {
    manualSeed(3);
    const e1 = collect(12, { batchSize: 12, shuffle: true });
    const e2 = collect(12, { batchSize: 12, shuffle: true });
    manualSeed(3);
    expect(collect(12, { batchSize: 12, shuffle: true })).toEqual(e1);
    expect(e2).not.toEqual(e1);
  });

  it('disposes each batch when the loop moves on or breaks, unless dispose: false', async () => {
    const [x, y] = rows(10);
    await settleGarbage();
    const before = memory().numTensors;
    const seen: Tensor[] = [];
    for (const batch of batches([x, y], { batchSize: 3 })) {
      seen.push(...batch);
      expect(memory().numTensors).toBe(before + 2);
      if (seen.length === 4) break;
    }
    expect(memory().numTensors).toBe(before);
    expect(seen.every((t) => t.isDisposed)).toBe(true);
    const owned = [...batches([x], { batchSize: 4, dispose: false })].map(([t]) => t);
    expect(owned.map((t) => t.shape[0])).toEqual([4, 4, 2]);
    expect(memory().numTensors).toBe(before + 3);
    owned.forEach((t) => t.dispose());
  });

  it('rejects mismatched rows, scalars, bad batch sizes and non-tensors', () => {
    const [x] = rows(4);
    expect(() => [...batches([x, arange(5)], { batchSize: 2 })]).toThrowError(ShapeError);
    expect(() => [...batches([x, arange(5)], { batchSize: 2 })]).toThrowError(/batches: tensor 1 has shape \[5\] but tensor 0 has 4 rows; every tensor needs the same first dimension/);
    expect(() => [...batches([tensor(1)], { batchSize: 2 })]).toThrowError(/tensor 0 is a scalar/);
    expect(() => [...batches([x], { batchSize: 0 })]).toThrowError(/batchSize must be a positive integer, got 0/);
    expect(() => [...batches([x], { batchSize: 2, shuffle: true, seed: 1.5 })]).toThrowError(/seed must be an integer, got 1.5/);
    expect(() => [...batches([[1, 2]] as never, { batchSize: 1 })]).toThrowError(ArgumentError);
    expect(() => [...batches([] as never, { batchSize: 1 })]).toThrowError(/expected a non-empty array of tensors/);
  });
});

describe('trainTestSplit', () => {
  it('splits into ceil(fraction·n) test rows, disjoint and complete, consistently across tensors', () => {
    const [x, y] = rows(10);
    const { train: [trX, trY], test: [teX, teY] } = trainTestSplit([x, y], { testFraction: 0.25, seed: 1 });
    expect(teY.shape).toEqual([3]);
    expect(trY.shape).toEqual([7]);
    const ids = [...(trY.toArray() as number[]), ...(teY.toArray() as number[])];
    expect([...ids].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(trX.toArray()).toEqual((trY.toArray() as number[]).map((i) => [i, 10 * i]));
    expect(teX.toArray()).toEqual((teY.toArray() as number[]).map((i) => [i, 10 * i]));
    const again = trainTestSplit([y], { testFraction: 0.25, seed: 1 });
    expect(again.test[0].toArray()).toEqual(teY.toArray());
  });

  it('without shuffle the test part is the last rows', () => {
    const [, y] = rows(5);
    const { train, test } = trainTestSplit([y], { testFraction: 0.4, shuffle: false });
    expect(train[0].toArray()).toEqual([0, 1, 2]);
    expect(test[0].toArray()).toEqual([3, 4]);
  });

  it('rejects fractions outside (0, 1) and splits with no training rows', () => {
    const [, y] = rows(3);
    expect(() => trainTestSplit([y], { testFraction: 1 })).toThrowError(/testFraction must be a number in \(0, 1\), got 1/);
    expect(() => trainTestSplit([y], { testFraction: 0.9 })).toThrowError(/testFraction 0.9 of 3 rows leaves no training rows/);
  });
});

describe('permutation', () => {
  it('is a permutation, and roughly uniform: each value visits each position about equally', () => {
    const n = 5;
    const trials = 4000;
    const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    for (let t = 0; t < trials; t++) {
      const p = permutation(n, [t, 1]);
      expect([...p].sort()).toEqual([0, 1, 2, 3, 4]);
      p.forEach((v, pos) => counts[v][pos]++);
    }
    // Expected 800 per cell; a binomial standard deviation is ~25, so ±150 is a loose 6σ bound.
    for (const row of counts) for (const c of row) expect(Math.abs(c - trials / n)).toBeLessThan(150);
  });
});

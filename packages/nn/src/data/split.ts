import type { Tensor } from '@kiln/eager';
import { indexSelect, tensor, tidy } from '@kiln/eager';
import { ArgumentError } from '@kiln/core';
import type { Batch } from './batches.js';
import { checkRows } from './batches.js';
import { permutation, shuffleKey } from './permutation.js';

/** Options of {@link trainTestSplit}. */
export interface SplitOptions {
  /** Fraction of the rows in the test part, in (0, 1): the test part gets ceil(fraction · rows). */
  testFraction: number;
  /** Seed of the shuffle; without one a seed is drawn from the global generator (see manualSeed). */
  seed?: number;
  /** Shuffle before splitting (default true); false takes the last rows as the test part. */
  shuffle?: boolean;
}

/**
 * Splits the rows of one or more tensors (the same rows from each) into a train and a test
 * part, after a seeded shuffle, like scikit-learn's `train_test_split` (the test part has
 * `ceil(testFraction · rows)` rows). The results are new tensors; the inputs are untouched.
 *
 * @example
 * ```ts
 * const { train: [trainX, trainY], test: [testX, testY] } = trainTestSplit([x, y], { testFraction: 0.2, seed: 0 });
 * ```
 */
export function trainTestSplit<T extends readonly Tensor[]>(tensors: T, options: SplitOptions): { train: Batch<T>; test: Batch<T> } {
  const rows = checkRows('trainTestSplit', tensors);
  const { testFraction, shuffle = true } = options ?? ({} as SplitOptions);
  if (typeof testFraction !== 'number' || !(testFraction > 0 && testFraction < 1)) {
    throw new ArgumentError(`trainTestSplit: testFraction must be a number in (0, 1), got ${JSON.stringify(testFraction)}`);
  }
  const nTest = Math.ceil(testFraction * rows);
  if (nTest >= rows) throw new ArgumentError(`trainTestSplit: testFraction ${testFraction} of ${rows} rows leaves no training rows`);
  let order: Int32Array;
  if (shuffle) order = permutation(rows, shuffleKey('trainTestSplit', options.seed));
  else order = Int32Array.from({ length: rows }, (_, i) => i);
  const part = (from: number, to: number) =>
    tidy(() => {
      const index = tensor(order.subarray(from, to), { dtype: 'int32', shape: [to - from] });
      return tensors.map((t) => indexSelect(t, 0, index));
    }) as Batch<T>;
  return { train: part(0, rows - nTest), test: part(rows - nTest, rows) };
}

import type { Tensor } from '@kiln/eager';
import { Tensor as TensorClass, indexSelect, slice, tensor, tidy } from '@kiln/eager';
import { ArgumentError, ShapeError, shapeToString } from '@kiln/core';
import { permutation, shuffleKey } from './permutation.js';

/** Options of {@link batches}. */
export interface BatchOptions {
  /** Rows per batch (a positive integer). */
  batchSize: number;
  /** Visit the rows in a random order (default false). */
  shuffle?: boolean;
  /**
   * Seed of the shuffle. Without one, each call draws a fresh seed from the global generator
   * (reproducible after `manualSeed`), so successive epochs see different orders.
   */
  seed?: number;
  /** Skip the last batch when it has fewer than `batchSize` rows (default false). */
  dropLast?: boolean;
  /**
   * Dispose each batch's tensors when the iteration moves on (and when the loop ends or
   * breaks), so a training loop leaks nothing (default true). Set false to own them yourself.
   */
  dispose?: boolean;
}

/** One tensor per input tensor. */
export type Batch<T extends readonly Tensor[]> = { -readonly [K in keyof T]: Tensor };

/** Checks the tensors share their first dimension; returns it. */
export function checkRows(where: string, tensors: readonly unknown[]): number {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new ArgumentError(`${where}: expected a non-empty array of tensors, e.g. [x, y]`);
  tensors.forEach((t, i) => {
    if (!(t instanceof TensorClass)) throw new ArgumentError(`${where}: item ${i} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
    if (t.rank === 0) throw new ShapeError(`${where}: tensor ${i} is a scalar; each tensor needs a first (row) dimension`);
  });
  const rows = (tensors[0] as Tensor).shape[0];
  (tensors as Tensor[]).forEach((t, i) => {
    if (t.shape[0] !== rows) {
      throw new ShapeError(`${where}: tensor ${i} has shape ${shapeToString(t.shape)} but tensor 0 has ${rows} rows; every tensor needs the same first dimension`);
    }
  });
  return rows;
}

/**
 * Iterates over mini-batches of rows (slices along the first dimension) of one or more tensors
 * with the same number of rows, taking the same rows from each: `[x, y]` gives `[xBatch,
 * yBatch]` pairs. With `shuffle`, the rows are visited in a seeded random order.
 *
 * By default each batch's tensors are disposed when the loop moves to the next batch (or
 * ends): use them inside the loop body, and copy what you want to keep (`add(t, 0)`).
 *
 * @example
 * ```ts
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   for (const [x, y] of batches([trainX, trainY], { batchSize: 32, shuffle: true })) {
 *     tidy(() => { crossEntropy(model.forward(x), y).backward(); opt.step(); });
 *     opt.zeroGrad();
 *   }
 * }
 * ```
 */
export function* batches<T extends readonly Tensor[]>(tensors: T, options: BatchOptions): Generator<Batch<T>, void, undefined> {
  const rows = checkRows('batches', tensors);
  const { batchSize, shuffle = false, dropLast = false, dispose = true } = options ?? ({} as BatchOptions);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError(`batches: batchSize must be a positive integer, got ${JSON.stringify(batchSize)}`);
  const order = shuffle ? permutation(rows, shuffleKey('batches', options.seed)) : null;
  const end = dropLast ? rows - (rows % batchSize) : rows;
  for (let start = 0; start < end; start += batchSize) {
    const stop = Math.min(start + batchSize, end);
    const batch = tidy(() => {
      if (!order) return tensors.map((t) => slice(t, [[start, stop]]));
      const index = tensor(order.subarray(start, stop), { dtype: 'int32', shape: [stop - start] });
      return tensors.map((t) => indexSelect(t, 0, index));
    }) as Batch<T>;
    try {
      yield batch;
    } finally {
      if (dispose) for (const t of batch) t.dispose();
    }
  }
}

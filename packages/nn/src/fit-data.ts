import { ArgumentError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import type { Batch, BatchOptions } from './data/batches.js';
import { batches, checkRows } from './data/batches.js';

/**
 * A re-iterable source of mini-batches, like PyTorch's `DataLoader` over tensors: each
 * `for … of` is one epoch through {@link batches} (reshuffled when `shuffle` is set), and
 * `length` is the number of batches per epoch — so `fit` knows the epoch's length up front
 * (progress ETA, checkpoints at epoch boundaries).
 *
 * @example
 * ```ts
 * const train = new DataLoader([trainX, trainY], { batchSize: 32, shuffle: true });
 * train.length;                       // batches per epoch
 * for (const [xb, yb] of train) { … } // one epoch; batches are disposed as the loop moves on
 * ```
 */
export class DataLoader<T extends readonly Tensor[]> implements Iterable<Batch<T>> {
  /** Batches per epoch. */
  readonly length: number;

  constructor(readonly tensors: T, readonly options: BatchOptions) {
    const rows = checkRows('DataLoader', tensors);
    const size = options?.batchSize;
    if (!Number.isInteger(size) || size < 1) throw new ArgumentError(`DataLoader: batchSize must be a positive integer, got ${JSON.stringify(size)}`);
    this.length = options.dropLast ? Math.floor(rows / size) : Math.ceil(rows / size);
  }

  [Symbol.iterator](): Iterator<Batch<T>> {
    return batches(this.tensors, this.options);
  }
}

import { ArgumentError } from '@kiln/core';

/** The global generator's state: a seed and the next stream (one stream per random op call). */
export interface RngState {
  readonly seed: number;
  readonly stream: number;
}

let seed = 0;
let stream = 0;

/**
 * Seeds the global generator. Random ops draw from a counter-based generator (Philox): the
 * numbers depend only on (seed, stream, element index), so they are the same on every backend
 * and in compiled code. Each random op call takes the next stream.
 *
 * @example
 * ```ts
 * manualSeed(42);
 * const a = rand([3]);
 * manualSeed(42);
 * const b = rand([3]); // same numbers as a
 * ```
 */
export function manualSeed(value: number): void {
  if (!Number.isSafeInteger(value)) throw new ArgumentError(`manualSeed: seed must be an integer, got ${value}`);
  seed = value | 0;
  stream = 0;
}

/** The generator state (to save and restore it). */
export function getRngState(): RngState {
  return { seed, stream };
}

export function setRngState(state: RngState): void {
  seed = state.seed | 0;
  stream = state.stream | 0;
}

/** @internal Returns [seed, stream] for the next random op and advances the stream. */
export function nextKey(): Int32Array {
  return Int32Array.of(seed, stream++);
}

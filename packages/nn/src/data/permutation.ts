import { ArgumentError, philoxWords } from '@kiln/core';
import { getRngState, setRngState } from '@kiln/eager';

/**
 * A seed for a shuffle: the one given, or (when undefined) one drawn from the global
 * generator, so `manualSeed` makes unseeded shuffles reproducible and each call differs.
 * Returns the Philox key [seed, stream].
 */
export function shuffleKey(where: string, seed: number | undefined): [number, number] {
  if (seed !== undefined) {
    if (!Number.isSafeInteger(seed)) throw new ArgumentError(`${where}: seed must be an integer, got ${JSON.stringify(seed)}`);
    // A stream far from the ones random ops take, so seed s here and manualSeed(s) differ.
    return [seed | 0, 0x7f4a7c15];
  }
  const state = getRngState();
  setRngState({ seed: state.seed, stream: state.stream + 1 });
  return [state.seed, state.stream];
}

/**
 * A uniformly random permutation of 0..n-1 (Fisher–Yates driven by Philox words), the same on
 * every machine for the same key.
 *
 * @example
 * ```ts
 * permutation(5, [42, 0]); // Int32Array of 0..4 in a fixed shuffled order
 * ```
 */
export function permutation(n: number, key: readonly [number, number]): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const words = philoxWords(key, Math.max(n, 1));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor((words[i] / 2 ** 32) * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

import { ArgumentError } from '@kiln/core';

/** Throws an ArgumentError unless each named option is a number ≥ 0. */
export function checkNonNegative(optimizer: string, where: string, options: Readonly<Record<string, unknown>>, keys: readonly string[]): void {
  for (const key of keys) {
    const v = options[key];
    if (typeof v !== 'number' || !(v >= 0)) throw new ArgumentError(`${optimizer}: ${key} must be a number ≥ 0, got ${JSON.stringify(v)} in ${where}`);
  }
}

/** Throws an ArgumentError unless `betas` is a pair of numbers in [0, 1). */
export function checkBetas(optimizer: string, where: string, betas: unknown): void {
  const ok = Array.isArray(betas) && betas.length === 2 && betas.every((b) => typeof b === 'number' && b >= 0 && b < 1);
  if (!ok) throw new ArgumentError(`${optimizer}: betas must be a pair of numbers in [0, 1), got ${JSON.stringify(betas)} in ${where}`);
}

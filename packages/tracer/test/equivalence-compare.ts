/**
 * Comparing a compiled result with the eager one: same dtype and shape, then the values —
 * exactly for integers, booleans and values no op has rounded, within a tolerance scaled to the
 * tensor's magnitude for the rest (a compiled graph may round differently: fused kernels, folded
 * constants, reordered sums). NaN must be NaN in both, ±Infinity equal.
 */
import type { Tensor } from '@kiln/eager';
import { expect } from 'vitest';

export interface Tolerance {
  readonly rtol: number;
  /** Absolute tolerance, multiplied by max(1, the largest finite |value| of the eager tensor). */
  readonly atol: number;
}

export const FLOAT32: Tolerance = { rtol: 1e-4, atol: 1e-5 };
export const FLOAT64: Tolerance = { rtol: 1e-9, atol: 1e-12 };

/** Where the first difference is, or undefined when `got` matches `want`. */
export function firstDifference(got: Tensor, want: Tensor, exact: boolean, tol?: Tolerance): string | undefined {
  if (got.dtype !== want.dtype) return `dtype ${got.dtype}, eager ${want.dtype}`;
  if (got.shape.join(',') !== want.shape.join(',')) return `shape [${got.shape}], eager [${want.shape}]`;
  const a = got.dataSync();
  const b = want.dataSync();
  const floating = want.dtype === 'float32' || want.dtype === 'float64';
  const t = tol ?? (want.dtype === 'float64' ? FLOAT64 : FLOAT32);
  let scale = 1;
  for (let i = 0; i < b.length; i++) if (Number.isFinite(b[i])) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) {
    const x = a[i];
    const y = b[i];
    if (Number.isNaN(y) || Number.isNaN(x)) {
      if (Number.isNaN(y) !== Number.isNaN(x)) return `element ${i}: ${x}, eager ${y}`;
      continue;
    }
    if (x === y) continue;
    if (exact || !floating || !Number.isFinite(y) || !Number.isFinite(x)) return `element ${i}: ${x}, eager ${y} (exact comparison)`;
    if (Math.abs(x - y) > t.atol * scale + t.rtol * Math.abs(y)) return `element ${i}: ${x}, eager ${y} (|diff| ${Math.abs(x - y)})`;
  }
  return undefined;
}

/** Asserts that every compiled tensor matches its eager counterpart, naming the first that does not. */
export function expectSameTensors(got: readonly Tensor[], want: readonly Tensor[], exact: readonly boolean[] = [], what = 'value', tol?: Tolerance): void {
  expect(got.length, `number of ${what}s`).toBe(want.length);
  got.forEach((g, i) => {
    const diff = firstDifference(g, want[i], exact[i] ?? false, tol);
    expect(diff, `${what} ${i} (${want[i].dtype}[${want[i].shape}])`).toBeUndefined();
  });
}

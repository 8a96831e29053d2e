import { readFileSync } from 'node:fs';
import type { DType } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { tensor } from '@kiln/eager';
import { expect } from 'vitest';

/** Reads packages/nn/test/golden/nn_losses_optim.json (scripts/golden/gen_nn_losses_optim.py). */

export type Num = number | 'nan' | 'inf' | '-inf';
export interface EncodedTensor { dtype: DType; shape: number[]; data: Num[] }

export const decodeNum = (v: Num): number => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);

/** A golden tensor as an eager tensor. */
export function decode(t: EncodedTensor): Tensor {
  return tensor(t.data.map(decodeNum), { dtype: t.dtype, shape: t.shape });
}

let cached: { kind: string }[] | undefined;

/** The cases of one kind ('loss', 'optim', 'scheduler', 'clip'). */
export function loadCases<T>(kind: string): T[] {
  cached ??= JSON.parse(readFileSync(new URL('../golden/nn_losses_optim.json', import.meta.url), 'utf8')).cases as { kind: string }[];
  return cached.filter((c) => c.kind === kind) as T[];
}

/** Default tolerances per dtype: float32 results may differ from PyTorch's in the last bits. */
export function tolerances(dtype: DType): { rtol: number; atol: number } {
  return dtype === 'float64' ? { rtol: 1e-10, atol: 1e-12 } : { rtol: 2e-5, atol: 2e-6 };
}

/** Asserts `actual` matches the golden tensor in dtype, shape and values (NaN matches NaN). */
export function expectClose(actual: Tensor, expected: EncodedTensor, rtol?: number, atol?: number, what = 'values'): void {
  expect(actual.dtype, `${what}: dtype`).toBe(expected.dtype);
  expect([...actual.shape], `${what}: shape`).toEqual(expected.shape);
  const tol = tolerances(expected.dtype);
  const rt = rtol ?? tol.rtol;
  const at = atol ?? tol.atol;
  const got = actual.dataSync();
  const want = expected.data.map(decodeNum);
  const bad: string[] = [];
  want.forEach((y, i) => {
    const x = got[i];
    const ok = Number.isNaN(y) ? Number.isNaN(x) : !Number.isFinite(y) ? x === y : Math.abs(x - y) <= at + rt * Math.abs(y);
    if (!ok && bad.length < 5) bad.push(`[${i}] got ${x}, want ${y}`);
  });
  expect(bad, `${what}: mismatches (rtol ${rt}, atol ${at})`).toEqual([]);
}

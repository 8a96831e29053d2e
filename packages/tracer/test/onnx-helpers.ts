/**
 * Running exported ONNX models in onnxruntime-node and comparing their outputs with Kiln's.
 */
import type { DType } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';

const ORT_TYPE: Record<DType, ort.Tensor.Type> = { float32: 'float32', float64: 'float64', int32: 'int32', bool: 'bool' };

/** A Kiln tensor as an onnxruntime tensor (bool as 0/1 bytes). */
export function toOrt(t: Tensor): ort.Tensor {
  const data = t.dataSync();
  return new ort.Tensor(ORT_TYPE[t.dtype], t.dtype === 'bool' ? Uint8Array.from(data as Uint8Array) : data.slice(), [...t.shape]);
}

export interface OrtResult {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: ArrayLike<number | boolean>;
}

/** Loads `bytes` in onnxruntime (CPU) and runs it on `inputs`, fed by name; outputs in the model's order. */
export async function runOnnx(bytes: Uint8Array, inputs: Readonly<Record<string, Tensor>>): Promise<OrtResult[]> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  try {
    const feeds = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, toOrt(t)]));
    const out = await session.run(feeds);
    return session.outputNames.map((name) => {
      const t = out[name];
      return { type: t.type, dims: t.dims, data: t.data as ArrayLike<number | boolean> };
    });
  } finally {
    await session.release();
  }
}

export interface Tolerance {
  readonly rtol?: number;
  readonly atol?: number;
}

/** The index and values of the first element of `got` outside tolerance of `want` (NaN matches NaN), or undefined. */
export function firstMismatch(got: ArrayLike<number | boolean>, want: ArrayLike<number | boolean>, { rtol = 1e-5, atol = 1e-6 }: Tolerance = {}): string | undefined {
  if (got.length !== want.length) return `length ${got.length} vs ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const a = Number(got[i]);
    const b = Number(want[i]);
    if (Number.isNaN(a) && Number.isNaN(b)) continue;
    if (a === b) continue;
    if (Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) <= atol + rtol * Math.abs(b)) continue;
    return `element ${i}: onnxruntime ${a}, kiln ${b}`;
  }
  return undefined;
}

/** Asserts that an onnxruntime output equals a Kiln tensor: dtype, shape, and values within tolerance. */
export function expectOrtMatches(got: OrtResult, want: Tensor, tol: Tolerance = {}, what = 'output'): void {
  expect(got.type, `${what} dtype`).toBe(ORT_TYPE[want.dtype]);
  expect([...got.dims], `${what} shape`).toEqual([...want.shape]);
  expect(firstMismatch(got.data, want.dataSync(), tol), what).toBeUndefined();
}

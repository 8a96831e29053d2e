import { readFileSync } from 'node:fs';
import type { DType } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { tensor } from '@kiln/eager';
import { expect } from 'vitest';

type Num = number | 'nan' | 'inf' | '-inf';
export interface EncodedTensor { dtype: DType; shape: number[]; data: Num[] }
export type Ref = { ref: number };

/** One layer call recorded by scripts/golden/gen_nn_layers.py. */
export interface LayerCase {
  name: string;
  layer: string;
  args: unknown[];
  options: Record<string, unknown> | null;
  train: boolean;
  forward: 'unary' | 'mha' | 'encoder';
  forwardOptions: Record<string, unknown>;
  state: Record<string, EncodedTensor>;
  inputs: EncodedTensor[];
  outputs: EncodedTensor[];
  cotangents: EncodedTensor[];
  inputGrads: (EncodedTensor | null)[];
  paramGrads: Record<string, EncodedTensor>;
  stateAfter: Record<string, EncodedTensor>;
  rtol: number;
  atol: number;
}

const decodeNum = (v: Num): number => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);

export function decode(t: EncodedTensor): Tensor {
  const values = t.data.map(decodeNum);
  return tensor(t.dtype === 'bool' ? values.map((v) => v !== 0) : values, { dtype: t.dtype, shape: t.shape });
}

export function loadCases(file: string): LayerCase[] {
  return JSON.parse(readFileSync(new URL(`../golden/${file}`, import.meta.url), 'utf8')).cases as LayerCase[];
}

/** PyTorch's state-dict name in Kiln's camelCase: 'self_attn.in_proj_weight' → 'selfAttn.inProjWeight'. */
export function camelKey(name: string): string {
  return name.split('.').map((part) => part.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())).join('.');
}

export const isRef = (v: unknown): v is Ref => typeof v === 'object' && v !== null && 'ref' in v;

/** Asserts dtype, shape and values (NaN matches NaN, ±Inf exactly). */
export function expectClose(actual: Tensor, expected: EncodedTensor, rtol: number, atol: number, what: string): void {
  expect(actual.dtype, `${what} dtype`).toBe(expected.dtype);
  expect([...actual.shape], `${what} shape`).toEqual(expected.shape);
  const got = actual.dataSync();
  const want = expected.data.map(decodeNum);
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const x = got[i];
    const y = want[i];
    const ok = Number.isNaN(y) ? Number.isNaN(x) : !Number.isFinite(y) ? x === y : Math.abs(x - y) <= atol + rtol * Math.abs(y);
    if (!ok && bad.length < 5) bad.push(`[${i}] got ${x}, want ${y}`);
  }
  expect(bad, `${what}: mismatches (rtol ${rtol}, atol ${atol})`).toEqual([]);
}

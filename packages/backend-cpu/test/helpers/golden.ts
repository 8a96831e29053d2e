import { readFileSync } from 'node:fs';
import type { DType, Ops } from '@kiln/core';
import { expect, it } from 'vitest';
import type { CpuValue } from './cpu_ops.js';
import { cpuOps, value } from './cpu_ops.js';

type Num = number | 'nan' | 'inf' | '-inf';
interface EncodedTensor { dtype: DType; shape: number[]; data: Num[] }
type Arg = { ref: number; permute?: number[] } | Arg[] | number | string | boolean | null;
export interface GoldenCase {
  op: string;
  name: string;
  inputs: EncodedTensor[];
  args: Arg[];
  outputs: EncodedTensor[];
  rtol?: number;
  atol?: number;
}

const decodeNum = (v: Num): number => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);

export function decode(t: EncodedTensor): CpuValue {
  return value(t.data.map(decodeNum), t.shape, t.dtype);
}

export function loadGolden(group: string): GoldenCase[] {
  const url = new URL(`../golden/${group}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')).cases as GoldenCase[];
}

function isRef(a: Arg): a is { ref: number; permute?: number[] } {
  return typeof a === 'object' && a !== null && !Array.isArray(a) && 'ref' in a;
}

function resolve(args: Arg[], inputs: CpuValue[]): unknown[] {
  return args.map((a) => {
    if (isRef(a)) {
      const x = inputs[a.ref];
      return a.permute ? (cpuOps as any).permute(x, a.permute) : x;
    }
    if (Array.isArray(a) && a.some(isRef)) return resolve(a, inputs);
    if (typeof a === 'string' && (a === 'nan' || a === 'inf' || a === '-inf')) return decodeNum(a);
    return a;
  });
}

const DEFAULT_TOL: Record<DType, [number, number]> = {
  float32: [1e-5, 1e-6],
  float64: [1e-10, 1e-12],
  int32: [0, 0],
  bool: [0, 0],
};

/** Asserts `actual` matches `expected` in dtype, shape and values (NaN matches NaN, ±Inf exactly). */
export function expectClose(actual: CpuValue, expected: EncodedTensor, rtol?: number, atol?: number): void {
  expect(actual.dtype).toBe(expected.dtype);
  expect([...actual.shape]).toEqual(expected.shape);
  const [r, a] = DEFAULT_TOL[expected.dtype];
  const rt = rtol ?? r;
  const at = atol ?? a;
  const want = expected.data.map(decodeNum);
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const x = actual.data[i];
    const y = want[i];
    const ok = Number.isNaN(y) ? Number.isNaN(x) : !Number.isFinite(y) ? x === y : Math.abs(x - y) <= at + rt * Math.abs(y);
    if (!ok && bad.length < 5) bad.push(`[${i}] got ${x}, want ${y}`);
  }
  expect(bad, `mismatches (rtol ${rt}, atol ${at})`).toEqual([]);
}

/** Registers one vitest case per golden case of `group` (ops filtered by `only` if given). */
export function goldenTests(group: string, only?: (c: GoldenCase) => boolean): void {
  for (const c of loadGolden(group).filter(only ?? (() => true))) {
    it(`${c.op}: ${c.name}`, () => {
      const fn = (cpuOps as unknown as Record<string, (...a: unknown[]) => unknown>)[c.op] as ((...a: unknown[]) => unknown) | undefined;
      expect(fn, `op-surface function ${c.op}`).toBeTypeOf('function');
      const result = fn!(...resolve(c.args, c.inputs.map(decode)));
      const outs = (Array.isArray(result) ? result : [result]) as CpuValue[];
      expect(outs.length).toBe(c.outputs.length);
      outs.forEach((o, i) => expectClose(o, c.outputs[i], c.rtol, c.atol));
    });
  }
}

export type { Ops };

import fc from 'fast-check';
import { createOps, sizeOf, typeInterpreter } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { cpuOps, value } from './helpers/cpu_ops.js';

// Shape rules checked against independent models on random inputs, and against what the CPU
// kernels actually produce.
const typeOps = createOps(typeInterpreter);
const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 4 });
const iota = (shape: number[]) => value(Array.from({ length: sizeOf(shape) }, (_, i) => i), shape, 'float32');

describe('shape rules (property tests)', () => {
  it('sum over any axes with keepdims: rank and sizes follow the rule', () => {
    fc.assert(
      fc.property(shapeArb, fc.boolean(), fc.infiniteStream(fc.boolean()), (shape, keepdims, picks) => {
        const axes = shape.map((_, i) => i).filter(() => picks.next().value);
        const t = typeOps.sum({ dtype: 'float32', shape }, axes, keepdims);
        const want = keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
        const real = cpuOps.sum(iota(shape), axes, keepdims);
        expect([...t.shape]).toEqual(want);
        expect([...real.shape]).toEqual(want);
        expect(real.data.length).toBe(sizeOf(want));
      }),
    );
  });

  it('permute then the inverse permutation restores the tensor', () => {
    fc.assert(
      fc.property(shapeArb.chain((s) => fc.tuple(fc.constant(s), fc.shuffledSubarray(s.map((_, i) => i), { minLength: s.length }))), ([shape, perm]) => {
        const inverse = perm.map((_, i) => perm.indexOf(i));
        const x = iota(shape);
        const y = cpuOps.permute(cpuOps.permute(x, perm), inverse);
        expect([...y.shape]).toEqual(shape);
        expect(Array.from(y.data)).toEqual(Array.from(x.data));
      }),
    );
  });

  it('reshape with -1 infers the missing size and keeps the elements', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }), fc.nat(), (shape, k) => {
        const i = k % shape.length;
        const request = shape.map((d, j) => (j === i ? -1 : d));
        const y = cpuOps.reshape(iota([sizeOf(shape)]), request);
        expect([...y.shape]).toEqual(shape);
      }),
    );
  });

  it('matmul broadcasts batch dimensions like NumPy', () => {
    const dim = fc.integer({ min: 1, max: 3 });
    fc.assert(
      fc.property(fc.array(fc.constantFrom(1, 2), { maxLength: 2 }), fc.array(fc.constantFrom(1, 2), { maxLength: 2 }), dim, dim, dim, (ba, bb, n, k, m) => {
        const t = typeOps.matmul({ dtype: 'float32', shape: [...ba, n, k] }, { dtype: 'float32', shape: [...bb, k, m] });
        const rank = Math.max(ba.length, bb.length);
        const pa = [...new Array(rank - ba.length).fill(1), ...ba];
        const pb = [...new Array(rank - bb.length).fill(1), ...bb];
        expect([...t.shape]).toEqual([...pa.map((d, i) => Math.max(d, pb[i])), n, m]);
      }),
    );
  });

  it('1-D slices follow Python slicing semantics', () => {
    const bound = fc.option(fc.integer({ min: -8, max: 8 }), { nil: null });
    const step = fc.option(fc.integer({ min: -3, max: 3 }).filter((s) => s !== 0), { nil: null });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), bound, bound, step, (n, start, end, st) => {
        const got = Array.from(cpuOps.slice(iota([n]), [[start, end, st]]).data);
        expect(got).toEqual(pythonSlice(Array.from({ length: n }, (_, i) => i), start, end, st));
      }),
    );
  });

  it('concat sizes add along the axis', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }), (sizes) => {
        const parts = sizes.map((s) => iota([2, s]));
        const y = cpuOps.concat(parts, 1);
        expect([...y.shape]).toEqual([2, sizes.reduce((a, b) => a + b, 0)]);
      }),
    );
  });
});

/** Python's list[start:end:step], written independently of Kiln's implementation. */
function pythonSlice(xs: number[], start: number | null, end: number | null, step: number | null): number[] {
  const n = xs.length;
  const s = step ?? 1;
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const norm = (v: number | null, dflt: number, lo: number, hi: number) => (v === null ? dflt : clamp(v < 0 ? v + n : v, lo, hi));
  const out: number[] = [];
  if (s > 0) {
    for (let i = norm(start, 0, 0, n), e = norm(end, n, 0, n); i < e; i += s) out.push(xs[i]);
  } else {
    for (let i = norm(start, n - 1, -1, n - 1), e = norm(end, -1, -1, n - 1); i > e; i += s) out.push(xs[i]);
  }
  return out;
}

import { describe, expect, it } from 'vitest';
import { goldenTests } from './helpers/golden.js';
import { cpuOps } from './helpers/cpu_ops.js';
import { fma32, fma64 } from '../src/kernels/fused.js';

describe('creation ops match PyTorch (golden)', () => {
  goldenTests('creation');
});

describe('arange', () => {
  it('gives an empty range where PyTorch would reject the bounds (a documented deviation)', () => {
    const r = cpuOps.arange(5, 0);
    expect(r.shape).toEqual([0]);
    expect(r.dtype).toBe('int32');
    expect(cpuOps.arange(0, 5, -1, 'float64').shape).toEqual([0]);
  });

  it('is int32 for integer arguments and float32 otherwise', () => {
    expect(cpuOps.arange(3).dtype).toBe('int32');
    expect(cpuOps.arange(0, 3, 0.5).dtype).toBe('float32');
    expect(cpuOps.arange(0.5, 3).dtype).toBe('float32');
  });

  it('computes start + step·i with one rounding, not by accumulating steps', () => {
    const r = cpuOps.arange(0, 1, 0.1, 'float64');
    expect(r.data.length).toBe(10);
    expect(r.data[3]).toBe(fma64(0.1, 3, 0)); // 0.30000000000000004, the fused value, as PyTorch
    expect(r.data[9]).toBe(0.9);
  });
});

describe('linspace', () => {
  it('counts up from start in the first half and down from stop in the second', () => {
    const r = cpuOps.linspace(0, 1, 7, 'float64');
    expect(r.data[0]).toBe(0);
    expect(r.data[6]).toBe(1);
    const step = 1 / 6;
    expect(r.data[2]).toBe(fma64(step, 2, 0));
    expect(r.data[4]).toBe(fma64(-step, 2, 1));
  });

  it('hits both ends exactly, also in float32', () => {
    const r = cpuOps.linspace(-3.3, 7.1, 1001);
    expect(r.data[0]).toBe(Math.fround(-3.3));
    expect(r.data[1000]).toBe(Math.fround(7.1));
  });
});

describe('eye, zerosLike and friends', () => {
  it('eye is n×n by default and takes a dtype', () => {
    const e = cpuOps.eye(2, undefined, 'int32');
    expect(e.shape).toEqual([2, 2]);
    expect([...e.data]).toEqual([1, 0, 0, 1]);
  });

  it('fullLike keeps the input dtype', () => {
    const x = cpuOps.ones([2], 'bool');
    const y = cpuOps.fullLike(x, 0);
    expect(y.dtype).toBe('bool');
    expect([...y.data]).toEqual([0, 0]);
  });
});

describe('fused multiply-add emulation', () => {
  it('rounds a·b + c once in float64', () => {
    // 0.1·3 − 0.3 is exactly 2^-55 for the doubles nearest 0.1 and 0.3; rounding the product first gives 2^-54.
    expect(0.1 * 3 - 0.3).toBe(2 ** -54);
    expect(fma64(0.1, 3, -0.3)).toBe(2 ** -55);
    expect(fma64(1 + 2 ** -52, 1 - 2 ** -53, -1)).toBe(2 ** -53 - 2 ** -105);
    expect(fma64(3, 5, 7)).toBe(22);
    expect(Number.isNaN(fma64(Infinity, 0, 1))).toBe(true);
    expect(fma64(Infinity, 2, 1)).toBe(Infinity);
  });

  it('rounds a·b + c once in float32, avoiding double rounding', () => {
    // a·b + c = 1 + 2^-24 + 2^-60: exactly above the float32 midpoint, so it rounds up.
    // Rounding to float64 first would drop 2^-60, land on the midpoint, and round to even (down).
    const a = 1 + 2 ** -23;
    const c = -(2 ** -24) + 2 ** -60;
    expect(Math.fround(a * 1 + c)).not.toBe(fma32(a, 1, c));
    expect(fma32(a, 1, c)).toBe(1 + 2 ** -23);
    expect(fma32(Math.fround(0.1), 3, Math.fround(0.2))).toBe(Math.fround(Math.fround(0.1) * 3 + Math.fround(0.2)));
  });
});

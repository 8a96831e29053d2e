import { philox4x32, philoxNormal, philoxUniform, philoxWords } from '@kiln/core';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CpuValue } from './helpers/cpu_ops.js';
import { cpuOps, resetRandomKeys, value } from './helpers/cpu_ops.js';

const key = (seed: number, stream: number): CpuValue => value([seed, stream], [2], 'int32');
const hex = (words: Uint32Array) => [...words].map((w) => w.toString(16).padStart(8, '0')).join(' ');

function stats(data: ArrayLike<number>): { mean: number; variance: number } {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i];
  const mean = sum / data.length;
  let sq = 0;
  for (let i = 0; i < data.length; i++) sq += (data[i] - mean) ** 2;
  return { mean, variance: sq / (data.length - 1) };
}

const N = 100_000;

describe('Philox4x32-10 reference', () => {
  // Random123's kat_vectors (counter, key → output), the published known answers.
  it.each([
    [[0, 0, 0, 0], [0, 0], '6627e8d5 e169c58d bc57ac4c 9b00dbd8'],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], '408f276d 41c83b0e a20bc7c6 6d5451fd'],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], 'd16cfe09 94fdcceb 5001e420 24126ea1'],
  ])('matches the known answer for counter %j, key %j', (counter, k, expected) => {
    expect(hex(philox4x32(counter, k))).toBe(expected);
  });

  it('numbers a key stream by block: word w is lane w mod 4 of counter (⌊w/4⌋, 0, 0, 0)', () => {
    const words = philoxWords([7, 3], 10);
    expect(words.length).toBe(10);
    expect([...words.slice(0, 4)]).toEqual([...philox4x32([0, 0, 0, 0], [7, 3])]);
    expect([...words.slice(4, 8)]).toEqual([...philox4x32([1, 0, 0, 0], [7, 3])]);
    expect([...words.slice(8)]).toEqual([...philox4x32([2, 0, 0, 0], [7, 3])].slice(0, 2));
  });

  it('reads negative int32 key words as uint32', () => {
    expect([...philoxWords([-1, -1], 4)]).toEqual([...philox4x32([0, 0, 0, 0], [0xffffffff, 0xffffffff])]);
  });

  it('maps words to floats exactly as docs/design/random.md specifies', () => {
    const [w0, w1, w2, w3] = philox4x32([0, 0, 0, 0], [0, 0]);
    expect(philoxUniform([0, 0], 1, 'float32')[0]).toBe((w0 >>> 8) / 2 ** 24);
    expect(philoxUniform([0, 0], 1, 'float64')[0]).toBe(((w0 >>> 5) * 2 ** 26 + (w1 >>> 6)) / 2 ** 53);
    const [z0, z1] = philoxNormal([0, 0], 2, 'float32');
    const u1 = ((w0 >>> 8) + 1) / 2 ** 24;
    const u2 = (w1 >>> 8) / 2 ** 24;
    expect(z0).toBe(Math.fround(Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)));
    expect(z1).toBe(Math.fround(Math.sqrt(-2 * Math.log(u1)) * Math.sin(2 * Math.PI * u2)));
    const [d0] = philoxNormal([0, 0], 1, 'float64');
    const v1 = ((w0 >>> 5) * 2 ** 26 + (w1 >>> 6) + 1) / 2 ** 53;
    const v2 = ((w2 >>> 5) * 2 ** 26 + (w3 >>> 6)) / 2 ** 53;
    expect(d0).toBe(Math.sqrt(-2 * Math.log(v1)) * Math.cos(2 * Math.PI * v2));
  });
});

describe('randomUniform and randomNormal kernels', () => {
  it('are the reference generator', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      expect([...cpuOps.randomUniform(key(42, 5), [3, 7], dtype).data]).toEqual([...philoxUniform([42, 5], 21, dtype)]);
      expect([...cpuOps.randomNormal(key(42, 5), [3, 7], dtype).data]).toEqual([...philoxNormal([42, 5], 21, dtype)]);
    }
  });

  it('give the same numbers for the same key and different ones for other streams or seeds', () => {
    const a = cpuOps.randomUniform(key(1, 0), [64]).data;
    expect([...cpuOps.randomUniform(key(1, 0), [64]).data]).toEqual([...a]);
    const b = cpuOps.randomUniform(key(1, 1), [64]).data;
    const c = cpuOps.randomUniform(key(2, 0), [64]).data;
    expect(a.filter((x, i) => x === b[i]).length).toBeLessThan(2);
    expect(a.filter((x, i) => x === c[i]).length).toBeLessThan(2);
  });

  it('make element i depend only on the key and i, not on the shape', () => {
    for (const op of [cpuOps.randomUniform, cpuOps.randomNormal]) {
      for (const dtype of ['float32', 'float64'] as const) {
        const long = op(key(9, 2), [11], dtype).data;
        const grid = op(key(9, 2), [2, 3], dtype).data;
        expect([...grid]).toEqual([...long.slice(0, 6)]);
        expect([...op(key(9, 2), [5], dtype).data]).toEqual([...long.slice(0, 5)]);
      }
    }
  });

  it('handle zero-size and scalar shapes', () => {
    expect(cpuOps.randomNormal(key(0, 0), [0, 3]).shape).toEqual([0, 3]);
    expect(cpuOps.randomUniform(key(0, 0), []).data.length).toBe(1);
  });

  it('give uniforms in [0, 1) on the 2^-24 / 2^-53 grids, with mean 1/2 and variance 1/12', () => {
    for (const [dtype, bits] of [['float32', 24], ['float64', 53]] as const) {
      const u = cpuOps.randomUniform(key(123, 0), [N], dtype).data;
      let min = 1;
      let max = 0;
      let offGrid = 0;
      for (let i = 0; i < u.length; i++) {
        min = Math.min(min, u[i]);
        max = Math.max(max, u[i]);
        if (!Number.isInteger(u[i] * 2 ** bits)) offGrid++;
      }
      expect(min).toBeGreaterThanOrEqual(0);
      expect(max).toBeLessThan(1);
      expect(offGrid).toBe(0);
      const { mean, variance } = stats(u);
      expect(Math.abs(mean - 0.5)).toBeLessThan(0.005); // 5 standard errors
      expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.002);
    }
  });

  it('give uniforms that fill 100 equal bins evenly (chi-square)', () => {
    const u = cpuOps.randomUniform(key(2024, 7), [N]).data;
    const bins = new Array<number>(100).fill(0);
    for (let i = 0; i < u.length; i++) bins[Math.floor(u[i] * 100)]++;
    const expected = N / 100;
    const chi2 = bins.reduce((s, o) => s + (o - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(148.2); // the 99.9% quantile of chi-square with 99 degrees of freedom
  });

  it('give standard normals: mean 0, variance 1, 68.3% within one sigma, finite', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const z = cpuOps.randomNormal(key(77, 1), [N], dtype).data;
      expect(z.every(Number.isFinite)).toBe(true);
      const { mean, variance } = stats(z);
      expect(Math.abs(mean)).toBeLessThan(0.016);
      expect(Math.abs(variance - 1)).toBeLessThan(0.023);
      const within = z.filter((x) => Math.abs(x) < 1).length / N;
      expect(Math.abs(within - 0.6827)).toBeLessThan(0.008);
      // Box–Muller's u₁ ≥ 2^-24 bounds float32 normals by √(−2 ln 2^-24) ≈ 5.77.
      if (dtype === 'float32') expect(z.every((x) => Math.abs(x) <= 5.77)).toBe(true);
    }
  });

  it('give uncorrelated neighbouring streams', () => {
    const a = cpuOps.randomNormal(key(5, 0), [N], 'float64').data;
    const b = cpuOps.randomNormal(key(5, 1), [N], 'float64').data;
    let dot = 0;
    for (let i = 0; i < N; i++) dot += a[i] * b[i];
    expect(Math.abs(dot / N)).toBeLessThan(0.016);
  });
});

describe('rand, randn, randint, uniform, normal', () => {
  beforeEach(() => resetRandomKeys());

  it('draw a fresh key per call: the same sequence after the generator restarts', () => {
    const first = cpuOps.rand([4]).data;
    const second = cpuOps.rand([4]).data;
    expect([...second]).not.toEqual([...first]);
    resetRandomKeys();
    expect([...cpuOps.rand([4]).data]).toEqual([...first]);
    expect([...first]).toEqual([...philoxUniform([0, 0], 4, 'float32')]);
  });

  it('rand and randn take a dtype', () => {
    expect(cpuOps.rand([2], 'float64').dtype).toBe('float64');
    const z = cpuOps.randn([2, 2]);
    expect(z.dtype).toBe('float32');
    expect(z.shape).toEqual([2, 2]);
  });

  it('randint covers [low, high) evenly and is int32', () => {
    const r = cpuOps.randint(-3, 4, [14_000]);
    expect(r.dtype).toBe('int32');
    const counts = new Map<number, number>();
    for (const v of r.data) counts.set(v, (counts.get(v) ?? 0) + 1);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    for (const n of counts.values()) expect(Math.abs(n - 2000)).toBeLessThan(250);
    expect([...cpuOps.randint(5, 6, [3]).data]).toEqual([5, 5, 5]);
  });

  it('randint reaches both ends of the whole int32 range', () => {
    const r = cpuOps.randint(-(2 ** 31), 2 ** 31, [10_000]).data;
    expect(Math.min(...r)).toBeLessThan(-(2 ** 31) + 2 ** 24);
    expect(Math.max(...r)).toBeGreaterThan(2 ** 31 - 2 ** 24);
    const wide = cpuOps.randint(2 ** 31 - 100, 2 ** 31, [1000]).data;
    expect(wide.every((v) => v >= 2 ** 31 - 100)).toBe(true);
  });

  it('uniform scales to [low, high)', () => {
    const u = cpuOps.uniform([N], -2, 6).data;
    expect(u.every((x) => x >= -2 && x < 6)).toBe(true);
    expect(Math.abs(stats(u).mean - 2)).toBeLessThan(0.04);
    expect([...cpuOps.uniform([2], 3, 3, 'float64').data]).toEqual([3, 3]);
  });

  it('normal scales by std and shifts by mean', () => {
    const { mean, variance } = stats(cpuOps.normal([N], 10, 0.5, 'float64').data);
    expect(Math.abs(mean - 10)).toBeLessThan(0.008);
    expect(Math.abs(Math.sqrt(variance) - 0.5)).toBeLessThan(0.006);
    expect([...cpuOps.normal([2], -1, 0).data]).toEqual([-1, -1]);
  });
});

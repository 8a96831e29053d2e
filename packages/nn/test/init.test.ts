import { ArgumentError, DTypeError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { manualSeed, ones as onesOp, zeros as zerosOp } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { BatchNorm2d, Conv2d, Embedding, Linear, MultiheadAttention, Parameter, init } from '../src/index.js';

function stats(t: Tensor): { min: number; max: number; mean: number; std: number } {
  const d = Array.from(t.dataSync());
  const mean = d.reduce((a, b) => a + b, 0) / d.length;
  const std = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
  return { min: Math.min(...d), max: Math.max(...d), mean, std };
}

const param = (shape: number[]) => new Parameter(zerosOp(shape));

describe('calculateGain and fans', () => {
  it('gives PyTorch gains', () => {
    expect(init.calculateGain('linear')).toBe(1);
    expect(init.calculateGain('conv2d')).toBe(1);
    expect(init.calculateGain('sigmoid')).toBe(1);
    expect(init.calculateGain('tanh')).toBeCloseTo(5 / 3, 12);
    expect(init.calculateGain('relu')).toBeCloseTo(Math.SQRT2, 12);
    expect(init.calculateGain('leakyRelu')).toBeCloseTo(Math.sqrt(2 / (1 + 0.01 ** 2)), 12);
    expect(init.calculateGain('leakyRelu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(init.calculateGain('selu')).toBe(0.75);
    expect(() => init.calculateGain('swish' as init.Nonlinearity)).toThrowError(/unsupported nonlinearity "swish"; valid ones are linear/);
  });

  it('computes fans from the weight layout, and refuses tensors under 2-D', () => {
    expect(init.fans([5, 3])).toEqual({ fanIn: 3, fanOut: 5 });
    expect(init.fans([16, 3, 5, 5])).toEqual({ fanIn: 75, fanOut: 400 });
    expect(() => init.fans([4])).toThrowError(/fewer than 2 dimensions \(shape \[4\]\)/);
  });
});

describe('initialisers', () => {
  it('kaimingUniform: U(±gain·√(3/fan)), in place, not recorded, seeded', () => {
    manualSeed(3);
    const w = param([200, 500]);
    const same = init.kaimingUniform(w, { a: Math.sqrt(5) });
    expect(same).toBe(w);
    expect(w.requiresGrad && w.isLeaf).toBe(true);
    const bound = 1 / Math.sqrt(500); // gain √(1/3) with a = √5
    const s = stats(w);
    expect(s.min).toBeGreaterThanOrEqual(-bound);
    expect(s.max).toBeLessThanOrEqual(bound);
    expect(s.max).toBeGreaterThan(0.99 * bound);
    expect(s.std).toBeCloseTo(bound / Math.sqrt(3), 3);
    const first = w.toArray();
    manualSeed(3);
    expect(init.kaimingUniform(param([200, 500]), { a: Math.sqrt(5) }).toArray()).toEqual(first);
    const fanOut = stats(init.kaimingUniform(param([200, 500]), { mode: 'fanOut', nonlinearity: 'relu' }));
    expect(fanOut.max).toBeLessThanOrEqual(Math.SQRT2 * Math.sqrt(3 / 200));
    expect(fanOut.std).toBeCloseTo(Math.SQRT2 / Math.sqrt(200), 3);
  });

  it('kaimingNormal, xavierUniform, xavierNormal follow PyTorch std rules', () => {
    manualSeed(0);
    expect(stats(init.kaimingNormal(param([300, 400]))).std).toBeCloseTo(Math.SQRT2 / 20, 3);
    expect(stats(init.kaimingNormal(param([300, 400]), { mode: 'fanOut', nonlinearity: 'tanh' })).std).toBeCloseTo(5 / 3 / Math.sqrt(300), 3);
    const xu = stats(init.xavierUniform(param([300, 100, 2]), 2));
    const bound = 2 * Math.sqrt(6 / (200 + 600));
    expect(xu.max).toBeLessThanOrEqual(bound);
    expect(xu.max).toBeGreaterThan(0.99 * bound);
    const xn = stats(init.xavierNormal(param([300, 500])));
    expect(xn.std).toBeCloseTo(Math.sqrt(2 / 800), 3);
    expect(Math.abs(xn.mean)).toBeLessThan(2e-4);
  });

  it('uniform, normal, constant, zeros, ones; float64 stays float64', () => {
    manualSeed(1);
    const u = stats(init.uniform(param([100000]), -2, 3));
    expect(u.min).toBeGreaterThanOrEqual(-2);
    expect(u.max).toBeLessThan(3);
    expect(u.mean).toBeCloseTo(0.5, 1);
    const n = stats(init.normal(param([100000]), 1, 0.5));
    expect(n.mean).toBeCloseTo(1, 2);
    expect(n.std).toBeCloseTo(0.5, 2);
    expect(init.constant(param([2]), 0.25).toArray()).toEqual([0.25, 0.25]);
    expect(init.ones(param([2])).toArray()).toEqual([1, 1]);
    expect(init.zeros(new Parameter(onesOp([2]))).toArray()).toEqual([0, 0]);
    const d = new Parameter(zerosOp([3, 4], 'float64'));
    expect(init.xavierUniform(d).dtype).toBe('float64');
  });

  it('rejects bad arguments with typed errors', () => {
    expect(() => init.uniform(zerosOp([2], 'int32'))).toThrowError(DTypeError);
    expect(() => init.uniform(param([2]), 1, 0)).toThrowError(/low \(1\) must not exceed high \(0\)/);
    expect(() => init.normal(param([2]), 0, -1)).toThrowError(ArgumentError);
    expect(() => init.kaimingUniform(param([2, 2]), { mode: 'fan_in' as init.FanMode })).toThrowError(/mode must be 'fanIn' or 'fanOut'/);
    expect(() => init.xavierUniform(param([3]))).toThrowError(/fewer than 2 dimensions/);
    expect(() => init.constant(param([2]), '1' as unknown as number)).toThrowError(ArgumentError);
    expect(init.kaimingUniform(param([0, 3])).shape).toEqual([0, 3]); // empty: left as is, as PyTorch
  });
});

describe("layers' default initialisation (PyTorch's)", () => {
  it('Linear and Conv2d: weight and bias within ±1/√fanIn, filling the range', () => {
    manualSeed(5);
    const fc = new Linear(64, 300);
    const b = 1 / 8;
    for (const t of [fc.weight, fc.bias!]) {
      const s = stats(t);
      expect(s.min).toBeGreaterThanOrEqual(-b);
      expect(s.max).toBeLessThanOrEqual(b);
      expect(s.max).toBeGreaterThan(0.9 * b);
    }
    const conv = new Conv2d(8, 64, 3, { groups: 2 });
    const cb = 1 / Math.sqrt(4 * 9);
    expect(stats(conv.weight).max).toBeLessThanOrEqual(cb);
    expect(stats(conv.weight).max).toBeGreaterThan(0.95 * cb);
    expect(stats(conv.bias!).max).toBeLessThanOrEqual(cb);
    fc.dispose();
    conv.dispose();
  });

  it('Embedding N(0,1) with a zero padding row; BatchNorm ones/zeros; MHA Xavier with zero biases', () => {
    manualSeed(6);
    const emb = new Embedding(50, 40, { paddingIdx: 3 });
    const rows = emb.weight.toArray() as number[][];
    expect(rows[3]).toEqual(new Array(40).fill(0));
    expect(stats(emb.weight).std).toBeGreaterThan(0.9);
    const bn = new BatchNorm2d(3);
    expect([bn.weight!.toArray(), bn.bias!.toArray(), bn.runningMean!.toArray(), bn.runningVar!.toArray(), bn.numBatchesTracked!.item()]).toEqual([
      [1, 1, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1], 0,
    ]);
    const mha = new MultiheadAttention(16, 4);
    const bound = Math.sqrt(6 / (16 + 48));
    expect(stats(mha.inProjWeight!).max).toBeLessThanOrEqual(bound);
    expect(stats(mha.inProjWeight!).max).toBeGreaterThan(0.9 * bound);
    expect(stats(mha.inProjBias!)).toMatchObject({ min: 0, max: 0 });
    expect(stats(mha.outProj.bias!)).toMatchObject({ min: 0, max: 0 });
    for (const m of [emb, bn, mha]) m.dispose();
  });
});

import { ArgumentError, DTypeError, ShapeError } from '@kiln/core';
import { abs, manualSeed, mean, noGrad, ones, randn, sum, tensor, zeros } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { AvgPool2d, Conv2d, Dropout, Flatten, GELU, Identity, LayerNorm, Linear, MaxPool2d, Softmax, functional as F } from '../src/index.js';

describe('Linear', () => {
  it('maps [..., in] to [..., out], including a 1-D input', () => {
    const fc = new Linear(3, 2);
    expect(fc.forward(zeros([4, 5, 3])).shape).toEqual([4, 5, 2]);
    expect(fc.forward(zeros([3])).shape).toEqual([2]);
    expect(fc.forward(zeros([3])).toArray()).toEqual(fc.bias!.toArray());
    fc.dispose();
  });

  it('names the layer, the shapes and what is valid in its errors', () => {
    const fc = new Linear(3, 2);
    expect(() => fc.forward(zeros([4, 5]))).toThrowError(ShapeError);
    expect(() => fc.forward(zeros([4, 5]))).toThrowError('linear: x has shape [4,5] but weight [2,3] takes 3 input features; x must be [..., 3]');
    expect(() => fc.forward(zeros([]))).toThrowError(ShapeError);
    expect(() => new Linear(0, 2)).toThrowError('Linear: inFeatures must be a positive integer, got 0');
    expect(() => new Linear(2, 2.5)).toThrowError(ArgumentError);
    expect(() => new Linear(2, 2, { biass: false } as never)).toThrowError("Linear: unknown option 'biass'; valid options are bias, dtype");
    expect(() => F.linear(zeros([2, 3]), zeros([2, 3]), zeros([3]))).toThrowError(/bias has shape \[3\] but weight \[2,3\] has 2 output features/);
    fc.dispose();
  });
});

describe('Conv2d and pooling', () => {
  it('checks channels against groups, and padding same against stride', () => {
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrowError('Conv2d: inChannels (3) must be divisible by groups (2)');
    expect(() => new Conv2d(4, 3, 3, { groups: 2 })).toThrowError(/outChannels \(3\) must be divisible by groups/);
    expect(() => new Conv2d(1, 1, 3, { padding: 'same', stride: 2 })).toThrowError(/padding 'same' needs stride 1/);
    expect(() => new Conv2d(1, 1, [3, 0])).toThrowError(/kernelSize must be a positive integer or a pair/);
    expect(() => new Conv2d(1, 1, 3, { padding: -1 })).toThrowError(ArgumentError);
    const conv = new Conv2d(2, 4, 3);
    expect(() => conv.forward(zeros([1, 3, 5, 5]))).toThrowError(ShapeError);
    expect(() => conv.forward(zeros([1, 3, 5, 5]))).toThrowError(/has 3 channels but weight \[4,2,3,3\]/);
    conv.dispose();
  });

  it("keeps the spatial size with padding 'same' (odd and even kernels, dilation)", () => {
    for (const [k, d] of [[3, 1], [4, 1], [[2, 5], [2, 1]]] as const) {
      const conv = new Conv2d(1, 2, k, { padding: 'same', dilation: d });
      expect(conv.forward(randn([1, 1, 7, 6])).shape).toEqual([1, 2, 7, 6]);
      conv.dispose();
    }
    const valid = new Conv2d(1, 1, 3, { padding: 'valid', bias: false });
    expect(valid.forward(zeros([1, 1, 5, 5])).shape).toEqual([1, 1, 3, 3]);
    expect(String(valid)).toBe("Conv2d(1, 1, kernelSize=[3, 3], stride=[1, 1], padding='valid', bias=false)");
    valid.dispose();
  });

  it('pools with stride defaulting to the kernel, and prints options', () => {
    const x = tensor([[[[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]], 'float32');
    expect(new MaxPool2d(2).forward(x).toArray()).toEqual([[[[6, 8], [14, 16]]]]);
    expect(new AvgPool2d(2).forward(x).toArray()).toEqual([[[[3.5, 5.5], [11.5, 13.5]]]]);
    expect(String(new MaxPool2d(2))).toBe('MaxPool2d(kernelSize=2, stride=2, padding=0, dilation=1, ceilMode=false)');
    expect(String(new AvgPool2d([2, 3], { stride: 1 }))).toBe('AvgPool2d(kernelSize=[2, 3], stride=1, padding=0)');
    expect(() => new MaxPool2d(0)).toThrowError(ArgumentError);
    expect(() => new AvgPool2d(2, { ceilMode: 1 as unknown as boolean })).toThrowError(/ceilMode must be a boolean/);
    expect(() => new MaxPool2d(2, { padding: 2 }).forward(x)).toThrowError(/padding \[2,2\] is more than half of kernelSize/);
  });
});

describe('Dropout', () => {
  it('zeroes about p of the elements, scales the rest by 1/(1-p), reproducibly under manualSeed', () => {
    const drop = new Dropout(0.3);
    manualSeed(11);
    const y = drop.forward(ones([20000]));
    const values = Array.from(y.dataSync());
    const kept = values.filter((v) => v !== 0);
    expect(new Set(kept.map((v) => v.toFixed(5)))).toEqual(new Set([(1 / 0.7).toFixed(5)]));
    expect(Math.abs(1 - kept.length / values.length - 0.3)).toBeLessThan(0.015);
    expect(mean(y).item() as number).toBeCloseTo(1, 1);
    manualSeed(11);
    expect(drop.forward(ones([20000])).toArray()).toEqual(y.toArray());
    expect(drop.forward(ones([20000])).toArray()).not.toEqual(y.toArray());
  });

  it('is the identity in eval mode and for p = 0; p = 1 gives zeros', () => {
    const x = randn([3, 4]);
    expect(new Dropout(0.5).eval().forward(x)).toBe(x);
    expect(new Dropout(0).forward(x)).toBe(x);
    expect(Array.from(new Dropout(1).forward(x).dataSync()).every((v) => v === 0)).toBe(true); // x·0, as PyTorch (-0 for negative x)
  });

  it('sends the gradient through the kept elements only, scaled', () => {
    manualSeed(2);
    const x = ones([50]).requireGrad();
    const y = new Dropout(0.5).forward(x);
    sum(y).backward();
    expect(x.grad!.toArray()).toEqual(y.toArray()); // d(sum(x·mask/(1-p)))/dx = mask/(1-p) = y for x = 1
  });

  it('rejects a probability outside [0, 1] and integer input', () => {
    expect(() => new Dropout(1.5)).toThrowError('Dropout: p must be a probability between 0 and 1, got 1.5');
    expect(() => new Dropout(-0.1)).toThrowError(ArgumentError);
    expect(() => new Dropout(0.5).forward(tensor([1, 2]))).toThrowError(DTypeError);
  });
});

describe('activations, Flatten, LayerNorm', () => {
  it('validates options', () => {
    expect(() => new GELU({ approximate: 'fast' as 'tanh' })).toThrowError(/approximate must be 'none' or 'tanh'/);
    expect(() => new Softmax(0.5)).toThrowError(ArgumentError);
    expect(new Softmax().forward(zeros([2, 4])).toArray()).toEqual([[0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25]]);
    const x = zeros([1]);
    expect(new Identity().forward(x)).toBe(x);
    expect(new Flatten().forward(zeros([2, 3, 4])).shape).toEqual([2, 12]);
    expect(String(new GELU({ approximate: 'tanh' }))).toBe("GELU(approximate='tanh')");
  });

  it('LayerNorm normalises each slice; checks normalizedShape', () => {
    const ln = new LayerNorm([2, 3], { elementwiseAffine: false });
    expect(ln.parameters()).toEqual([]);
    const y = ln.forward(randn([4, 2, 3], 'float64'));
    expect(noGrad(() => abs(mean(y, [1, 2])).max().item()) as number).toBeLessThan(1e-12);
    expect(() => ln.forward(zeros([4, 3, 2]))).toThrowError(ShapeError);
    expect(() => new LayerNorm([])).toThrowError(/normalizedShape must be a positive integer or a non-empty array/);
    expect(() => new LayerNorm(4, { eps: -1 })).toThrowError(/eps must be a finite non-negative number/);
    const noBias = new LayerNorm(4, { bias: false });
    expect(noBias.namedParameters().map(([n]) => n)).toEqual(['weight']);
    expect(String(noBias)).toBe('LayerNorm([4], eps=0.00001, elementwiseAffine=true)');
    noBias.dispose();
  });
});

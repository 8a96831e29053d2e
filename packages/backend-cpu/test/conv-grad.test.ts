import { ArgumentError, DTypeError, ShapeError } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import type { CpuValue } from './helpers/cpu_ops.js';
import { cpuOps, value } from './helpers/cpu_ops.js';
import { goldenTests } from './helpers/golden.js';

describe('convolution and pooling gradient ops match PyTorch (golden)', () => {
  goldenTests('conv_grad');
});

const seq = (n: number, scale = 1) => Array.from({ length: n }, (_, i) => (((i * 37) % 23) - 11) * scale);
const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const val = (shape: number[], seed = 1) => value(seq(sizeOf(shape)).map((v) => v + seed), shape, 'float64');
const dot = (a: CpuValue, b: CpuValue) => Array.from(a.data).reduce((s, v, i) => s + v * b.data[i], 0);

describe('adjoint identities', () => {
  // ⟨conv2d(x, w), g⟩ = ⟨x, conv2dTranspose(g, w)⟩ = ⟨w, conv2dWeightGrad(x, g)⟩ for every geometry.
  const geometries: { x: number[]; k: [number, number]; outC: number; stride: [number, number]; padding: [number, number]; dilation: [number, number]; groups: number }[] = [
    { x: [2, 4, 7, 6], k: [3, 2], outC: 6, stride: [2, 1], padding: [1, 1], dilation: [1, 2], groups: 2 },
    { x: [1, 3, 8, 8], k: [3, 3], outC: 3, stride: [3, 3], padding: [2, 2], dilation: [1, 1], groups: 3 },
    { x: [1, 2, 5, 9], k: [1, 4], outC: 1, stride: [1, 3], padding: [0, 0], dilation: [2, 2], groups: 1 },
  ];
  for (const { x: xs, k, outC, ...opts } of geometries) {
    it(`holds for x ${JSON.stringify(xs)}, kernel ${JSON.stringify(k)}, ${JSON.stringify(opts)}`, () => {
      const x = val(xs, 0.5);
      const w = val([outC, xs[1] / opts.groups, ...k], -0.25);
      const y = cpuOps.conv2d(x, w, null, opts);
      const g = val([...y.shape], 0.125);
      // The rows a stride skipped at the end: what conv2dTranspose must add back to reach x's size.
      const outputPadding = [0, 1].map((i) => xs[2 + i] - ((y.shape[2 + i] - 1) * opts.stride[i] - 2 * opts.padding[i] + opts.dilation[i] * (k[i] - 1) + 1)) as [number, number];
      const dx = cpuOps.conv2dTranspose(g, w, null, { ...opts, outputPadding });
      const dw = cpuOps.conv2dWeightGrad(x, g, k, opts);
      expect(dx.shape).toEqual(xs);
      expect(dw.shape).toEqual(w.shape);
      const lhs = dot(y, g);
      expect(dot(x, dx)).toBeCloseTo(lhs, 8);
      expect(dot(w, dw)).toBeCloseTo(lhs, 8);
    });
  }

  it('avgPool2dGrad is the adjoint of avgPool2d', () => {
    for (const opts of [{ stride: 2, padding: 1, ceilMode: true }, { stride: 1, padding: 1, countIncludePad: false }, { stride: [2, 3] as [number, number] }]) {
      const x = val([2, 2, 7, 8], 0.3);
      const y = cpuOps.avgPool2d(x, 3, opts);
      const g = val([...y.shape], -0.7);
      expect(dot(x, cpuOps.avgPool2dGrad(g, x.shape, 3, opts))).toBeCloseTo(dot(y, g), 9);
    }
  });

  it('maxPool2dIndices point at the values maxPool2d returns', () => {
    const x = val([2, 3, 7, 6]);
    const opts = { stride: 2, padding: 1, dilation: [1, 2] as [number, number], ceilMode: true };
    const y = cpuOps.maxPool2d(x, 3, opts);
    const idx = cpuOps.maxPool2dIndices(x, 3, opts);
    expect(idx.dtype).toBe('int32');
    const perPlane = y.shape[2] * y.shape[3];
    const picked = Array.from(idx.data, (i, j) => x.data[Math.floor(j / perPlane) * 42 + i]);
    expect(picked).toEqual(Array.from(y.data));
  });
});

describe('errors name the op, the argument and what would be valid', () => {
  const x = value(seq(2 * 3 * 5 * 5), [2, 3, 5, 5]);
  it('conv2dTranspose', () => {
    expect(() => cpuOps.conv2dTranspose(x, value(seq(4 * 2 * 9), [4, 2, 3, 3]))).toThrowError(ShapeError);
    expect(() => cpuOps.conv2dTranspose(x, value(seq(4 * 2 * 9), [4, 2, 3, 3]))).toThrowError(
      'conv2dTranspose: x [2,3,5,5] has 3 channels but weight [4,2,3,3] has 4 input channels (weight.shape[0]); they must be equal',
    );
    const w = value(seq(3 * 2 * 9), [3, 2, 3, 3]);
    expect(() => cpuOps.conv2dTranspose(x, w, null, { groups: 2 })).toThrowError('weight [3,2,3,3] has 3 input channels; it needs a multiple of groups=2');
    expect(() => cpuOps.conv2dTranspose(x, w, null, { stride: 2, outputPadding: 2 })).toThrowError(ArgumentError);
    expect(() => cpuOps.conv2dTranspose(x, w, null, { stride: 2, outputPadding: 2 })).toThrowError(
      'conv2dTranspose: outputPadding [2,2] must be smaller than either the stride [2,2] or the dilation [1,1] in each dimension',
    );
    expect(() => cpuOps.conv2dTranspose(value([1], [1, 1, 1]), value([1], [1, 1, 1, 1]), null, { padding: 1 })).toThrowError(
      /the output would be -1x-1 .* must be at least 1: use less padding/,
    );
    expect(() => cpuOps.conv2dTranspose(x, w, value([1, 2, 3], [3]))).toThrowError('conv2dTranspose: bias has shape [3] but weight [3,2,3,3] with groups=1 gives 2 output channels; bias must be [2]');
    expect(() => cpuOps.conv2dTranspose(x, w, null, { outPadding: 1 } as never)).toThrowError("conv2dTranspose: unknown option 'outPadding'; valid options are stride, padding, outputPadding, dilation, groups");
    expect(() => cpuOps.conv2dTranspose(value([1], [1, 1, 1, 1], 'bool'), value([1], [1, 1, 1, 1], 'bool'))).toThrowError(DTypeError);
  });

  it('conv2dWeightGrad', () => {
    const g = value(seq(2 * 4 * 3 * 3), [2, 4, 3, 3]);
    expect(cpuOps.conv2dWeightGrad(x, g, 3).shape).toEqual([4, 3, 3, 3]);
    expect(() => cpuOps.conv2dWeightGrad(x, g, 2)).toThrowError(
      'conv2dWeightGrad: gradOutput has shape [2,4,3,3] but conv2d of x [2,3,5,5] with a [4,3,2,2] weight, stride [1,1], padding [0,0] and dilation [1,1] gives [2,4,4,4]; they must be equal',
    );
    expect(() => cpuOps.conv2dWeightGrad(x, g, 3, { groups: 2 })).toThrowError(/x \[2,3,5,5\] has 3 channels and gradOutput \[2,4,3,3\] has 4; with groups=2/);
    expect(() => cpuOps.conv2dWeightGrad(x, value(seq(4 * 9), [4, 3, 3]), 3)).toThrowError('conv2dWeightGrad: gradOutput must be 4-D like x, got shape [4,3,3] (rank 3)');
    expect(() => cpuOps.conv2dWeightGrad(x, g, [3, 0])).toThrowError('conv2dWeightGrad: kernelSize must be positive integers, got [3,0]');
  });

  it('maxPool2dIndices and avgPool2dGrad', () => {
    expect(() => cpuOps.maxPool2dIndices(x, 2, { padding: 2 })).toThrowError('maxPool2dIndices: padding [2,2] is more than half of kernelSize [2,2]');
    expect(() => cpuOps.maxPool2dIndices(value([], [0, 2]), 2)).toThrowError(ShapeError);
    const g = value(seq(2 * 3 * 4), [2, 3, 2, 2]);
    expect(() => cpuOps.avgPool2dGrad(g, [2, 3, 5, 5], 3)).toThrowError(
      'avgPool2dGrad: gradOutput has shape [2,3,2,2] but avgPool2d of an input [2,3,5,5] with kernelSize [3,3], stride [3,3], padding [0,0] and ceilMode false gives [2,3,1,1]; they must be equal',
    );
    expect(() => cpuOps.avgPool2dGrad(g, [2, 3, 4.5, 4], 2)).toThrowError(ArgumentError);
    expect(() => cpuOps.avgPool2dGrad(g, [3, 4, 4], 2)).toThrowError('avgPool2dGrad: gradOutput must be 3-D like inputShape, got shape [2,3,2,2] (rank 4)');
    expect(cpuOps.avgPool2dGrad(value([1, 2, 3, 4], [1, 2, 2], 'int32'), [1, 4, 4], 2).dtype).toBe('float32');
  });
});


import { describe, expect, it } from 'vitest';
import { getNumThreads, setNumThreads } from '../src/threads/pool.js';
import { DIRECT_CONV_LIMITS } from '../src/wasm/conv_direct.js';
import { depthwiseConvAvailable } from '../src/wasm/conv_depthwise.js';
import { IM2COL_LIMITS, useConvGemm, type ConvGeometry } from '../src/kernels/conv_gemm.js';
import type { CpuValue } from './helpers/cpu_ops.js';
import { cpuOps, value } from './helpers/cpu_ops.js';

/**
 * The float32 im2col + WebAssembly gemm paths of conv2d, conv2dTranspose and conv2dWeightGrad
 * against the float64 direct kernels on the same values. Each element may differ by float32
 * summation error: 4·√k·2⁻²⁴ · Σ|terms|, where Σ|terms| is the same op on |x| and |w| in float64.
 */

function data(size: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: size }, () => Math.fround((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31 - 1));
}
const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const abs = (v: CpuValue) => value(Array.from(v.data, Math.abs), v.shape, v.dtype);
const as = (v: CpuValue, dtype: 'float32' | 'float64') => value(v.data, v.shape, dtype);

function expectNear(got: CpuValue, want: CpuValue, scale: CpuValue, k: number): void {
  expect(got.dtype).toBe('float32');
  expect([...got.shape]).toEqual([...want.shape]);
  const bound = 4 * Math.sqrt(k) * 2 ** -24;
  const bad: string[] = [];
  for (let i = 0; i < want.data.length; i++) {
    const err = Math.abs(got.data[i] - want.data[i]);
    if (!(err <= bound * scale.data[i] + 1e-30) && bad.length < 5) bad.push(`[${i}] got ${got.data[i]}, want ${want.data[i]}`);
  }
  expect(bad).toEqual([]);
}

interface Case { chunked?: boolean; x: number[]; outC: number; k: [number, number]; stride?: [number, number]; padding?: [number, number]; dilation?: [number, number]; groups?: number }

const cases: Case[] = [
  { x: [2, 8, 12, 12], outC: 16, k: [3, 3] }, // the plain 3×3
  { x: [1, 5, 13, 11], outC: 12, k: [3, 3], padding: [1, 1] }, // odd sizes, padding, batch 1
  { x: [3, 6, 17, 15], outC: 10, k: [3, 3], stride: [2, 2], padding: [1, 1] }, // stride 2
  { x: [2, 4, 16, 14], outC: 8, k: [3, 3], dilation: [2, 2], padding: [2, 1] }, // dilation 2
  { x: [2, 8, 20, 20], outC: 16, k: [3, 2], groups: 2, stride: [1, 2] }, // groups
  { x: [33, 1, 14, 14], outC: 32, k: [3, 3] }, // one input channel (the first layer), batch 33
  { x: [2, 16, 11, 9], outC: 24, k: [1, 1] }, // 1×1
  { x: [5, 16, 20, 20], outC: 32, k: [3, 3], padding: [1, 1], chunked: true }, // scratch limits lowered: batches in chunks of 2
];

describe('float32 convolutions through im2col + WebAssembly gemm match the float64 direct kernels', () => {
  for (const { x: xs, outC, k, chunked, ...opts } of cases) {
    const groups = opts.groups ?? 1;
    const x = value(data(sizeOf(xs), 1), xs);
    const w = value(data(outC * (xs[1] / groups) * k[0] * k[1], 2), [outC, xs[1] / groups, ...k]);
    const y64 = cpuOps.conv2d(as(x, 'float64'), as(w, 'float64'), null, opts);
    const geometry: ConvGeometry = {
      batch: xs[0], channels: xs[1], height: xs[2], width: xs[3], outChannels: outC, kH: k[0], kW: k[1], outH: y64.shape[2], outW: y64.shape[3],
      stride: opts.stride ?? [1, 1], padding: opts.padding ?? [0, 0], dilation: opts.dilation ?? [1, 1], groups,
    };
    const name = `x ${JSON.stringify(xs)}, weight [${outC},${xs[1] / groups},${k}], ${JSON.stringify(opts)}${chunked ? ', in chunks' : ''}`;
    /** Runs f with the scratch limits lowered so that 2 images fit (chunked cases). */
    const limited = <T>(f: () => T): T => {
      if (!chunked) return f();
      const saved = [DIRECT_CONV_LIMITS.stagedFloats, IM2COL_LIMITS.floats];
      const perImage = xs[1] * (xs[2] + 2) * (xs[3] + 8) + outC * xs[2] * (xs[3] + 8);
      DIRECT_CONV_LIMITS.stagedFloats = 2 * perImage + 1;
      IM2COL_LIMITS.floats = 2 * (xs[1] * k[0] * k[1] + outC) * xs[2] * xs[3] + 1;
      try {
        return f();
      } finally {
        [DIRECT_CONV_LIMITS.stagedFloats, IM2COL_LIMITS.floats] = saved;
      }
    };

    it(`conv2d: ${name}`, () => {
      expect(useConvGemm(geometry)).toBe(true); // else this compares the direct kernel with itself
      const scale = cpuOps.conv2d(abs(as(x, 'float64')), abs(as(w, 'float64')), null, opts);
      expectNear(limited(() => cpuOps.conv2d(x, w, null, opts)), y64, scale, (xs[1] / groups) * k[0] * k[1]);
    });

    const g = value(data(sizeOf(y64.shape), 3), y64.shape);
    it(`conv2dTranspose (input gradient): ${name}`, () => {
      const outputPadding = [0, 1].map((i) => xs[2 + i] - ((y64.shape[2 + i] - 1) * geometry.stride[i] - 2 * geometry.padding[i] + geometry.dilation[i] * (k[i] - 1) + 1)) as [number, number];
      const o = { ...opts, outputPadding };
      const want = cpuOps.conv2dTranspose(as(g, 'float64'), as(w, 'float64'), null, o);
      const scale = cpuOps.conv2dTranspose(abs(as(g, 'float64')), abs(as(w, 'float64')), null, o);
      expectNear(limited(() => cpuOps.conv2dTranspose(g, w, null, o)), want, scale, (outC / groups) * k[0] * k[1]);
    });

    it(`conv2dWeightGrad: ${name}`, () => {
      const want = cpuOps.conv2dWeightGrad(as(x, 'float64'), as(g, 'float64'), k, opts);
      const scale = cpuOps.conv2dWeightGrad(abs(as(x, 'float64')), abs(as(g, 'float64')), k, opts);
      expectNear(limited(() => cpuOps.conv2dWeightGrad(x, g, k, opts)), want, scale, xs[0] * y64.shape[2] * y64.shape[3]);
    });
  }

  it('the default scratch limits hold the CNN of the benchmark in one chunk', () => {
    expect(32 * (32 * 26 * 26 + 64 * 24 * 24)).toBeLessThan(DIRECT_CONV_LIMITS.stagedFloats);
  });

  it('small and depthwise convolutions stay on the direct kernel', () => {
    const base = { batch: 4, height: 28, width: 28, kH: 3, kW: 3, outH: 26, outW: 26, stride: [1, 1], padding: [0, 0], dilation: [1, 1] };
    expect(useConvGemm({ ...base, channels: 32, outChannels: 32, groups: 32 })).toBe(false);
    expect(useConvGemm({ ...base, channels: 1, outChannels: 1, groups: 1 })).toBe(false);
    expect(useConvGemm({ ...base, batch: 0, channels: 8, outChannels: 8, groups: 1 })).toBe(false);
    expect(useConvGemm({ ...base, height: 4, width: 4, outH: 2, outW: 2, channels: 2, outChannels: 2, groups: 1 })).toBe(false);
  });

  it('NaN and Inf in x reach exactly the outputs whose windows hold them', () => {
    const xs = [1, 4, 10, 10];
    const xd = data(400, 5);
    xd[0 * 100 + 3 * 10 + 4] = NaN;
    xd[2 * 100 + 7 * 10 + 7] = Infinity;
    const x = value(xd, xs);
    const w = value(data(16 * 4 * 9, 6).map(Math.abs), [16, 4, 3, 3]);
    const y = cpuOps.conv2d(x, w);
    const y64 = cpuOps.conv2d(as(x, 'float64'), as(w, 'float64'));
    for (let i = 0; i < y.data.length; i++) {
      if (!Number.isFinite(y64.data[i])) expect(y.data[i]).toBe(y64.data[i]);
      else expect(Number.isFinite(y.data[i])).toBe(true);
    }
  });

  it('gives the same bits on one thread and on several (direct kernel and input gradient)', () => {
    const x = value(data(8 * 16 * 26 * 26, 8), [8, 16, 26, 26]);
    const w = value(data(32 * 16 * 9, 9), [32, 16, 3, 3]);
    const g = value(data(8 * 32 * 24 * 24, 10), [8, 32, 24, 24]);
    const threads = getNumThreads();
    try {
      setNumThreads(1);
      const one = [cpuOps.conv2d(x, w), cpuOps.conv2dTranspose(g, w)].map((v) => Array.from(v.data));
      setNumThreads(2);
      expect([cpuOps.conv2d(x, w), cpuOps.conv2dTranspose(g, w)].map((v) => Array.from(v.data))).toEqual(one);
    } finally {
      setNumThreads(threads);
    }
  });
});

describe('float32 depthwise convolutions in WebAssembly match the float64 direct kernels', () => {
  const dwCases: { x: number[]; mult: number; k: [number, number]; padding?: [number, number]; dilation?: [number, number] }[] = [
    { x: [2, 16, 20, 20], mult: 1, k: [3, 3], padding: [1, 1] },
    { x: [3, 8, 17, 13], mult: 1, k: [5, 3], dilation: [2, 1], padding: [4, 1] }, // odd width, dilation
    { x: [2, 12, 14, 18], mult: 2, k: [3, 3] }, // channel multiplier 2 (forward only in WASM)
  ];
  for (const { x: xs, mult, k, ...rest } of dwCases) {
    const groups = xs[1];
    const opts = { ...rest, groups };
    const x = value(data(sizeOf(xs), 11), xs);
    const w = value(data(groups * mult * k[0] * k[1], 12), [groups * mult, 1, ...k]);
    const y64 = cpuOps.conv2d(as(x, 'float64'), as(w, 'float64'), null, opts);
    const name = `x ${JSON.stringify(xs)}, multiplier ${mult}, kernel [${k}], ${JSON.stringify(rest)}`;
    it(`conv2d: ${name}`, () => {
      const scale = cpuOps.conv2d(abs(as(x, 'float64')), abs(as(w, 'float64')), null, opts);
      expectNear(cpuOps.conv2d(x, w, null, opts), y64, scale, k[0] * k[1]);
    });
    it(`conv2dTranspose (input gradient): ${name}`, () => {
      const g = value(data(sizeOf(y64.shape), 13), y64.shape);
      const pad = rest.padding ?? [0, 0];
      const dil = rest.dilation ?? [1, 1];
      const outputPadding = [0, 1].map((i) => xs[2 + i] - ((y64.shape[2 + i] - 1) - 2 * pad[i] + dil[i] * (k[i] - 1) + 1)) as [number, number];
      const o = { ...opts, outputPadding };
      const want = cpuOps.conv2dTranspose(as(g, 'float64'), as(w, 'float64'), null, o);
      const scale = cpuOps.conv2dTranspose(abs(as(g, 'float64')), abs(as(w, 'float64')), null, o);
      expectNear(cpuOps.conv2dTranspose(g, w, null, o), want, scale, mult * k[0] * k[1]);
    });
  }

  it('really runs in WebAssembly', () => {
    const g = { batch: 2, channels: 16, height: 20, width: 20, outChannels: 16, kH: 3, kW: 3, dH: 1, dW: 1, padTop: 1, padLeft: 1, outH: 20, outW: 20, weightIndex: () => 0 };
    expect(depthwiseConvAvailable(g)).toBe(true);
  });
});


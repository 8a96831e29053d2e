import { describe, expect, it } from 'vitest';
import { setNumThreads, getNumThreads } from '../src/threads/pool.js';
import { WASM_MAXPOOL_MIN_OUTPUTS, wasmMaxPool2x2Available } from '../src/wasm/pool_max.js';
import { cpuOps, value } from './helpers/cpu_ops.js';

/**
 * The fast max-pooling paths (2×2 stride 2 in WebAssembly SIMD and unrolled JS; undilated
 * windows clipped once per row/column) against a naive loop with PyTorch's rule: taps in row
 * order from -Infinity, a tap is taken when greater than the best or NaN.
 */

function data(size: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  // Coarse values so windows hold ties; some ±0, NaN and -Infinity.
  return Array.from({ length: size }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const r = s % 1000;
    if (r === 0) return NaN;
    if (r === 1) return -Infinity;
    if (r < 40) return r % 2 === 0 ? -0 : 0;
    return ((s >>> 20) % 9) - 4;
  });
}

function reference(x: number[], shape: number[], k: number, stride: number, pad: number): { values: number[]; indices: number[] } {
  const [n, c, h, w] = shape;
  const outH = Math.floor((h + 2 * pad - k) / stride) + 1;
  const outW = Math.floor((w + 2 * pad - k) / stride) + 1;
  const values: number[] = [];
  const indices: number[] = [];
  for (let p = 0; p < n * c; p++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        let best = -Infinity;
        let index = -1;
        for (let ih = oh * stride - pad; ih < oh * stride - pad + k; ih++) {
          for (let iw = ow * stride - pad; iw < ow * stride - pad + k; iw++) {
            if (ih < 0 || iw < 0 || ih >= h || iw >= w) continue;
            if (index < 0) index = ih * w + iw;
            const v = x[p * h * w + ih * w + iw];
            if (v > best || Number.isNaN(v)) {
              best = v;
              index = ih * w + iw;
            }
          }
        }
        values.push(best);
        indices.push(index);
      }
    }
  }
  return { values, indices };
}

const cases: { shape: number[]; k: number; stride: number; pad: number }[] = [
  { shape: [8, 16, 24, 24], k: 2, stride: 2, pad: 0 }, // the CNN's pool: WebAssembly
  { shape: [10, 33, 13, 19], k: 2, stride: 2, pad: 0 }, // odd sizes: outW 9, not a multiple of 4
  { shape: [1, 2, 6, 7], k: 2, stride: 2, pad: 0 }, // small: unrolled JS
  { shape: [2, 5, 11, 10], k: 3, stride: 2, pad: 1 }, // clipped windows
  { shape: [2, 3, 9, 8], k: 2, stride: 1, pad: 1 },
];

describe('fast max pooling matches a naive PyTorch-rule loop bit for bit', () => {
  for (const { shape, k, stride, pad } of cases) {
    it(`x ${JSON.stringify(shape)}, kernel ${k}, stride ${stride}, padding ${pad}`, () => {
      const x = data(shape.reduce((a, b) => a * b, 1), shape[3]);
      const want = reference(x, shape, k, stride, pad);
      const opts = { stride, padding: pad };
      const got = cpuOps.maxPool2d(value(x, shape), k, opts);
      expect(Array.from(got.data).map(Object.is.bind(null, 0))).toEqual(want.values.map(Object.is.bind(null, 0))); // +0 vs −0
      expect(Array.from(got.data)).toEqual(want.values);
      expect(Array.from(cpuOps.maxPool2d(value(x, shape, 'float64'), k, opts).data)).toEqual(want.values);
      expect(Array.from(cpuOps.maxPool2dIndices(value(x, shape), k, opts).data)).toEqual(want.indices);
    });
  }

  it('the large 2×2 cases really run in WebAssembly', () => {
    expect(wasmMaxPool2x2Available(8 * 16, 24, 24, 12, 12)).toBe(true);
    expect(wasmMaxPool2x2Available(10 * 33, 13, 19, 6, 9)).toBe(true);
    expect(10 * 33 * 6 * 9).toBeGreaterThanOrEqual(WASM_MAXPOOL_MIN_OUTPUTS);
    expect(wasmMaxPool2x2Available(2, 6, 7, 3, 3)).toBe(false);
  });

  it('gives the same bits on one thread and on several', () => {
    const shape = [8, 32, 24, 24];
    const x = value(data(shape.reduce((a, b) => a * b, 1), 7), shape);
    const threads = getNumThreads();
    try {
      setNumThreads(1);
      const one = Array.from(cpuOps.maxPool2d(x, 2).data);
      setNumThreads(2);
      expect(Array.from(cpuOps.maxPool2d(x, 2).data)).toEqual(one);
    } finally {
      setNumThreads(threads);
    }
  });
});

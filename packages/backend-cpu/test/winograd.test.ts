import { describe, expect, it } from 'vitest';
import { getNumThreads, setNumThreads } from '../src/threads/pool.js';
import { WINOGRAD_LIMITS, allFinite, winogradConvAvailable, winogradConvF32, winogradWeight, type WinogradConv } from '../src/wasm/winograd.js';

/** Deterministic values in [-1, 1). */
function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** float64 direct convolution and, per output, Σ|terms|. */
function reference(x: Float32Array, w: Float32Array, g: WinogradConv): { y: Float64Array; abs: Float64Array } {
  const { batch, channels: C, height: H, width: W, outChannels: K, outH, outW, padTop, padLeft } = g;
  const y = new Float64Array(batch * K * outH * outW);
  const abs = new Float64Array(y.length);
  for (let n = 0; n < batch; n++) for (let k = 0; k < K; k++) for (let oh = 0; oh < outH; oh++) for (let ow = 0; ow < outW; ow++) {
    let sum = 0;
    let a = 0;
    for (let c = 0; c < C; c++) for (let kh = 0; kh < 3; kh++) for (let kw = 0; kw < 3; kw++) {
      const ih = oh + kh - padTop;
      const iw = ow + kw - padLeft;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      const term = w[((k * C + c) * 3 + kh) * 3 + kw] * x[((n * C + c) * H + ih) * W + iw];
      sum += term;
      a += Math.abs(term);
    }
    const o = ((n * K + k) * outH + oh) * outW + ow;
    y[o] = sum;
    abs[o] = a;
  }
  return { y, abs };
}

function geometry(batch: number, C: number, K: number, H: number, W: number, pad: number): WinogradConv {
  return { batch, channels: C, height: H, width: W, outChannels: K, padTop: pad, padLeft: pad, outH: H + 2 * pad - 2, outW: W + 2 * pad - 2 };
}

/** Largest |winograd − exact| / Σ|terms| over all outputs. */
function worstRelative(g: WinogradConv, seed: number): number {
  const x = random(g.batch * g.channels * g.height * g.width, seed);
  const w = random(g.outChannels * g.channels * 9, seed + 1);
  const y = new Float32Array(g.batch * g.outChannels * g.outH * g.outW).fill(NaN);
  winogradConvF32(x, w, g, y);
  const ref = reference(x, w, g);
  let worst = 0;
  for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - ref.y[i]) / ref.abs[i]);
  return worst;
}

describe('Winograd F(2×2, 3×3) float32 convolution', () => {
  it('transforms a weight to G g Gᵀ (hand-computed)', () => {
    // g = [[1,2,3],[4,5,6],[7,8,9]]: G g = [[1,2,3],[6,7.5,9],[2,2.5,3],[7,8,9]]; row 1 of (G g) Gᵀ = [6, 11.25, 3.75, 9].
    const u = winogradWeight(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), 1, 1);
    expect(Array.from(u.subarray(0, 4))).toEqual([1, 3, 1, 3]);
    expect(Array.from(u.subarray(4, 8))).toEqual([6, 11.25, 3.75, 9]);
    expect(Array.from(u.subarray(12, 16))).toEqual([7, 12, 4, 9]);
  });

  const cases: [string, WinogradConv][] = [
    ['the CNN second layer shape (valid)', geometry(3, 32, 64, 26, 26, 0)],
    ['padding 1, odd output, width not a multiple of 8', geometry(2, 16, 20, 13, 11, 1)],
    ['one input channel, tiny planes', geometry(1, 1, 4, 4, 3, 1)],
    ['wide rows (staging by subarray)', geometry(1, 8, 8, 9, 80, 1)],
  ];
  for (const [name, g] of cases) {
    it(`matches float64 within 16·2⁻²⁴·Σ|terms|: ${name}`, () => {
      expect(winogradConvAvailable(g)).toBe(true);
      // F(2×2, 3×3): transformed input and weight values are sums of ≤ 4 and ≤ 9 terms (at most
      // ×4 and ×2.25 the inputs' magnitude), so the error stays a small multiple of 2⁻²⁴·Σ|terms|.
      expect(worstRelative(g, 7)).toBeLessThan(16 * 2 ** -24);
    });
  }

  it('allFinite finds NaN and ±Inf anywhere in the first `length` values, and only there', () => {
    const a = random(101, 5);
    expect(allFinite(a)).toBe(true);
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const at of [0, 50, 100]) {
        const b = a.slice();
        b[at] = bad;
        expect(allFinite(b)).toBe(false);
        expect(allFinite(b, at)).toBe(true);
      }
    }
    expect(allFinite(new Float32Array([3.4e38, -3.4e38]))).toBe(true);
  });

  it('splits the batch into chunks (a partial last chunk) with the same results', () => {
    const g = geometry(5, 8, 12, 10, 10, 1);
    const x = random(5 * 8 * 100, 3);
    const w = random(12 * 8 * 9, 4);
    const whole = new Float32Array(5 * 12 * 100);
    winogradConvF32(x, w, g, whole);
    const saved = { ...WINOGRAD_LIMITS };
    WINOGRAD_LIMITS.chunkTiles = 2 * 5 * 8; // two images per chunk: 2 + 2 + 1
    WINOGRAD_LIMITS.perThreadTiles = 5 * 8; // the same on 2 threads
    try {
      const split = new Float32Array(whole.length);
      winogradConvF32(x, w, g, split);
      expect(split).toEqual(whole);
      expect(worstRelative(g, 3)).toBeLessThan(16 * 2 ** -24);
    } finally {
      Object.assign(WINOGRAD_LIMITS, saved);
    }
  });

  it('leaves a chunk larger than maxFloats to the direct kernel', () => {
    const g = geometry(2, 16, 16, 20, 20, 1);
    expect(winogradConvAvailable(g)).toBe(true);
    const saved = WINOGRAD_LIMITS.maxFloats;
    WINOGRAD_LIMITS.maxFloats = 16 * 16 * 100; // less than V alone for one image (100 tiles)
    try {
      expect(winogradConvAvailable(g)).toBe(false);
    } finally {
      WINOGRAD_LIMITS.maxFloats = saved;
    }
  });

  it('gives the same bits on 1 and 2 threads (different chunk sizes too)', () => {
    const g = geometry(4, 32, 64, 26, 26, 0);
    const x = random(4 * 32 * 26 * 26, 11);
    const w = random(64 * 32 * 9, 12);
    const threads = getNumThreads();
    try {
      setNumThreads(1);
      const one = new Float32Array(4 * 64 * 24 * 24);
      winogradConvF32(x, w, g, one);
      setNumThreads(2);
      const two = new Float32Array(one.length);
      winogradConvF32(x, w, g, two);
      expect(two).toEqual(one);
    } finally {
      setNumThreads(threads);
    }
  });
});

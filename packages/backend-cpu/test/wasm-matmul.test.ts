import { describe, expect, it } from 'vitest';
import { sleb, uleb } from '../src/wasm/emitter.js';
import { GEMM_KC, GEMM_MC, GEMM_TILE, gemmF32, wasmGemmAvailable, wasmGemmUsesFma } from '../src/wasm/gemm.js';
import { WASM_MATMUL_MIN_MACS } from '../src/kernels/matmul.js';
import { cpuOps, value } from './helpers/cpu_ops.js';

/** Deterministic float32 data in [-1, 1) from a small LCG. */
function data(size: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: size }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31 - 1);
}

/** float64 reference of one m×k @ k×n product, plus Σ|a||b| per element (the error scale). */
function reference(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): { out: Float64Array; scale: Float64Array } {
  const out = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p];
      for (let j = 0; j < n; j++) {
        out[i * n + j] += x * b[p * n + j];
        scale[i * n + j] += Math.abs(x * b[p * n + j]);
      }
    }
  }
  return { out, scale };
}

/** |got − want| ≤ 4·√k·2⁻²⁴·Σ|a||b| + 1e-30 for every element: float32 summation error, not a wrong element. */
function expectNear(got: ArrayLike<number>, ref: { out: Float64Array; scale: Float64Array }, k: number, at = 0): void {
  const bound = 4 * Math.sqrt(Math.max(k, 1)) * 2 ** -24;
  const bad: string[] = [];
  for (let i = 0; i < ref.out.length; i++) {
    const err = Math.abs(got[at + i] - ref.out[i]);
    if (!(err <= bound * ref.scale[i] + 1e-30) && bad.length < 5) bad.push(`[${i}] got ${got[at + i]}, want ${ref.out[i]}`);
  }
  expect(bad).toEqual([]);
}

describe('WASM emitter', () => {
  it('encodes LEB128', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([127]);
    expect(uleb(128)).toEqual([0x80, 1]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(63)).toEqual([63]);
    expect(sleb(64)).toEqual([0xc0, 0]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });
});

describe.runIf(wasmGemmAvailable())('WASM SIMD float32 matmul', () => {
  const { mr, nr } = GEMM_TILE;
  // Remainders of the register tile, of the row block and of the k block.
  const shapes: [number, number, number][] = [
    [1, 1, 1], [mr - 1, 5, nr + 1], [mr + 1, 3, nr - 1], [7, 13, 5], [GEMM_MC + 3, 40, 2 * nr + 3],
    [33, GEMM_KC + 1, 17], [5, 2 * GEMM_KC + 7, 9], [2 * GEMM_MC + 1, GEMM_KC - 1, 3 * nr],
  ];

  it.each(shapes)('gemmF32 %i×%i @ ×%i matches float64 within float32 summation error', (m, k, n) => {
    const a = data(m * k, m + 7 * k);
    const b = data(k * n, n + 3 * k);
    const dst = new Float32Array(m * n);
    gemmF32(a, [0], b, [0], dst, m, k, n);
    expectNear(dst, reference(a, b, m, k, n), k);
  });

  it('sums each element in float32 in k order within a k block (fused multiply-adds where the engine has relaxed SIMD), then adds the blocks in order (bit for bit)', () => {
    const [m, k, n] = [6, 2 * GEMM_KC + 19, 11];
    const a = data(m * k, 1);
    const b = data(k * n, 2);
    const dst = new Float32Array(m * n);
    gemmF32(a, [0], b, [0], dst, m, k, n);
    const f = Math.fround;
    // With relaxed-SIMD FMA each step rounds once: a·b of two float32 values is exact in float64,
    // so f(s + a·b) is the fused result (up to a double rounding too rare to meet here).
    const fused = wasmGemmUsesFma();
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let c = 0;
        for (let p0 = 0; p0 < k; p0 += GEMM_KC) {
          let s = 0;
          for (let p = p0; p < Math.min(k, p0 + GEMM_KC); p++) s = fused ? f(s + a[i * k + p] * b[p * n + j]) : f(s + f(a[i * k + p] * b[p * n + j]));
          c = p0 === 0 ? s : f(c + s);
        }
        if (!Object.is(dst[i * n + j], c)) expect.fail(`[${i},${j}] got ${dst[i * n + j]}, want ${c}`);
      }
    }
  });

  it('long k stays within the float32 golden tolerance of the float64 result on positive data', () => {
    const [m, k, n] = [8, 8192, 8];
    const a = data(m * k, 5).map(Math.abs);
    const b = data(k * n, 6).map(Math.abs);
    const dst = new Float32Array(m * n);
    gemmF32(a, [0], b, [0], dst, m, k, n);
    const { out } = reference(a, b, m, k, n);
    out.forEach((want, i) => expect(Math.abs(dst[i] - want)).toBeLessThanOrEqual(1e-5 * Math.abs(want)));
  });

  it('propagates NaN and ±Inf like the JS kernel', () => {
    const [m, k, n] = [41, 40, 30];
    const a = data(m * k, 8);
    const b = data(k * n, 9);
    a[0] = NaN; // row 0 all NaN
    a[2 * k + 3] = Infinity; // row 2: ±Inf where b's row 3 is nonzero
    b[5 * n + 4] = -Infinity; // column 4: ±Inf from every row's a[·,5]
    const f32 = cpuOps.matmul(value(a, [m, k]), value(b, [k, n]));
    const f64 = cpuOps.matmul(value(a, [m, k], 'float64'), value(b, [k, n], 'float64'));
    expect(m * k * n).toBeGreaterThanOrEqual(WASM_MATMUL_MIN_MACS);
    f64.data.forEach((want, i) => {
      if (!Number.isFinite(want)) expect(f32.data[i]).toBe(want);
    });
    expect(Number.isNaN(f32.data[0])).toBe(true);
  });

  /** Runs the op surface in float32 (WASM) and float64 (JS kernel) and compares each matrix. */
  function compareBatched(aShape: number[], bShape: number[]): void {
    const m = aShape[aShape.length - 2];
    const k = aShape[aShape.length - 1];
    const n = bShape[bShape.length - 1];
    expect(m * k * n).toBeGreaterThanOrEqual(WASM_MATMUL_MIN_MACS);
    const a = data(aShape.reduce((x, y) => x * y, 1), 11);
    const b = data(bShape.reduce((x, y) => x * y, 1), 12);
    const got = cpuOps.matmul(value(a, aShape), value(b, bShape));
    const want = cpuOps.matmul(value(a, aShape, 'float64'), value(b, bShape, 'float64'));
    expect(got.shape).toEqual(want.shape);
    const bound = 4 * Math.sqrt(k) * 2 ** -24 * k; // |a|,|b| ≤ 1: Σ|a||b| ≤ k
    want.data.forEach((w, i) => {
      if (!(Math.abs(got.data[i] - w) <= bound)) expect.fail(`[${i}] got ${got.data[i]}, want ${w}`);
    });
  }

  it('broadcasts batch dimensions: [2,1,m,k] @ [3,k,n]', () => compareBatched([2, 1, 37, 29], [3, 29, 35]));
  it('a batch times one matrix runs as one tall product: [4,m,k] @ [k,n]', () => compareBatched([4, 19, 70], [70, 41]));
  it('one matrix times a batch: [m,k] @ [3,k,n]', () => compareBatched([45, 33], [3, 33, 23]));
  it('equal batches: [2,3,m,k] @ [2,3,k,n]', () => compareBatched([2, 3, 21, 50], [2, 3, 50, 34]));
  it('vector-matrix products fold into the same kernel: [k] @ [b,k,n]', () => compareBatched([1, 300], [2, 300, 130]));

  it('writes into an offered output array', () => {
    const [m, k, n] = [40, 40, 40];
    const a = data(m * k, 13);
    const b = data(k * n, 14);
    const dst = new Float32Array(m * n + 5).fill(NaN).subarray(0, m * n);
    gemmF32(a, [0], b, [0], dst, m, k, n);
    expectNear(dst, reference(a, b, m, k, n), k);
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { GEMM_MIN_MACS_PER_THREAD, gemmF32, wasmGemmAvailable } from '../src/wasm/gemm.js';
import { matmulOf } from '../src/kernels/matmul.js';
import { getNumThreads, setNumThreads, usableThreads } from '../src/threads/pool.js';

/** Deterministic float32 data in [-1, 1) from a small LCG. */
function data(size: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: size }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31 - 1);
}

/** count rows×cols matrices, each transposed. */
function transposed(x: Float32Array, count: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let t = 0; t < count; t++) for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[t * rows * cols + j * rows + i] = x[t * rows * cols + i * cols + j];
  return out;
}

function bitsEqual(got: Float32Array, want: Float32Array): void {
  const bad: string[] = [];
  for (let i = 0; i < want.length && bad.length < 5; i++) if (!Object.is(got[i], want[i])) bad.push(`[${i}] ${got[i]} vs ${want[i]}`);
  expect(bad).toEqual([]);
}

describe.runIf(wasmGemmAvailable())('WASM matmul on several threads', () => {
  const saved = getNumThreads();
  afterAll(() => setNumThreads(saved));

  // Odd m, k, n (no multiple of the tile, the row block or the k block), large enough to be split.
  const shapes: [number, number, number][] = [[203, 301, 157], [517, 129, 61], [9, 700, 1031], [1, 2048, 1100]];

  it.each(shapes)('%i×%i @ ×%i is bit-identical on 1, 2 and 3 threads, plain and transposed', (m, k, n) => {
    expect(m * k * n).toBeGreaterThanOrEqual(2 * GEMM_MIN_MACS_PER_THREAD); // really split
    const a = data(m * k, m + k);
    const b = data(k * n, n + 5);
    const aT = transposed(a, 1, m, k);
    const bT = transposed(b, 1, k, n);
    const results: Float32Array[] = [];
    for (const threads of [1, 2, 3]) {
      setNumThreads(threads);
      if (threads > 1) expect(usableThreads()).toBe(threads);
      for (const [x, y, transA, transB] of [[a, b, false, false], [aT, b, true, false], [a, bT, false, true], [aT, bT, true, true]] as const) {
        const dst = new Float32Array(m * n);
        gemmF32(x, [0], y, [0], dst, m, k, n, { transA, transB });
        results.push(dst);
      }
    }
    for (const r of results.slice(1)) bitsEqual(r, results[0]);
  });

  it('batch broadcasting with transposed operands: [2,1,k,m]ᵀ @ [3,n,k]ᵀ equals per-matrix products, on 1 and 2 threads', () => {
    const [m, k, n] = [131, 257, 97]; // over 2·GEMM_MIN_MACS_PER_THREAD: split
    const a = data(2 * k * m, 3); // two matrices stored k×m
    const b = data(3 * n * k, 4); // three matrices stored n×k
    const out = { dtype: 'float32' as const, shape: [2, 3, m, n] };
    const results = [1, 2].map((threads) => {
      setNumThreads(threads);
      return matmulOf({ data: a, shape: [2, 1, k, m], dtype: 'float32' }, { data: b, shape: [3, n, k], dtype: 'float32' }, out, true, true) as Float32Array;
    });
    bitsEqual(results[1], results[0]);
    setNumThreads(1);
    const aPlain = transposed(a, 2, k, m);
    const bPlain = transposed(b, 3, n, k);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        const want = new Float32Array(m * n);
        gemmF32(aPlain, [i * m * k], bPlain, [j * k * n], want, m, k, n);
        bitsEqual(results[0].subarray((i * 3 + j) * m * n, (i * 3 + j + 1) * m * n), want);
      }
    }
  });

  it.each([[false, false], [true, false], [false, true], [true, true]] as const)('many small products split by batch (transA %s, transB %s) equal one product at a time, bit for bit', (transA, transB) => {
    const [m, k, n] = [61, 97, 83]; // < GEMM_MIN_MACS_PER_THREAD each, several times it together
    expect(m * k * n).toBeLessThan(GEMM_MIN_MACS_PER_THREAD);
    const a = data(2 * m * k, 21);
    const b = data(5 * k * n, 22);
    // [2,1,·,·] @ [5,·,·]: ten products reading a and b in broadcast order
    const out = { dtype: 'float32' as const, shape: [2, 5, m, n] };
    const aShape = transA ? [2, 1, k, m] : [2, 1, m, k];
    const bShape = transB ? [5, n, k] : [5, k, n];
    const results = [1, 2, 3].map((threads) => {
      setNumThreads(threads);
      return matmulOf({ data: a, shape: aShape, dtype: 'float32' }, { data: b, shape: bShape, dtype: 'float32' }, out, transA, transB) as Float32Array;
    });
    bitsEqual(results[1], results[0]);
    bitsEqual(results[2], results[0]);
    setNumThreads(1);
    for (let t = 0; t < 10; t++) {
      const want = new Float32Array(m * n);
      gemmF32(a, [Math.floor(t / 5) * m * k], b, [(t % 5) * k * n], want, m, k, n, { transA, transB });
      bitsEqual(results[0].subarray(t * m * n, (t + 1) * m * n), want);
    }
  });

  it('the JS path (small products) transposes first: aᵀ @ b equals the plain product of the transpose', () => {
    const [m, k, n] = [3, 4, 5];
    const a = data(k * m, 9);
    const b = data(k * n, 10);
    const got = matmulOf({ data: a, shape: [k, m], dtype: 'float32' }, { data: b, shape: [k, n], dtype: 'float32' }, { dtype: 'float32', shape: [m, n] }, true, false);
    const aPlain = transposed(a, 1, k, m);
    const want = new Float32Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) { let s = 0; for (let p = 0; p < k; p++) s += aPlain[i * k + p] * b[p * n + j]; want[i * n + j] = s; }
    bitsEqual(got as Float32Array, want);
  });
});

import type { TensorType, TypedArray } from '@kiln/core';
import { sizeOf } from '@kiln/core';
import type { CpuKernel, CpuTensor } from '../cpu_tensor.js';
import { broadcastIndex, output } from './util.js';
import { gemmF32, wasmGemmAvailable } from '../wasm/gemm.js';

/**
 * Float32 products with at least this many multiply-adds (m·k·n) run in WebAssembly SIMD
 * (float32 accumulation, see docs/design/cpu-wasm.md); smaller ones, and float64/int32, run the
 * JS kernel below, where the copy into WASM memory would cost more than it saves.
 */
export const WASM_MATMUL_MIN_MACS = 32 * 32 * 32;

/**
 * Batched matmul of [..., m, k] by [..., k, n] (batch dimensions broadcast), in i-k-j order so
 * the inner loop walks contiguous rows of b and of the accumulator.
 * Large float32 products run in WebAssembly SIMD (WASM_MATMUL_MIN_MACS); otherwise floats
 * accumulate in float64 rows; int32 wraps like PyTorch's integer matmul (Math.imul).
 */
export const matmul: CpuKernel = ([a, b], _attrs, [out], into) => [matmulOf(a, b, out, false, false, into?.[0])];

/**
 * The product A @ B into a new array (or `into`), where A is `a` — or, with `transA`, `a` with
 * its last two axes swapped — and likewise B. Large float32 products read transposed operands
 * in place (the WebAssembly packing takes strides), bit-identical to transposing first; the JS
 * kernel transposes first. `out` is the product's type.
 *
 * @example
 * ```ts
 * matmulOf(g, w, { dtype: 'float32', shape: [128, 784] }, false, true); // g @ wᵀ, no copy of wᵀ
 * ```
 */
export function matmulOf(a: CpuTensor, b: CpuTensor, out: TensorType, transA: boolean, transB: boolean, into?: TypedArray): TypedArray {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = a.shape[ra - (transA ? 1 : 2)];
  const k = a.shape[ra - (transA ? 2 : 1)];
  const n = b.shape[rb - (transB ? 2 : 1)];
  const batchShape = out.shape.slice(0, -2);
  const batches = sizeOf(batchShape);
  // Which matrix of a and of b each output matrix reads (null: the same index).
  const batchA = broadcastIndex(a.shape.slice(0, -2), batchShape);
  const batchB = broadcastIndex(b.shape.slice(0, -2), batchShape);
  const dst = output(out.dtype, out.shape, into);
  if (out.dtype === 'float32' && m * k * n >= WASM_MATMUL_MIN_MACS && wasmGemmAvailable()) {
    const aOffsets = Array.from({ length: batches }, (_, t) => (batchA ? batchA[t] : t) * m * k);
    const bOffsets = Array.from({ length: batches }, (_, t) => (batchB ? batchB[t] : t) * k * n);
    gemmF32(a.data, aOffsets, b.data, bOffsets, dst, m, k, n, { transA, transB });
    return dst;
  }
  const aData = transA ? swapLastTwo(a.data, sizeOf(a.shape) / (m * k), k, m) : a.data;
  const bData = transB ? swapLastTwo(b.data, sizeOf(b.shape) / (k * n), n, k) : b.data;
  if (into && out.dtype === 'int32') dst.fill(0); // the int32 product accumulates into dst
  const product = out.dtype === 'int32' ? matmulInt32 : matmulFloat(n);
  for (let t = 0; t < batches; t++) {
    const aOffset = (batchA ? batchA[t] : t) * m * k;
    const bOffset = (batchB ? batchB[t] : t) * k * n;
    product(aData, aOffset, bData, bOffset, dst, t * m * n, m, k, n);
  }
  return dst;
}

/** `count` row-major rows×cols matrices, each transposed (a new array of the same kind). */
function swapLastTwo(data: TypedArray, count: number, rows: number, cols: number): TypedArray {
  const outData = new (data.constructor as new (n: number) => TypedArray)(data.length);
  for (let t = 0; t < count; t++) {
    const base = t * rows * cols;
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) outData[base + j * rows + i] = data[base + i * cols + j];
  }
  return outData;
}

type MatrixProduct = (a: TypedArray, aOffset: number, b: TypedArray, bOffset: number, dst: TypedArray, dstOffset: number, m: number, k: number, n: number) => void;

/**
 * Four rows of a at a time: each loaded element of b feeds four float64 accumulator rows, which
 * halves the time of a one-row loop. Every output element still sums over k in order.
 */
function matmulFloat(n: number): MatrixProduct {
  const acc = new Float64Array(4 * n);
  return (a, aOffset, b, bOffset, dst, dstOffset, m, k) => {
    for (let i0 = 0; i0 < m; i0 += 4) {
      const rows = Math.min(4, m - i0);
      const a0 = aOffset + i0 * k;
      acc.fill(0);
      if (rows === 4) {
        for (let p = 0; p < k; p++) {
          const x0 = a[a0 + p];
          const x1 = a[a0 + k + p];
          const x2 = a[a0 + 2 * k + p];
          const x3 = a[a0 + 3 * k + p];
          const bRow = bOffset + p * n;
          for (let j = 0; j < n; j++) {
            const bv = b[bRow + j];
            acc[j] += x0 * bv;
            acc[n + j] += x1 * bv;
            acc[2 * n + j] += x2 * bv;
            acc[3 * n + j] += x3 * bv;
          }
        }
      } else {
        for (let r = 0; r < rows; r++) {
          for (let p = 0; p < k; p++) {
            const x = a[a0 + r * k + p];
            const bRow = bOffset + p * n;
            for (let j = 0; j < n; j++) acc[r * n + j] += x * b[bRow + j];
          }
        }
      }
      dst.set(rows === 4 ? acc : acc.subarray(0, rows * n), dstOffset + i0 * n);
    }
  };
}

const matmulInt32: MatrixProduct = (a, aOffset, b, bOffset, dst, dstOffset, m, k, n) => {
  for (let i = 0; i < m; i++) {
    const aRow = aOffset + i * k;
    const dRow = dstOffset + i * n;
    for (let p = 0; p < k; p++) {
      const av = a[aRow + p];
      const bRow = bOffset + p * n;
      // The Int32Array store wraps the exact sum of two int32 values to 32 bits.
      for (let j = 0; j < n; j++) dst[dRow + j] += Math.imul(av, b[bRow + j]);
    }
  }
};

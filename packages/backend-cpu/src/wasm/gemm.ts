import type { TypedArray } from '@kiln/core';
import { gemmModule, type GemmTile } from './gemm_kernel.js';

/**
 * Float32 matrix products in WebAssembly SIMD (single-threaded): operands are packed into
 * panels in the module's memory, the generated micro-kernel (gemm_kernel.ts) computes tiles of
 * C, and C is copied out. Layout and blocking are described in docs/design/cpu-wasm.md.
 */

/** The register tile of the micro-kernel: 4 rows × 8 columns = 8 f32x4 accumulators. */
export const GEMM_TILE: GemmTile = { mr: 4, nr: 8, unroll: 1 };
/** Steps of k per packed block: a kc×nr panel of B (8 KiB) stays in L1 while A panels stream past it. */
export const GEMM_KC = 256;
/** Rows of A per packed block (rounded up to a multiple of mr): an mc×kc block of A (128 KiB) stays in L2. */
export const GEMM_MC = 128;

interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
interface WasmApi {
  Memory: new (d: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
}
type GemmFn = (a: number, b: number, c: number, mPanels: number, nPanels: number, kc: number, ldc: number, accumulate: number) => void;

interface Engine { memory: WasmMemory; gemm: GemmFn; f32: Float32Array }

let engine: Engine | null | undefined;

/** The compiled kernel, or null where the engine has no WebAssembly SIMD (compiled once, lazily). */
function getEngine(): Engine | null {
  if (engine !== undefined) return engine;
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  try {
    if (!wasm) throw new Error('no WebAssembly');
    const memory = new wasm.Memory({ initial: 16 });
    const instance = new wasm.Instance(new wasm.Module(gemmModule(GEMM_TILE)), { env: { memory } });
    engine = { memory, gemm: instance.exports.gemm as GemmFn, f32: new Float32Array(memory.buffer) };
  } catch {
    engine = null;
  }
  return engine;
}

/** Whether float32 matmuls can run in WebAssembly SIMD here. */
export function wasmGemmAvailable(): boolean {
  return getEngine() !== null;
}

/** Grows the memory to hold `bytes` and refreshes the view (growing detaches the old buffer). */
function reserve(e: Engine, bytes: number): Float32Array {
  const pages = Math.ceil(bytes / 65536) - e.memory.buffer.byteLength / 65536;
  if (pages > 0) e.memory.grow(pages);
  if (e.f32.buffer !== e.memory.buffer) e.f32 = new Float32Array(e.memory.buffer);
  return e.f32;
}

const roundUp = (x: number, to: number) => Math.ceil(x / to) * to;

/**
 * Batched float32 product: for each t, dst[t·m·n ..] (m×n) = a[aOffsets[t] ..] (m×k) @
 * b[bOffsets[t] ..] (k×n), all row-major. When every matrix of a follows the previous one and
 * b is the same matrix for all (a batch times one weight), the batch runs as one tall product.
 * B is packed once per distinct matrix in a row of equal offsets. Requires m, k, n ≥ 1.
 */
export function gemmF32(a: TypedArray, aOffsets: readonly number[], b: TypedArray, bOffsets: readonly number[], dst: TypedArray, m: number, k: number, n: number): void {
  const e = getEngine();
  if (!e) throw new Error('gemmF32: WebAssembly SIMD is not available');
  const batches = aOffsets.length;
  const stacked = aOffsets.every((o, t) => o === aOffsets[0] + t * m * k) && bOffsets.every((o) => o === bOffsets[0]);
  if (stacked && batches > 1) return gemmF32(a, [aOffsets[0]], b, [bOffsets[0]], dst, batches * m, k, n);
  const { mr, nr } = GEMM_TILE;
  const mc = roundUp(GEMM_MC, mr);
  const nPad = roundUp(n, nr);
  const bBytes = nPad * k * 4;
  const aBytes = mc * GEMM_KC * 4;
  const cBytes = mc * nPad * 4;
  let mem = reserve(e, bBytes + aBytes + cBytes);
  let packedB = -1;
  for (let t = 0; t < batches; t++) {
    if (bOffsets[t] !== packedB) {
      packB(mem, b, bOffsets[t], k, n, nPad);
      packedB = bOffsets[t];
    }
    const cBase = (bBytes + aBytes) / 4;
    for (let i0 = 0; i0 < m; i0 += mc) {
      const rows = Math.min(mc, m - i0);
      for (let p0 = 0; p0 < k; p0 += GEMM_KC) {
        const kc = Math.min(GEMM_KC, k - p0);
        packA(mem, bBytes / 4, a, aOffsets[t] + i0 * k + p0, rows, kc, k);
        e.gemm(bBytes, p0 * nPad * 4, bBytes + aBytes, Math.ceil(rows / mr), nPad / nr, kc, nPad * 4, p0 > 0 ? 1 : 0);
      }
      mem = e.f32;
      const dOff = t * m * n + i0 * n;
      if (n === nPad) dst.set(mem.subarray(cBase, cBase + rows * n), dOff);
      else for (let r = 0; r < rows; r++) dst.set(mem.subarray(cBase + r * nPad, cBase + r * nPad + n), dOff + r * n);
    }
  }
}

/**
 * Packs B (k×n at `off`) at float index 0: for each block of GEMM_KC steps of k (starting at
 * p0), the nr-column panels one after another (panel j at p0·nPad + j·nr·kc), each holding its
 * kc rows of nr floats; columns past n are zero.
 */
function packB(mem: Float32Array, b: TypedArray, off: number, k: number, n: number, nPad: number): void {
  const { nr } = GEMM_TILE;
  for (let p0 = 0; p0 < k; p0 += GEMM_KC) {
    const kc = Math.min(GEMM_KC, k - p0);
    for (let j0 = 0; j0 < n; j0 += nr) {
      let d = p0 * nPad + j0 * kc;
      const cols = Math.min(nr, n - j0);
      for (let p = 0; p < kc; p++) {
        const s = off + (p0 + p) * n + j0;
        if (cols === 8 && nr === 8) {
          mem[d] = b[s]; mem[d + 1] = b[s + 1]; mem[d + 2] = b[s + 2]; mem[d + 3] = b[s + 3];
          mem[d + 4] = b[s + 4]; mem[d + 5] = b[s + 5]; mem[d + 6] = b[s + 6]; mem[d + 7] = b[s + 7];
        } else {
          for (let c = 0; c < nr; c++) mem[d + c] = c < cols ? b[s + c] : 0;
        }
        d += nr;
      }
    }
  }
}

/**
 * Packs `rows`×kc of A (row stride `lda`, from `off`) at float index `base` as mr-row panels
 * (panel i at base + i·mr·kc), each holding for every k step its mr values; rows past `rows`
 * are zero.
 */
function packA(mem: Float32Array, base: number, a: TypedArray, off: number, rows: number, kc: number, lda: number): void {
  const { mr } = GEMM_TILE;
  for (let i0 = 0; i0 < rows; i0 += mr) {
    const panel = base + i0 * kc;
    for (let r = 0; r < mr; r++) {
      const d = panel + r;
      if (i0 + r >= rows) {
        for (let p = 0; p < kc; p++) mem[d + p * mr] = 0;
        continue;
      }
      const s = off + (i0 + r) * lda;
      for (let p = 0; p < kc; p++) mem[d + p * mr] = a[s + p];
    }
  }
}

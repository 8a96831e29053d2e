import type { TypedArray } from '@kiln/core';
import { GEMM_BATCH_PARAMS, gemmModule, type GemmTile } from './gemm_kernel.js';
import { kernelExports, kernelMemory, nodeBuiltin, parallelFor, usableThreads, type WasmModule } from '../threads/pool.js';

/**
 * Float32 matrix products in WebAssembly SIMD, on every core: operands are copied into the
 * shared kernel memory, B is packed into panels (in parallel over panels), then each thread
 * packs its own blocks of A and computes its rows (or column panels) of C with the generated
 * micro-kernel (gemm_kernel.ts); C is copied out. Transposed operands are read by the packing
 * through strides, so `aᵀ @ b` and `a @ bᵀ` cost the same as `a @ b`.
 * Layout, blocking and threading are described in docs/design/cpu-wasm.md.
 */

/** The register tile of the micro-kernel. */
export const GEMM_TILE: GemmTile = { mr: 4, nr: 8, unroll: 1 };
/** Steps of k per packed block: a kc×nr panel of B (8 KiB) stays in L1 while A panels stream past it. */
export const GEMM_KC = 256;
/** Rows of A per packed block (a multiple of mr): an mc×kc block of A (128 KiB) stays in L2. */
export const GEMM_MC = 128;
/** Products with fewer multiply-adds than this per thread stay on fewer threads (waking a worker costs tens of µs). */
export const GEMM_MIN_MACS_PER_THREAD = 1 << 20;

interface WasmApi { Module: new (bytes: Uint8Array) => WasmModule; validate(bytes: Uint8Array): boolean }
type Fn = (...args: number[]) => unknown;
interface Engine { module: WasmModule; fma: boolean; packB: Fn; gemmTask: Fn }

let engine: Engine | null | undefined;

/**
 * Whether the engine accepts relaxed-SIMD `f32x4.relaxed_madd`. In Node 20 the feature is behind
 * a V8 flag, which is set first (through `process.getBuiltinModule`, so browser bundles never
 * import `node:v8`). `KILN_WASM_FMA=0` turns it off.
 */
export function relaxedSimdAvailable(): boolean {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!wasm) return false;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env?.KILN_WASM_FMA === '0') return false;
  // (func (param v128 v128 v128) (result v128) local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd)
  const probe = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0,
    10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11]);
  if (wasm.validate(probe)) return true;
  try {
    nodeBuiltin<{ setFlagsFromString(f: string): void }>('node:v8')?.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return wasm.validate(probe);
}

/** The compiled kernel, or null where the engine has no WebAssembly SIMD (compiled once, lazily). */
function getEngine(): Engine | null {
  if (engine !== undefined) return engine;
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  const km = kernelMemory();
  engine = null;
  if (!wasm || !km) return engine;
  for (const fma of relaxedSimdAvailable() ? [true, false] : [false]) {
    try {
      const module = new wasm.Module(gemmModule(GEMM_TILE, { fma, kc: GEMM_KC, mc: GEMM_MC, memory: km.type }));
      const fns = kernelExports(module);
      return (engine = { module, fma, packB: fns.packB, gemmTask: fns.gemmTask });
    } catch {
      // no SIMD128 (or no relaxed SIMD after all): try the next, else stay on JS
    }
  }
  return engine;
}

/** Whether float32 matmuls can run in WebAssembly SIMD here. */
export function wasmGemmAvailable(): boolean {
  return getEngine() !== null;
}

/** Whether the WebAssembly matmul uses relaxed-SIMD multiply-add (see docs/design/cpu-wasm.md on rounding). */
export function wasmGemmUsesFma(): boolean {
  return getEngine()?.fma ?? false;
}

const roundUp = (x: number, to: number) => Math.ceil(x / to) * to;
const align = (bytes: number) => roundUp(bytes, 64);

/** Which operands are stored transposed: `transA` means a holds Aᵀ (k×m), `transB` b holds Bᵀ (n×k). */
export interface GemmOptions { transA?: boolean; transB?: boolean }

/**
 * Batched float32 product: for each t, dst[t·m·n ..] (m×n) = A_t @ B_t, where A_t is the m×k
 * matrix at a[aOffsets[t] ..] (stored k×m, i.e. transposed, when `transA`) and B_t the k×n
 * matrix at b[bOffsets[t] ..] (stored n×k when `transB`), all row-major. A batch of consecutive
 * untransposed A times one B runs as one tall product; B is packed once per run of equal
 * offsets. Requires m, k, n ≥ 1. Results do not depend on the thread count.
 */
export function gemmF32(a: TypedArray, aOffsets: readonly number[], b: TypedArray, bOffsets: readonly number[], dst: TypedArray, m: number, k: number, n: number, options: GemmOptions = {}): void {
  const e = getEngine();
  const km = kernelMemory();
  if (!e || !km) throw new Error('gemmF32: WebAssembly SIMD is not available');
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  const batches = aOffsets.length;
  const stacked = !transA && aOffsets.every((o, t) => o === aOffsets[0] + t * m * k) && bOffsets.every((o) => o === bOffsets[0]);
  if (stacked && batches > 1) return gemmF32(a, [aOffsets[0]], b, [bOffsets[0]], dst, batches * m, k, n, options);
  const { mr, nr } = GEMM_TILE;
  const nPad = roundUp(n, nr);
  const threads = Math.max(1, Math.min(usableThreads(), Math.floor((m * k * n) / GEMM_MIN_MACS_PER_THREAD)));
  const batchTasks = Math.min(usableThreads(), batches, Math.floor((batches * m * k * n) / GEMM_MIN_MACS_PER_THREAD));
  if (threads === 1 && batchTasks > 1) return gemmBatched(e.module, a, aOffsets, b, bOffsets, dst, m, k, n, transA, transB, batchTasks);
  const aRaw = km.base;
  const bRaw = aRaw + align(m * k * 4);
  const packedB = bRaw + align(k * n * 4);
  const cBuf = packedB + align(k * nPad * 4);
  const scratch = cBuf + align(roundUp(m, mr) * nPad * 4); // whole tiles: rows past m are written too
  const scratchBytes = align(GEMM_MC * GEMM_KC * 4);
  let mem = km.reserve(scratch + threads * scratchBytes);
  const [aRowStride, aKStride] = transA ? [4, m * 4] : [k * 4, 4];
  const [pStride, jStride] = transB ? [4, k * 4] : [n * 4, 4];
  const nPanels = nPad / nr;
  const mPanels = Math.ceil(m / mr);
  const bTasks = Math.max(1, Math.min(threads, nPanels));
  // Rows when there are enough row panels to share, else column panels.
  const byRows = mPanels >= 2 * threads || mPanels >= nPanels;
  const tasks = Math.max(1, Math.min(threads, byRows ? mPanels : nPanels));
  let packed = -1;
  for (let t = 0; t < batches; t++) {
    mem.set(a.subarray(aOffsets[t], aOffsets[t] + m * k), aRaw / 4);
    if (bOffsets[t] !== packed) {
      mem.set(b.subarray(bOffsets[t], bOffsets[t] + k * n), bRaw / 4);
      const split = (i: number) => Math.floor((nPanels * i) / bTasks);
      parallelFor(e.module, 'packB', bTasks, (i) => [bRaw, packedB, k, n, pStride, jStride, split(i), split(i + 1), nPad]);
      packed = bOffsets[t];
    }
    parallelFor(e.module, 'gemmTask', tasks, (i) => {
      const own = scratch + i * scratchBytes;
      if (byRows) {
        const r0 = Math.floor((mPanels * i) / tasks) * mr;
        const r1 = Math.min(m, Math.floor((mPanels * (i + 1)) / tasks) * mr);
        return [aRaw, aRowStride, aKStride, packedB, cBuf, nPad * 4, k, nPad, r0, r1, 0, nPanels, own];
      }
      const j0 = Math.floor((nPanels * i) / tasks);
      const j1 = Math.floor((nPanels * (i + 1)) / tasks);
      return [aRaw, aRowStride, aKStride, packedB, cBuf, nPad * 4, k, nPad, 0, m, j0, j1, own];
    });
    mem = km.reserve(0);
    const c0 = cBuf / 4;
    const dOff = t * m * n;
    if (n === nPad) dst.set(mem.subarray(c0, c0 + m * n), dOff);
    else for (let r = 0; r < m; r++) dst.set(mem.subarray(c0 + r * nPad, c0 + r * nPad + n), dOff + r * n);
  }
}

/**
 * Many products each too small to split (one thread's worth or less) but worth splitting as a
 * batch: every operand is copied in at a uniform stride, and each task packs and multiplies
 * whole products (`gemmBatch`), the same code a single product runs, so results are identical.
 */
function gemmBatched(module: WasmModule, a: TypedArray, aOffsets: readonly number[], b: TypedArray, bOffsets: readonly number[], dst: TypedArray, m: number, k: number, n: number, transA: boolean, transB: boolean, tasks: number): void {
  const km = kernelMemory()!;
  const { mr, nr } = GEMM_TILE;
  const batches = aOffsets.length;
  const nPad = roundUp(n, nr);
  const aStride = align(m * k * 4);
  const bStride = align(k * n * 4);
  const packedBStride = align(k * nPad * 4);
  const cStride = align(roundUp(m, mr) * nPad * 4);
  const params = km.base;
  const aRaw = params + align(GEMM_BATCH_PARAMS.length * 4);
  const bRaw = aRaw + batches * aStride;
  const packedB = bRaw + batches * bStride;
  const cBuf = packedB + batches * packedBStride;
  const scratch = cBuf + batches * cStride;
  const scratchBytes = align(GEMM_MC * GEMM_KC * 4);
  let mem = km.reserve(scratch + tasks * scratchBytes);
  for (let t = 0; t < batches; t++) {
    mem.set(a.subarray(aOffsets[t], aOffsets[t] + m * k), (aRaw + t * aStride) / 4);
    mem.set(b.subarray(bOffsets[t], bOffsets[t] + k * n), (bRaw + t * bStride) / 4);
  }
  const [aRowStride, aKStride] = transA ? [4, m * 4] : [k * 4, 4];
  const [pStride, jStride] = transB ? [4, k * 4] : [n * 4, 4];
  const values: Record<(typeof GEMM_BATCH_PARAMS)[number], number> = {
    a: aRaw, aStride, aRowStride, aKStride, b: bRaw, bStride, pStride, jStride,
    packedB, packedBStride, c: cBuf, cStride, ldc: nPad * 4, k, n, nPad, m,
  };
  new Int32Array(mem.buffer, params, GEMM_BATCH_PARAMS.length).set(GEMM_BATCH_PARAMS.map((f) => values[f]));
  parallelFor(module, 'gemmBatch', tasks, (i) => [params, Math.floor((batches * i) / tasks), Math.floor((batches * (i + 1)) / tasks), scratch + i * scratchBytes]);
  mem = km.reserve(0);
  for (let t = 0; t < batches; t++) {
    const c0 = (cBuf + t * cStride) / 4;
    if (n === nPad) dst.set(mem.subarray(c0, c0 + m * n), t * m * n);
    else for (let r = 0; r < m; r++) dst.set(mem.subarray(c0 + r * nPad, c0 + r * nPad + n), t * m * n + r * n);
  }
}

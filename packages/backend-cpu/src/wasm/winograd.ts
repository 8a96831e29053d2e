import type { TypedArray } from '@kiln/core';
import { kernelMemory, parallelFor, usableThreads, type WasmModule } from '../threads/pool.js';
import { Code, I32, V128, encodeModule } from './emitter.js';
import { GEMM_KC, GEMM_MC, GEMM_MIN_MACS_PER_THREAD, GEMM_TILE, wasmGemmAvailable, wasmGemmUsesFma } from './gemm.js';
import { GEMM_BATCH_PARAMS, gemmModule } from './gemm_kernel.js';

/**
 * Winograd F(2×2, 3×3) for stride-1, undilated, ungrouped 3×3 float32 convolutions: each 2×2
 * block of output ("tile") is computed from a 4×4 block of input with 16 multiplies per
 * (input channel, output channel) instead of 36. Per chunk of images:
 *  1. the input is staged zero-padded in the kernel memory and each 4×4 block transformed,
 *     V = Bᵀ d B, in WebAssembly SIMD (four neighbouring tiles per f32x4, adds only), into
 *     V[16][C][tiles];
 *  2. 16 products M_t = U_t @ V_t ([K, C] @ [C, tiles]) by the shared gemm kernel's `gemmBatch`
 *     (gemm_kernel.ts, the code `gemmF32` runs) on operands already in the kernel memory, with
 *     U = G g Gᵀ the transformed weight (computed in JS per call: 16·K·C floats);
 *  3. the output transform Y = Aᵀ M A, in WebAssembly SIMD, writes 2×2 output blocks.
 * Rows of tiles are shared among threads in steps 1 and 3; the gemm threads itself.
 * See docs/design/cpu-wasm.md, "Convolution and pooling" (Winograd).
 */

/**
 * Tiles per chunk the batch is split into (whole images, at least one): `chunkTiles` on one
 * thread (V, M and the packed operands stay in L2), `perThreadTiles` × threads on more (fewer
 * pool wake-ups per image). Measured in docs/design/cpu-wasm.md, "Winograd". A chunk (one image at
 * least) needing more than `maxFloats` floats of kernel memory is left to the direct kernel.
 */
export const WINOGRAD_LIMITS = { chunkTiles: 256, perThreadTiles: 576, maxFloats: 1 << 24 };
/** Rows of tiles × channels per thread below which fewer threads are woken in the transforms. */
const MIN_ROWS_PER_THREAD = 64;

const roundUp = (x: number, to: number) => Math.ceil(x / to) * to;
const EVEN = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
const ODD = EVEN.map((b) => b + 4);
const ZIP_LO = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
const ZIP_HI = ZIP_LO.map((b) => b + 8);

/** A convolution Winograd can run: x [batch, channels, height, width], w [outChannels, channels, 3, 3], stride 1. */
export interface WinogradConv {
  batch: number; channels: number; height: number; width: number; outChannels: number;
  padTop: number; padLeft: number; outH: number; outW: number;
}

/** Everything the generated code is specialised for. */
interface Plan {
  channels: number; outChannels: number; tilesH: number; tilesWp: number;
  /** Images per chunk, so tiles per chunk T = images·tilesH·tilesWp. */
  images: number;
}

/** Tiles per chunk, rounded up to the gemm's panel width (the products' n and row stride). */
const tilesPerChunk = (p: Plan) => roundUp(p.images * p.tilesH * p.tilesWp, GEMM_TILE.nr);
const align = (bytes: number) => roundUp(bytes, 64);
/** Bytes between the products' outputs M_t ([K rounded to the tile][T]). */
const productStride = (p: Plan) => align(roundUp(p.outChannels, GEMM_TILE.mr) * tilesPerChunk(p) * 4);

const planKey = (p: Plan) => `${p.channels},${p.outChannels},${p.tilesH},${p.tilesWp},${p.images}`;

/**
 * `input(x, v, q0, q1)`: for q = (image·C + c)·tilesH + th in [q0, q1), the tiles of row th of
 * plane (image, c) of the staged input x ([image][c][2·tilesH + 2][2·tilesWp + 2]) into
 * v[t][c][T] at tile (image·tilesH + th)·tilesWp + tw (T: `tilesPerChunk`).
 * `output(m, y, q0, q1)`: for q = k·R + image·tilesH + th (R = images·tilesH), the tiles of
 * product t's [k][T] at m + t·`productStride` into rows 2th, 2th+1 of plane (image, k) of y
 * ([image][k][2·tilesH][2·tilesWp]).
 */
function winogradModule(p: Plan, memory: NonNullable<ReturnType<typeof kernelMemory>>['type']): Uint8Array {
  const { channels: C, outChannels: K, tilesH, tilesWp, images } = p;
  const T = tilesPerChunk(p);
  const cStride = productStride(p);
  const hp = 2 * tilesH + 2;
  const wp = 2 * tilesWp + 2;
  const groups = tilesWp / 4;

  const input = new Code([I32, I32, I32, I32]);
  {
    const c = input;
    const [X, Vp, Q0, Q1] = [0, 1, 2, 3];
    const [q, plane, th, img, ch, src, dst, g] = Array.from({ length: 8 }, () => c.local(I32));
    const d = Array.from({ length: 16 }, () => c.local(V128));
    const [a, b] = [c.local(V128), c.local(V128)];
    const r = Array.from({ length: 16 }, () => c.local(V128));
    c.get(Q0).set(q);
    c.block().loop();
    c.get(q).get(Q1).geU().brIf(1);
    c.get(q).i32(tilesH).divU().set(plane);
    c.get(q).get(plane).i32(tilesH).mul().sub().set(th);
    c.get(plane).i32(C).divU().set(img);
    c.get(plane).get(img).i32(C).mul().sub().set(ch);
    // src = x + (plane·hp + 2·th)·wp·4; dst = v + (c·T + (img·tilesH + th)·tilesWp)·4
    c.get(X).get(plane).i32(hp).mul().get(th).i32(2).mul().add().i32(wp * 4).mul().add().set(src);
    c.get(Vp).get(ch).i32(T).mul().get(img).i32(tilesH).mul().get(th).add().i32(tilesWp).mul().add().i32(4).mul().add().set(dst);
    c.i32(groups).set(g);
    c.loop();
    for (let i = 0; i < 4; i++) {
      const row = i * wp * 4;
      // Lane l holds tile tw + l: columns 2l + j of the 4 input rows.
      c.get(src).v128LoadUnaligned(row).set(a);
      c.get(src).v128LoadUnaligned(row + 16).set(b);
      c.get(a).get(b).i8x16Shuffle(EVEN).set(d[i * 4]);
      c.get(a).get(b).i8x16Shuffle(ODD).set(d[i * 4 + 1]);
      c.get(src).v128LoadUnaligned(row + 8).set(a);
      c.get(src).v128LoadUnaligned(row + 24).set(b);
      c.get(a).get(b).i8x16Shuffle(EVEN).set(d[i * 4 + 2]);
      c.get(a).get(b).i8x16Shuffle(ODD).set(d[i * 4 + 3]);
    }
    // Bᵀ d: rows (d0 − d2, d1 + d2, d2 − d1, d1 − d3), then the same over columns.
    for (let j = 0; j < 4; j++) {
      const at = (i: number) => d[i * 4 + j];
      c.get(at(0)).get(at(2)).f32x4Sub().set(r[j]);
      c.get(at(1)).get(at(2)).f32x4Add().set(r[4 + j]);
      c.get(at(2)).get(at(1)).f32x4Sub().set(r[8 + j]);
      c.get(at(1)).get(at(3)).f32x4Sub().set(r[12 + j]);
    }
    for (let i = 0; i < 4; i++) {
      const at = (j: number) => r[i * 4 + j];
      const out = (j: number) => (i * 4 + j) * C * T * 4;
      c.get(dst).get(at(0)).get(at(2)).f32x4Sub().v128Store(out(0));
      c.get(dst).get(at(1)).get(at(2)).f32x4Add().v128Store(out(1));
      c.get(dst).get(at(2)).get(at(1)).f32x4Sub().v128Store(out(2));
      c.get(dst).get(at(1)).get(at(3)).f32x4Sub().v128Store(out(3));
    }
    c.inc(src, 32).inc(dst, 16);
    c.get(g).i32(1).sub().tee(g).brIf(0).end();
    c.inc(q, 1).br(0).end().end();
  }

  const output = new Code([I32, I32, I32, I32]);
  {
    const c = output;
    const [Mp, Y, Q0, Q1] = [0, 1, 2, 3];
    const R = images * tilesH;
    const ho = 2 * tilesH;
    const wo = 2 * tilesWp;
    const [q, k, rem, img, th, src, dst, g] = Array.from({ length: 8 }, () => c.local(I32));
    const m = Array.from({ length: 16 }, () => c.local(V128));
    const s = Array.from({ length: 8 }, () => c.local(V128));
    const [y0, y1] = [c.local(V128), c.local(V128)];
    c.get(Q0).set(q);
    c.block().loop();
    c.get(q).get(Q1).geU().brIf(1);
    c.get(q).i32(R).divU().set(k);
    c.get(q).get(k).i32(R).mul().sub().set(rem);
    c.get(rem).i32(tilesH).divU().set(img);
    c.get(rem).get(img).i32(tilesH).mul().sub().set(th);
    c.get(Mp).get(k).i32(T).mul().get(rem).i32(tilesWp).mul().add().i32(4).mul().add().set(src);
    // dst = y + ((img·K + k)·ho + 2·th)·wo·4
    c.get(Y).get(img).i32(K).mul().get(k).add().i32(ho).mul().get(th).i32(2).mul().add().i32(wo * 4).mul().add().set(dst);
    c.i32(groups).set(g);
    c.loop();
    for (let t = 0; t < 16; t++) c.get(src).v128Load(t * cStride).set(m[t]);
    // Aᵀ m: rows (m0 + m1 + m2, m1 − m2 − m3), then the same over columns.
    for (let j = 0; j < 4; j++) {
      const at = (i: number) => m[i * 4 + j];
      c.get(at(0)).get(at(1)).f32x4Add().get(at(2)).f32x4Add().set(s[j]);
      c.get(at(1)).get(at(2)).f32x4Sub().get(at(3)).f32x4Sub().set(s[4 + j]);
    }
    for (let i = 0; i < 2; i++) {
      const at = (j: number) => s[i * 4 + j];
      c.get(at(0)).get(at(1)).f32x4Add().get(at(2)).f32x4Add().set(y0);
      c.get(at(1)).get(at(2)).f32x4Sub().get(at(3)).f32x4Sub().set(y1);
      // Interleave: output columns 2l, 2l + 1 of tile l.
      c.get(dst).get(y0).get(y1).i8x16Shuffle(ZIP_LO).v128Store(i * wo * 4);
      c.get(dst).get(y0).get(y1).i8x16Shuffle(ZIP_HI).v128Store(i * wo * 4 + 16);
    }
    c.inc(src, 16).inc(dst, 32);
    c.get(g).i32(1).sub().tee(g).brIf(0).end();
    c.inc(q, 1).br(0).end().end();
  }
  return encodeModule([{ name: 'input', code: input }, { name: 'output', code: output }], 1, memory);
}

const modules = new Map<string, WasmModule | null>();
let gemm: WasmModule | null | undefined;

/** The shared gemm kernel, compiled as `gemmF32` compiles it (same tile, blocking and FMA choice), so the products round the same. */
function gemmKernel(): WasmModule | null {
  if (gemm !== undefined) return gemm;
  const km = kernelMemory();
  const wasm = (globalThis as { WebAssembly?: { Module: new (b: Uint8Array) => WasmModule } }).WebAssembly;
  gemm = null;
  if (!km || !wasm || !wasmGemmAvailable()) return gemm;
  try {
    gemm = new wasm.Module(gemmModule(GEMM_TILE, { fma: wasmGemmUsesFma(), kc: GEMM_KC, mc: GEMM_MC, memory: km.type }));
  } catch {
    gemm = null;
  }
  return gemm;
}

function moduleFor(plan: Plan): WasmModule | null {
  const key = planKey(plan);
  let m = modules.get(key);
  if (m === undefined) {
    const km = kernelMemory();
    const wasm = (globalThis as { WebAssembly?: { Module: new (b: Uint8Array) => WasmModule } }).WebAssembly;
    try {
      m = km && wasm ? new wasm.Module(winogradModule(plan, km.type)) : null;
    } catch {
      m = null; // no SIMD128
    }
    if (modules.size > 64) modules.clear();
    modules.set(key, m);
  }
  return m;
}

function planOf(g: WinogradConv): Plan {
  const tilesH = Math.ceil(g.outH / 2);
  const tilesWp = roundUp(Math.ceil(g.outW / 2), 4);
  const threads = usableThreads();
  const tiles = threads > 1 ? WINOGRAD_LIMITS.perThreadTiles * threads : WINOGRAD_LIMITS.chunkTiles;
  const images = Math.max(1, Math.min(g.batch, Math.floor(tiles / (tilesH * tilesWp))));
  return { channels: g.channels, outChannels: g.outChannels, tilesH, tilesWp, images };
}

/**
 * Whether the first `length` values are all finite. Winograd mixes each input value into a whole 4×4 block
 * (transforms with both signs), so one ±Inf would make Inf − Inf = NaN in outputs whose windows
 * never see it; callers run the direct kernel on non-finite inputs instead (PyTorch's values).
 */
export function allFinite(a: TypedArray, length = a.length): boolean {
  let s0 = 0;
  let s1 = 0;
  const n = Math.min(length, a.length);
  let i = 0;
  for (; i + 1 < n; i += 2) {
    s0 += a[i] * 0;
    s1 += a[i + 1] * 0;
  }
  if (i < n) s0 += a[i] * 0;
  return s0 + s1 === 0;
}

/** Floats of kernel memory one chunk uses: staged x, V and its packed copy, U, M, y. */
function footprintFloats(p: Plan): number {
  const T = tilesPerChunk(p);
  const { channels: C, outChannels: K, images, tilesH, tilesWp } = p;
  return images * C * (2 * tilesH + 2) * (2 * tilesWp + 2) + 32 * C * T + 16 * K * C + (16 * productStride(p)) / 4 + images * K * 4 * tilesH * tilesWp;
}

/** Whether `winogradConvF32` can run `g` here (WebAssembly SIMD and the gemm available). */
export function winogradConvAvailable(g: WinogradConv): boolean {
  if (g.outH <= 0 || g.outW <= 0) return false;
  const p = planOf(g);
  return footprintFloats(p) <= WINOGRAD_LIMITS.maxFloats && gemmKernel() !== null && moduleFor(p) !== null;
}

/**
 * U = G g Gᵀ for each (k, c) of a [K, C, 3, 3] weight, laid out [16][K][C] (the 16 products' A
 * operands), G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]; computed in float64, rounded once.
 */
export function winogradWeight(w: TypedArray, outChannels: number, channels: number): Float32Array {
  const u = new Float32Array(16 * outChannels * channels);
  const kc = outChannels * channels;
  const gg = new Float64Array(12);
  for (let p = 0; p < kc; p++) {
    const o = p * 9;
    for (let j = 0; j < 3; j++) {
      const g0 = w[o + j];
      const g1 = w[o + 3 + j];
      const g2 = w[o + 6 + j];
      gg[j] = g0;
      gg[3 + j] = (g0 + g1 + g2) / 2;
      gg[6 + j] = (g0 - g1 + g2) / 2;
      gg[9 + j] = g2;
    }
    for (let i = 0; i < 4; i++) {
      const g0 = gg[i * 3];
      const g1 = gg[i * 3 + 1];
      const g2 = gg[i * 3 + 2];
      u[(i * 4) * kc + p] = g0;
      u[(i * 4 + 1) * kc + p] = (g0 + g1 + g2) / 2;
      u[(i * 4 + 2) * kc + p] = (g0 - g1 + g2) / 2;
      u[(i * 4 + 3) * kc + p] = g2;
    }
  }
  return u;
}

/** Copies `planes` planes of x from plane `first` into mem at `x0`, each at (padTop, padLeft) of an hp×wp plane. */
function stagePadded(x: TypedArray, mem: Float32Array, first: number, planes: number, x0: number, g: WinogradConv, hp: number, wp: number): void {
  const { height, width } = g;
  const rows = Math.min(height, hp - g.padTop);
  const cols = Math.min(width, wp - g.padLeft);
  for (let ic = 0; ic < planes; ic++) {
    const src = (first + ic) * height * width;
    const dstPlane = x0 + ic * hp * wp + g.padTop * wp + g.padLeft;
    for (let h = 0; h < rows; h++) {
      const s = src + h * width;
      const d = dstPlane + h * wp;
      if (cols >= 64) mem.set(x.subarray(s, s + cols), d);
      else for (let i = 0; i < cols; i++) mem[d + i] = x[s + i];
    }
  }
}

/** Runs the 3×3 stride-1 convolution `g` of float32 x by w ([K, C, 3, 3]) into dst by Winograd F(2×2, 3×3). */
export function winogradConvF32(x: TypedArray, w: TypedArray, g: WinogradConv, dst: TypedArray): void {
  const km = kernelMemory()!;
  const p = planOf(g);
  const module = moduleFor(p)!;
  const gemmKernelModule = gemmKernel()!;
  const { channels: C, outChannels: K, height, width, outH, outW } = g;
  const { tilesH, tilesWp, images: chunk } = p;
  const T = tilesPerChunk(p);
  const hp = 2 * tilesH + 2;
  const wp = 2 * tilesWp + 2;
  const plane = hp * wp;
  const ho = 2 * tilesH;
  const wo = 2 * tilesWp;
  // Kernel memory: gemm parameters | staged x | V [16][C][T] | U [16][K][C] | packed V_t | M_t | y | gemm scratch.
  const paramsAt = km.base;
  const xAt = paramsAt + align(GEMM_BATCH_PARAMS.length * 4);
  const vAt = xAt + align(chunk * C * plane * 4);
  const uAt = vAt + align(16 * C * T * 4);
  const packedAt = uAt + align(16 * K * C * 4);
  const packedStride = align(C * T * 4);
  const mAt = packedAt + 16 * packedStride;
  const cStride = productStride(p);
  const yAt = mAt + 16 * cStride;
  const scratchAt = yAt + align(chunk * K * ho * wo * 4);
  const scratchBytes = align(GEMM_MC * GEMM_KC * 4);
  const threads = usableThreads();
  const gemmTasks = Math.max(1, Math.min(threads, Math.floor((16 * K * C * T) / GEMM_MIN_MACS_PER_THREAD)));
  let mem = km.reserve(scratchAt + gemmTasks * scratchBytes);
  mem.set(winogradWeight(w, K, C), uAt / 4);
  const values: Record<(typeof GEMM_BATCH_PARAMS)[number], number> = {
    a: uAt, aStride: K * C * 4, aRowStride: C * 4, aKStride: 4, b: vAt, bStride: C * T * 4, pStride: T * 4, jStride: 4,
    packedB: packedAt, packedBStride: packedStride, c: mAt, cStride, ldc: T * 4, k: C, n: T, nPad: T, m: K,
  };
  new Int32Array(mem.buffer, paramsAt, GEMM_BATCH_PARAMS.length).set(GEMM_BATCH_PARAMS.map((f) => values[f]));
  const fullCopy = g.padTop === 0 && g.padLeft === 0 && height === hp && width === wp;
  const x0 = xAt / 4;
  const y0 = yAt / 4;
  const outPlane = outH * outW;
  for (let n0 = 0; n0 < g.batch; n0 += chunk) {
    const images = Math.min(chunk, g.batch - n0);
    // 1. Stage x zero-padded ([image][c][hp][wp], input at (padTop, padLeft)) and transform it.
    if (fullCopy) {
      mem.set(x.subarray(n0 * C * plane, (n0 + images) * C * plane), x0);
    } else {
      mem.fill(0, x0, x0 + images * C * plane);
      stagePadded(x, mem, n0 * C, images * C, x0, g, hp, wp);
    }
    const inRows = images * C * tilesH;
    const inTasks = Math.max(1, Math.min(threads, Math.floor(inRows / MIN_ROWS_PER_THREAD)));
    parallelFor(module, 'input', inTasks, (t) => [xAt, vAt, Math.floor((inRows * t) / inTasks), Math.floor((inRows * (t + 1)) / inTasks)]);
    // 2. The 16 products, split by product over the pool (columns of absent images hold stale
    //    values: columns are independent, and those are never read back).
    parallelFor(gemmKernelModule, 'gemmBatch', gemmTasks, (i) => [paramsAt, Math.floor((16 * i) / gemmTasks), Math.floor((16 * (i + 1)) / gemmTasks), scratchAt + i * scratchBytes]);
    // 3. The output transform, then out to dst [n][k][outH][outW].
    const outRows = K * chunk * tilesH;
    const outTasks = Math.max(1, Math.min(threads, Math.floor(outRows / MIN_ROWS_PER_THREAD)));
    parallelFor(module, 'output', outTasks, (t) => [mAt, yAt, Math.floor((outRows * t) / outTasks), Math.floor((outRows * (t + 1)) / outTasks)]);
    mem = km.reserve(0);
    if (ho === outH && wo === outW) {
      dst.set(mem.subarray(y0, y0 + images * K * outPlane), n0 * K * outPlane);
      continue;
    }
    for (let pl = 0; pl < images * K; pl++) {
      let s = y0 + pl * ho * wo;
      let d = (n0 * K + pl) * outPlane;
      for (let r = 0; r < outH; r++, s += wo) for (let j = 0; j < outW; j++) dst[d++] = mem[s + j];
    }
  }
}

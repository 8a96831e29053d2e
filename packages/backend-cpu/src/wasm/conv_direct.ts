import type { TypedArray } from '@kiln/core';
import { kernelMemory, parallelFor, usableThreads, type WasmModule } from '../threads/pool.js';
import { Code, I32, V128, encodeModule } from './emitter.js';
import { relaxedSimdAvailable } from './gemm.js';

/**
 * Stride-1 float32 convolution in WebAssembly SIMD with an implicit im2col: the input is copied
 * once into the kernel memory, zero-padded (so no tap needs a bounds check and every tile is
 * full), and a generated micro-kernel computes 4 output channels × 8 output pixels of one row
 * in eight f32x4 accumulators, reading each tap's 8 input pixels straight from the padded
 * image. The module is generated per geometry, so every tap's offset is an immediate of its
 * load. Rows of output (image, oh) are shared among threads. See docs/design/cpu-wasm.md,
 * "Convolution and pooling".
 */

/** The register tile: `mr` output channels (one splat each) × `nv` f32x4 of output pixels. */
interface Tile { mr: number; nv: number }
const DEFAULT_TILE: Tile = { mr: 4, nv: 2 };
/** Kernels with more taps than this are left to im2col + gemm (the unrolled body would be large). */
export const DIRECT_MAX_TAPS = 49;
/** Multiply-adds per thread below which fewer threads are woken. */
const MIN_MACS_PER_THREAD = 1 << 20;
/**
 * Floats of input and output one call may stage in the kernel memory before the batch is split
 * into chunks (default 16M = 64 MiB; tests lower it to exercise the split).
 */
export const DIRECT_CONV_LIMITS = { stagedFloats: 1 << 24 };

const roundUp = (x: number, to: number) => Math.ceil(x / to) * to;

/** Everything the generated code is specialised for. */
interface Plan {
  channels: number; kH: number; kW: number; dH: number; dW: number;
  hp: number; wp: number; outH: number; outWp: number; ocPanels: number; mr: number; nv: number;
  /** f32x4.relaxed_madd instead of f32x4.mul + f32x4.add (as the gemm: see "Threads" and FMA in cpu-wasm.md). */
  fma: boolean;
}

/**
 * `rows(x, w, y, q0, q1)`: for each output row q in [q0, q1) (image n = q / outH, row oh), each
 * panel of 4 output channels and each tile of 8 pixels, y[n, oc, oh, ow..ow+8] = Σ over c and
 * taps of w[oc, c, kh, kw] · xPadded[n, c, oh + kh·dH, ow + kw·dW ..]. Addresses in bytes;
 * y is [n, ocPanels·4, outH, outWp], w packed as [panel][c][kh][kw][4].
 */
function convModule(p: Plan, memory: NonNullable<ReturnType<typeof kernelMemory>>['type']): Uint8Array {
  const taps = p.kH * p.kW;
  const { mr: MR, nv: NV } = p;
  const NR = 4 * NV;
  const c = new Code([I32, I32, I32, I32, I32]);
  const [X, W, Y, Q0, Q1] = [0, 1, 2, 3, 4];
  const q = c.local(I32);
  const n = c.local(I32);
  const xRow = c.local(I32);
  const yRow = c.local(I32);
  const panel = c.local(I32);
  const tile = c.local(I32);
  const xp = c.local(I32);
  const wp = c.local(I32);
  const count = c.local(I32);
  const acc = Array.from({ length: MR * NV }, () => c.local(V128));
  const bv = Array.from({ length: NV }, () => c.local(V128));
  const a = c.local(V128);
  const planeBytes = p.hp * p.wp * 4;
  const yPlaneBytes = p.outH * p.outWp * 4;

  c.get(Q0).set(q);
  c.block().loop();
  c.get(q).get(Q1).geU().brIf(1);
  // n = q / outH; xRow = x + n·C·plane + (q − n·outH)·wp·4; yRow = y + n·OCp·yPlane + (q − n·outH)·outWp·4
  c.get(q).i32(p.outH).divU().set(n);
  c.get(X).get(n).i32(p.channels * planeBytes).mul().add().get(q).get(n).i32(p.outH).mul().sub().i32(p.wp * 4).mul().add().set(xRow);
  c.get(Y).get(n).i32(p.ocPanels * MR * yPlaneBytes).mul().add().get(q).get(n).i32(p.outH).mul().sub().i32(p.outWp * 4).mul().add().set(yRow);
  c.i32(0).set(panel).loop();
  c.i32(0).set(tile).loop();
  for (const x of acc) c.v128Zero().set(x);
  c.get(xRow).get(tile).i32(NR * 4).mul().add().set(xp);
  c.get(W).get(panel).i32(p.channels * taps * MR * 4).mul().add().set(wp);
  c.i32(p.channels).set(count);
  c.loop();
  for (let kh = 0; kh < p.kH; kh++) {
    for (let kw = 0; kw < p.kW; kw++) {
      const off = (kh * p.dH * p.wp + kw * p.dW) * 4;
      const t = kh * p.kW + kw;
      for (let v = 0; v < NV; v++) c.get(xp).v128LoadUnaligned(off + 16 * v).set(bv[v]);
      for (let r = 0; r < MR; r++) {
        c.get(wp).load32Splat((t * MR + r) * 4).set(a);
        for (let v = 0; v < NV; v++) {
          const x = acc[r * NV + v];
          if (p.fma) c.get(a).get(bv[v]).get(x).f32x4RelaxedMadd().set(x);
          else c.get(x).get(a).get(bv[v]).f32x4Mul().f32x4Add().set(x);
        }
      }
    }
  }
  c.inc(xp, planeBytes).inc(wp, taps * MR * 4);
  c.get(count).i32(1).sub().tee(count).brIf(0).end();
  // Store the tile: row r of the panel is output channel panel·4 + r.
  for (let r = 0; r < MR; r++) {
    for (let v = 0; v < NV; v++) {
      c.get(yRow).get(panel).i32(MR * yPlaneBytes).mul().add().get(tile).i32(NR * 4).mul().add();
      c.get(acc[r * NV + v]).v128Store(r * yPlaneBytes + v * 16);
    }
  }
  c.inc(tile, 1).get(tile).i32(p.outWp / NR).ltU().brIf(0).end();
  c.inc(panel, 1).get(panel).i32(p.ocPanels).ltU().brIf(0).end();
  c.inc(q, 1).br(0).end().end();
  return encodeModule([{ name: 'rows', code: c }], 1, memory);
}

const modules = new Map<string, WasmModule | null>();

let fma: boolean | undefined;

/** The module for `plan` (FMA where the engine has relaxed SIMD), or null without SIMD128; cached. */
function moduleFor(plan: Omit<Plan, 'fma'>): WasmModule | null {
  const key = JSON.stringify(plan);
  let m = modules.get(key);
  if (m === undefined) {
    const km = kernelMemory();
    const wasm = (globalThis as { WebAssembly?: { Module: new (b: Uint8Array) => WasmModule } }).WebAssembly;
    fma ??= relaxedSimdAvailable();
    m = null;
    for (const withFma of fma ? [true, false] : [false]) {
      try {
        if (km && wasm) m = new wasm.Module(convModule({ ...plan, fma: withFma }, km.type));
        break;
      } catch {
        // no relaxed SIMD after all (try without), or no SIMD128 (stay on JS)
      }
    }
    if (modules.size > 64) modules.clear();
    modules.set(key, m);
  }
  return m;
}

/** A stride-1 convolution: x [batch, channels, height, width], zero padding per side, output [batch, outChannels, outH, outW]. */
export interface DirectConv {
  batch: number; channels: number; height: number; width: number; outChannels: number;
  kH: number; kW: number; dH: number; dW: number;
  padTop: number; padLeft: number; outH: number; outW: number;
  /** Index in `w` of weight (oc, c, kh, kw): lets the input gradient read a flipped, transposed weight. */
  weightIndex(oc: number, c: number, kh: number, kw: number): number;
}

/**
 * 4 channels × 12 pixels (3 loads and 4 splats per 12 multiply-adds; 16 v128 values live) where
 * the row pads no more than to a multiple of 8, else 4 × 8 (as the gemm's tile). The CNN's
 * 24-wide rows take 4 × 12: best of 80 runs, 24.9 against 23.0 GFLOP/s (docs/design/cpu-wasm.md).
 */
function tileFor(g: DirectConv): Tile {
  return roundUp(g.outW, 12) <= roundUp(g.outW, 8) ? { mr: 4, nv: 3 } : DEFAULT_TILE;
}

function planOf(g: DirectConv): Omit<Plan, 'fma'> {
  const { mr, nv } = tileFor(g);
  const outWp = roundUp(g.outW, 4 * nv);
  return {
    channels: g.channels, kH: g.kH, kW: g.kW, dH: g.dH, dW: g.dW, mr, nv,
    hp: g.outH + (g.kH - 1) * g.dH, wp: outWp + (g.kW - 1) * g.dW, outH: g.outH, outWp, ocPanels: Math.ceil(g.outChannels / mr),
  };
}

/** Whether `convDirectF32` can run this convolution here. */
export function directConvAvailable(g: DirectConv): boolean {
  return g.kH * g.kW <= DIRECT_MAX_TAPS && g.outH > 0 && g.outW > 0 && moduleFor(planOf(g)) !== null;
}

/** Runs the stride-1 convolution `g` of float32 x by w into dst (see DirectConv). */
export function convDirectF32(x: TypedArray, w: TypedArray, g: DirectConv, dst: TypedArray): void {
  const km = kernelMemory()!;
  const p = planOf(g);
  const module = moduleFor(p)!;
  const { channels, height, width, outH, outW } = g;
  const plane = p.hp * p.wp;
  const yPlane = outH * p.outWp;
  const MR = p.mr;
  const NR = 4 * p.nv;
  const ocP = p.ocPanels * MR;
  const taps = g.kH * g.kW;
  // Packed weights: [panel][c][kh][kw][4], zero for channels past outChannels.
  const wBytes = roundUp(ocP * channels * taps * 4, 64);
  const perImage = channels * plane + ocP * yPlane;
  const chunk = Math.max(1, Math.min(g.batch, Math.floor(DIRECT_CONV_LIMITS.stagedFloats / perImage)));
  const wAt = km.base;
  const xAt = wAt + wBytes;
  const xBytes = roundUp((chunk * channels * plane + NR) * 4, 64); // + NR: the last tile's over-read
  const yAt = xAt + xBytes;
  let mem = km.reserve(yAt + chunk * ocP * yPlane * 4);
  let d = wAt / 4;
  for (let panel = 0; panel < p.ocPanels; panel++) {
    for (let c = 0; c < channels; c++) {
      for (let kh = 0; kh < g.kH; kh++) {
        for (let kw = 0; kw < g.kW; kw++) {
          for (let r = 0; r < MR; r++) {
            const oc = panel * MR + r;
            mem[d++] = oc < g.outChannels ? w[g.weightIndex(oc, c, kh, kw)] : 0;
          }
        }
      }
    }
  }
  const fullCopy = g.padTop === 0 && g.padLeft === 0 && p.hp === height && p.wp === width;
  for (let n0 = 0; n0 < g.batch; n0 += chunk) {
    const images = Math.min(chunk, g.batch - n0);
    // Stage x zero-padded: [image][c][hp][wp], the input at (padTop, padLeft).
    const x0 = xAt / 4;
    if (fullCopy) {
      mem.set(x.subarray(n0 * channels * plane, (n0 + images) * channels * plane), x0);
    } else {
      mem.fill(0, x0, x0 + images * channels * plane + NR);
      const rows = Math.min(height, p.hp - g.padTop);
      const cols = Math.min(width, p.wp - g.padLeft);
      for (let ic = 0; ic < images * channels; ic++) {
        const src = (n0 * channels + ic) * height * width;
        const dstPlane = x0 + ic * plane + g.padTop * p.wp + g.padLeft;
        for (let h = 0; h < rows; h++) {
          const s = src + h * width;
          const t = dstPlane + h * p.wp;
          for (let i = 0; i < cols; i++) mem[t + i] = x[s + i];
        }
      }
    }
    const rowsTotal = images * outH;
    const macs = rowsTotal * ocP * p.outWp * channels * taps;
    const tasks = Math.max(1, Math.min(usableThreads(), rowsTotal, Math.floor(macs / MIN_MACS_PER_THREAD)));
    parallelFor(module, 'rows', tasks, (t) => [xAt, wAt, yAt, Math.floor((rowsTotal * t) / tasks), Math.floor((rowsTotal * (t + 1)) / tasks)]);
    mem = km.reserve(0);
    // Copy out [image][oc][outH][outWp] → dst [n][oc][outH][outW]: one `set` when the layouts
    // agree, else an element loop (a subarray per short row costs more than the row's copy).
    const y0 = yAt / 4;
    if (outW === p.outWp && ocP === g.outChannels) {
      dst.set(mem.subarray(y0, y0 + images * ocP * yPlane), n0 * g.outChannels * outH * outW);
      continue;
    }
    for (let i = 0; i < images; i++) {
      for (let oc = 0; oc < g.outChannels; oc++) {
        const s = y0 + (i * ocP + oc) * yPlane;
        const o = ((n0 + i) * g.outChannels + oc) * outH * outW;
        if (outW === p.outWp) dst.set(mem.subarray(s, s + yPlane), o);
        else copyRows(mem, s, p.outWp, dst, o, outW, outH);
      }
    }
  }
}

/** `rows` rows of `cols` floats from src (rows `srcStride` apart, from `s`) to dst (packed, from `d`). */
function copyRows(src: Float32Array, s: number, srcStride: number, dst: TypedArray, d: number, cols: number, rows: number): void {
  for (let r = 0; r < rows; r++, s += srcStride) for (let j = 0; j < cols; j++) dst[d++] = src[s + j];
}

import type { TypedArray } from '@kiln/core';
import { kernelMemory, parallelFor, usableThreads, type WasmModule } from '../threads/pool.js';
import { Code, I32, V128, encodeModule } from './emitter.js';
import { relaxedSimdAvailable } from './gemm.js';

/**
 * Stride-1 depthwise float32 convolution (groups = input channels) in WebAssembly SIMD. Each
 * output channel oc reads the one input channel oc / multiplier, so there is no channel sum to
 * block for: the kernel walks every output row in tiles of 8 pixels, each tap two unaligned
 * loads from the zero-padded staged plane and one splat of its weight. Rows of all planes are
 * shared among threads. See docs/design/cpu-wasm.md, "Convolution and pooling".
 */

/** Kernels with more taps than this stay on JS (the unrolled body would be large). */
const MAX_TAPS = 49;
const MIN_MACS_PER_THREAD = 1 << 18;
const NR = 8;
const roundUp = (x: number, to: number) => Math.ceil(x / to) * to;

/** A stride-1 depthwise convolution: out channel oc reads input channel ⌊oc / (outChannels / channels)⌋. */
export interface DepthwiseConv {
  batch: number; channels: number; height: number; width: number; outChannels: number;
  kH: number; kW: number; dH: number; dW: number;
  padTop: number; padLeft: number; outH: number; outW: number;
  /** Index in `w` of output channel oc's tap (kh, kw). */
  weightIndex(oc: number, kh: number, kw: number): number;
}

interface Plan { kH: number; kW: number; dH: number; dW: number; hp: number; wp: number; outH: number; outWp: number; channels: number; outChannels: number; fma: boolean }

/** `rows(x, w, y, q0, q1)`: output rows q = (n·outChannels + oc)·outH + oh in [q0, q1); y rows outWp floats apart, w as [oc][tap]. */
function depthwiseModule(p: Plan, memory: NonNullable<ReturnType<typeof kernelMemory>>['type']): Uint8Array {
  const taps = p.kH * p.kW;
  const mult = p.outChannels / p.channels;
  const c = new Code([I32, I32, I32, I32, I32]);
  const [X, W, Y, Q0, Q1] = [0, 1, 2, 3, 4];
  const [q, plane, n, oc, xRow, wRow, yp, tile] = Array.from({ length: 8 }, () => c.local(I32));
  const [acc0, acc1, b0, b1, a] = Array.from({ length: 5 }, () => c.local(V128));
  const madd = (x: number, b: number) => {
    if (p.fma) c.get(a).get(b).get(x).f32x4RelaxedMadd().set(x);
    else c.get(x).get(a).get(b).f32x4Mul().f32x4Add().set(x);
  };
  c.get(Q0).set(q);
  c.block().loop();
  c.get(q).get(Q1).geU().brIf(1);
  // plane = q / outH = n·outC + oc; input plane = n·C + oc / mult; xRow at its row oh = q − plane·outH
  c.get(q).i32(p.outH).divU().set(plane);
  c.get(plane).i32(p.outChannels).divU().set(n);
  c.get(plane).get(n).i32(p.outChannels).mul().sub().set(oc);
  c.get(X);
  c.get(n).i32(p.channels).mul().get(oc).i32(mult).divU().add().i32(p.hp * p.wp * 4).mul().add();
  c.get(q).get(plane).i32(p.outH).mul().sub().i32(p.wp * 4).mul().add().set(xRow);
  c.get(W).get(oc).i32(taps * 4).mul().add().set(wRow);
  c.get(Y).get(q).i32(p.outWp * 4).mul().add().set(yp);
  c.i32(p.outWp / NR).set(tile);
  c.loop();
  c.v128Zero().set(acc0).v128Zero().set(acc1);
  for (let kh = 0; kh < p.kH; kh++) {
    for (let kw = 0; kw < p.kW; kw++) {
      const off = (kh * p.dH * p.wp + kw * p.dW) * 4;
      c.get(xRow).v128LoadUnaligned(off).set(b0);
      c.get(xRow).v128LoadUnaligned(off + 16).set(b1);
      c.get(wRow).load32Splat((kh * p.kW + kw) * 4).set(a);
      madd(acc0, b0);
      madd(acc1, b1);
    }
  }
  c.get(yp).get(acc0).v128Store(0).get(yp).get(acc1).v128Store(16);
  c.inc(xRow, NR * 4).inc(yp, NR * 4);
  c.get(tile).i32(1).sub().tee(tile).brIf(0).end();
  c.inc(q, 1).br(0).end().end();
  return encodeModule([{ name: 'rows', code: c }], 1, memory);
}

const modules = new Map<string, WasmModule | null>();
let fma: boolean | undefined;

function planOf(g: DepthwiseConv): Omit<Plan, 'fma'> {
  const outWp = roundUp(g.outW, NR);
  return {
    kH: g.kH, kW: g.kW, dH: g.dH, dW: g.dW, channels: g.channels, outChannels: g.outChannels,
    hp: g.outH + (g.kH - 1) * g.dH, wp: outWp + (g.kW - 1) * g.dW, outH: g.outH, outWp,
  };
}

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
        if (km && wasm) m = new wasm.Module(depthwiseModule({ ...plan, fma: withFma }, km.type));
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

/** Whether `depthwiseConvF32` can run `g` here (taps ≤ 49, a non-empty output, WebAssembly SIMD). */
export function depthwiseConvAvailable(g: DepthwiseConv): boolean {
  return g.kH * g.kW <= MAX_TAPS && g.batch > 0 && g.outH > 0 && g.outW > 0 && g.outChannels % g.channels === 0 && moduleFor(planOf(g)) !== null;
}

/** Runs the depthwise convolution `g` of float32 x by w into dst (see DepthwiseConv). */
export function depthwiseConvF32(x: TypedArray, w: TypedArray, g: DepthwiseConv, dst: TypedArray): void {
  const km = kernelMemory()!;
  const p = planOf(g);
  const module = moduleFor(p)!;
  const { batch, channels, height, width, outChannels, outH, outW } = g;
  const taps = g.kH * g.kW;
  const plane = p.hp * p.wp;
  const wAt = km.base;
  const xAt = wAt + roundUp(outChannels * taps * 4, 64);
  const yAt = xAt + roundUp((batch * channels * plane + NR) * 4, 64);
  let mem = km.reserve(yAt + batch * outChannels * outH * p.outWp * 4);
  let d = wAt / 4;
  for (let oc = 0; oc < outChannels; oc++) for (let kh = 0; kh < g.kH; kh++) for (let kw = 0; kw < g.kW; kw++) mem[d++] = w[g.weightIndex(oc, kh, kw)];
  const x0 = xAt / 4;
  mem.fill(0, x0, x0 + batch * channels * plane + NR);
  const rows = Math.min(height, p.hp - g.padTop);
  const cols = Math.min(width, p.wp - g.padLeft);
  for (let pc = 0; pc < batch * channels; pc++) {
    let s = pc * height * width;
    let t = x0 + pc * plane + g.padTop * p.wp + g.padLeft;
    for (let h = 0; h < rows; h++, s += width, t += p.wp) for (let i = 0; i < cols; i++) mem[t + i] = x[s + i];
  }
  const rowsTotal = batch * outChannels * outH;
  const macs = rowsTotal * p.outWp * taps;
  const tasks = Math.max(1, Math.min(usableThreads(), Math.floor(macs / MIN_MACS_PER_THREAD)));
  parallelFor(module, 'rows', tasks, (t) => [xAt, wAt, yAt, Math.floor((rowsTotal * t) / tasks), Math.floor((rowsTotal * (t + 1)) / tasks)]);
  mem = km.reserve(0);
  const y0 = yAt / 4;
  if (outW === p.outWp) {
    dst.set(mem.subarray(y0, y0 + rowsTotal * outW));
    return;
  }
  let o = 0;
  for (let r = 0, s = y0; r < rowsTotal; r++, s += p.outWp) for (let j = 0; j < outW; j++) dst[o++] = mem[s + j];
}

import type { TypedArray } from '@kiln/core';
import { kernelMemory, parallelFor, usableThreads, type WasmModule } from '../threads/pool.js';
import { Code, I32, V128, encodeModule } from './emitter.js';

/**
 * 2×2 max pooling with stride 2 and no padding over float32 NCHW planes, in WebAssembly SIMD:
 * four outputs per step from two 8-float loads of each input row, split into even and odd
 * columns by shuffles. Each window's taps are taken in PyTorch's order (row by row) with its
 * rule — a tap replaces the best so far when it is greater or NaN — so ties keep the first
 * maximum (−0 before +0) and NaN wins, exactly as the JS kernels. Output rows are shared among
 * threads. See docs/design/cpu-wasm.md, "Convolution and pooling".
 */

/** Planes·rows below this many outputs stay on the JS kernel (copies and a call cost more). */
export const WASM_MAXPOOL_MIN_OUTPUTS = 1 << 12;
const MIN_OUTPUTS_PER_THREAD = 1 << 16;

const roundUp = (x: number, to: number) => Math.ceil(x / to) * to;
const EVEN = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
const ODD = EVEN.map((b) => b + 4);

/** `rows(x, y, q0, q1)`: output rows q in [q0, q1) of all planes, y rows `outWp` floats apart. */
function poolModule(height: number, width: number, outH: number, outWp: number, memory: NonNullable<ReturnType<typeof kernelMemory>>['type']): Uint8Array {
  const c = new Code([I32, I32, I32, I32]);
  const [X, Y, Q0, Q1] = [0, 1, 2, 3];
  const q = c.local(I32);
  const plane = c.local(I32);
  const r0 = c.local(I32);
  const yp = c.local(I32);
  const tile = c.local(I32);
  const [lo, hi, best, v] = [c.local(V128), c.local(V128), c.local(V128), c.local(V128)];
  /** best = (best < v or v is NaN) ? v : best, lane by lane. */
  const take = () => {
    c.get(v).get(best);
    c.get(best).get(v).f32x4Lt().get(v).get(v).f32x4Ne().v128Or();
    c.v128Bitselect().set(best);
  };
  /** v = the even (or odd) columns of the 8 floats at address + offset. */
  const columns = (offset: number, lanes: number[], into: number) => {
    c.get(r0).v128LoadUnaligned(offset).set(lo);
    c.get(r0).v128LoadUnaligned(offset + 16).set(hi);
    c.get(lo).get(hi).i8x16Shuffle(lanes).set(into);
  };
  c.get(Q0).set(q);
  c.block().loop();
  c.get(q).get(Q1).geU().brIf(1);
  // r0 = x + (plane·H·W + 2·oh·W)·4 with plane = q / outH, oh = q − plane·outH; yp = y + q·outWp·4
  c.get(q).i32(outH).divU().set(plane);
  c.get(X).get(plane).i32(height * width * 4).mul().add().get(q).get(plane).i32(outH).mul().sub().i32(2 * width * 4).mul().add().set(r0);
  c.get(Y).get(q).i32(outWp * 4).mul().add().set(yp);
  c.i32(outWp / 4).set(tile);
  c.loop();
  columns(0, EVEN, best);
  columns(0, ODD, v);
  take();
  columns(width * 4, EVEN, v);
  take();
  columns(width * 4, ODD, v);
  take();
  c.get(yp).get(best).v128Store(0);
  c.inc(r0, 32).inc(yp, 16);
  c.get(tile).i32(1).sub().tee(tile).brIf(0).end();
  c.inc(q, 1).br(0).end().end();
  return encodeModule([{ name: 'rows', code: c }], 1, memory);
}

const modules = new Map<string, WasmModule | null>();

function moduleFor(height: number, width: number, outH: number, outWp: number): WasmModule | null {
  const key = `${height},${width},${outH},${outWp}`;
  let m = modules.get(key);
  if (m === undefined) {
    const km = kernelMemory();
    const wasm = (globalThis as { WebAssembly?: { Module: new (b: Uint8Array) => WasmModule } }).WebAssembly;
    try {
      m = km && wasm ? new wasm.Module(poolModule(height, width, outH, outWp, km.type)) : null;
    } catch {
      m = null; // no SIMD128
    }
    if (modules.size > 64) modules.clear();
    modules.set(key, m);
  }
  return m;
}

/**
 * Whether `maxPool2x2F32` runs here for `planes` planes of height×width (output outH×outW): the
 * work is large enough and the engine has WebAssembly SIMD.
 */
export function wasmMaxPool2x2Available(planes: number, height: number, width: number, outH: number, outW: number): boolean {
  return planes * outH * outW >= WASM_MAXPOOL_MIN_OUTPUTS && moduleFor(height, width, outH, roundUp(outW, 4)) !== null;
}

/** dst[plane, oh, ow] = max of x[plane, 2oh..2oh+1, 2ow..2ow+1] for float32 x (see the module comment). */
export function maxPool2x2F32(x: TypedArray, dst: TypedArray, planes: number, height: number, width: number, outH: number, outW: number): void {
  const km = kernelMemory()!;
  const outWp = roundUp(outW, 4);
  const module = moduleFor(height, width, outH, outWp)!;
  const xAt = km.base;
  const inputs = planes * height * width;
  const yAt = xAt + roundUp((inputs + 8) * 4, 64); // + 8: the last tile may read past the last row
  let mem = km.reserve(yAt + planes * outH * outWp * 4);
  mem.set(x.subarray(0, inputs), xAt / 4);
  const rows = planes * outH;
  const tasks = Math.max(1, Math.min(usableThreads(), Math.floor((rows * outW) / MIN_OUTPUTS_PER_THREAD)));
  parallelFor(module, 'rows', tasks, (t) => [xAt, yAt, Math.floor((rows * t) / tasks), Math.floor((rows * (t + 1)) / tasks)]);
  mem = km.reserve(0);
  const y0 = yAt / 4;
  if (outW === outWp) dst.set(mem.subarray(y0, y0 + rows * outW));
  else for (let r = 0; r < rows; r++) dst.set(mem.subarray(y0 + r * outWp, y0 + r * outWp + outW), r * outW);
}

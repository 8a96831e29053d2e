import type { Graph, TypedArray } from '@kiln/core';
import { fusedDomain, printGraph, sizeOf } from '@kiln/core';
import { collapse, type Layout } from '../codegen/layout.js';
import { kernelExports, kernelMemory, parallelFor, usableThreads, type WasmModule } from '../threads/pool.js';
import { relaxedSimdAvailable } from './gemm.js';
import { BLOCK, lowerBody, type LoweredBody, SLOT_BYTES, whyNotLowerable } from './elementwise_lower.js';

/**
 * Fused float32 elementwise bodies in WebAssembly SIMD (docs/design/cpu-wasm.md, "Elementwise
 * and reductions"). The domain is walked in blocks of BLOCK elements: each input's values for
 * the block are copied into its slot of the pool's WebAssembly memory (threads/pool.ts) (broadcast inputs
 * expanded by the copy, one-element inputs splatted by the kernel), the generated function
 * (elementwise_lower.ts) computes every output for the block in one pass, and the outputs are
 * copied out. Blocks are small (8 KiB a slot), so everything stays in L1/L2 and main memory
 * sees each input read once and each output written once, as in a single loop.
 *
 * Large domains of bodies without reductions or broadcasts split across the worker pool
 * instead (`runThreaded`): whole ranges copied into the pool's shared memory, one part per thread.
 */

/**
 * Domains below this many elements run JavaScript even when the work lowers to WebAssembly.
 * Once compiled and warm, WebAssembly wins from ~256 elements (docs/design/cpu-wasm.md), but
 * each new shape costs a module compile and V8's slow baseline-compiled first calls, and small
 * graphs keep the JavaScript kernels' bit-identity with eager (graph tests compare bits).
 * Fused kernels and the eager float32 fast paths use it.
 */
export const WASM_ELEMENTWISE_MIN_ELEMENTS = 4096;

/**
 * Domains of at least this many elements split across the worker pool (when it has more than
 * one thread): below it, waking workers costs more than the work.
 */
export const WASM_ELEMENTWISE_THREAD_MIN_ELEMENTS = 65536;

type RunFn = (...args: number[]) => void;

/** A body compiled to WebAssembly, with how its operands map onto the domain. */
export interface WasmElementwiseKernel extends LoweredBody {
  /** `run(slot addresses…, vectors)` instantiated on this thread. */
  readonly run: RunFn;
  /** The compiled module (workers instantiate it for threaded runs). */
  readonly module: WasmModule;
  readonly domainSize: number;
  /** The merged loop structure of the slot operands (inputs, outputs, then reductions' accumulators). */
  readonly layout: Layout;
  /** Per reduction: its accumulator's initial value and element count. */
  readonly accumulators: readonly { readonly init: number; readonly size: number }[];
  /** Per input slot: its values are the domain's range itself (no broadcast), so a block is one copy. */
  readonly contiguous: readonly boolean[];
}

interface WasmApi { Module: new (bytes: Uint8Array) => WasmModule }

const slotCount = (k: LoweredBody) => k.inputs.length + k.outputs.length + k.reductions.length;

const MAX_CACHED = 256;
const byText = new Map<string, WasmElementwiseKernel | null>();
const byGraph = new WeakMap<Graph, WasmElementwiseKernel | null>();
const stats = { compiled: 0, rejected: 0 };

/**
 * The WebAssembly kernel for a fusedElementwise body, or null when the body does not lower
 * (see whyNotLowerable) or the engine has no WebAssembly SIMD; the caller then runs the
 * JavaScript kernel. Cached by the body's printed text and by the body object. The vector math
 * uses relaxed-SIMD multiply-add where the engine has it (`relaxedSimdAvailable`, off with
 * KILN_WASM_FMA=0); `options.fma` forces a choice (tests measure both).
 *
 * @example
 * ```ts
 * const k = wasmElementwise(node.subgraphs[0]);
 * if (k) runWasmElementwise(k, inputs, outputs, 0, k.domainSize);
 * ```
 */
export function wasmElementwise(body: Graph, options: { fma?: boolean } = {}): WasmElementwiseKernel | null {
  const auto = options.fma === undefined;
  const known = auto ? byGraph.get(body) : undefined;
  if (known !== undefined) return known;
  const fma = options.fma ?? relaxedSimdAvailable();
  const key = `${fma ? 'fma' : 'plain'}\n${printGraph(body)}`;
  let kernel = byText.get(key);
  if (kernel === undefined) {
    kernel = build(body, fma) ?? (fma && auto ? build(body, false) : null);
    if (kernel) stats.compiled++;
    else stats.rejected++;
    if (byText.size >= MAX_CACHED) byText.delete(byText.keys().next().value!);
    byText.set(key, kernel);
  }
  if (auto) byGraph.set(body, kernel);
  return kernel;
}

function build(body: Graph, fma: boolean): WasmElementwiseKernel | null {
  if (whyNotLowerable(body) !== null || (fma && !relaxedSimdAvailable())) return null;
  const domain = fusedDomain(body, 'fusedElementwise');
  const domainSize = sizeOf(domain);
  const km = kernelMemory();
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!km || !api) return null;
  const lowered = lowerBody(body, (i) => sizeOf(body.inputs[i].type.shape) === 1 && domainSize !== 1, km.type, fma);
  // Stored outputs must cover the domain (a stored value of a smaller shape is the JS kernel's job).
  if (lowered.outputs.some((o) => sizeOf(body.outputs[o].type.shape) !== domainSize)) return null;
  let module: WasmModule;
  let run: RunFn;
  try {
    module = new api.Module(lowered.bytes);
    run = kernelExports(module).run as RunFn;
  } catch {
    return null; // no SIMD128 in this engine: the JavaScript kernel runs
  }
  const accShape = (axes: readonly number[]) => domain.map((d, i) => (axes.includes(i) ? 1 : d));
  const shapes = [
    ...lowered.inputs.map((i) => body.inputs[i].type.shape), ...lowered.outputs.map((o) => body.outputs[o].type.shape),
    ...lowered.reductions.map((r) => accShape(r.axes)),
  ];
  return {
    ...lowered,
    accumulators: lowered.reductions.map((r) => ({ init: REDUCTION_INIT[r.op], size: sizeOf(accShape(r.axes)) })),
    run,
    module,
    domainSize,
    layout: collapse(domain, shapes),
    contiguous: lowered.inputs.map((i) => sizeOf(body.inputs[i].type.shape) === domainSize),
  };
}

/** How many bodies were compiled to WebAssembly and how many stayed on JavaScript (for tests). */
export function wasmElementwiseStats(): { compiled: number; rejected: number; cached: number } {
  return { ...stats, cached: byText.size };
}

const REDUCTION_INIT: Record<string, number> = { sum: 0, prod: 1, max: -Infinity, min: Infinity };

/**
 * Runs `kernel` over [lo, hi) of its domain: `ins` are the body's inputs (all of them, by body
 * index), `outs` the arrays of its distinct stored outputs (kernel.outputs order), `accs` the
 * float64 accumulators of its reductions (kernel.reductions order, at their initial values
 * before the first range), folded in row-major order.
 */
export function runWasmElementwise(
  kernel: WasmElementwiseKernel, ins: readonly TypedArray[], outs: readonly TypedArray[], lo: number, hi: number,
  accs: readonly Float64Array[] = [],
): void {
  if (hi - lo >= WASM_ELEMENTWISE_THREAD_MIN_ELEMENTS && threadable(kernel) && usableThreads() > 1) {
    runThreaded(kernel, ins, outs, lo, hi);
    return;
  }
  const km = kernelMemory()!;
  const slots = slotCount(kernel);
  const mem = km.reserve(km.base + slots * SLOT_BYTES);
  const first = km.base / 4;
  const args = Array.from({ length: slots + 1 }, (_, s) => km.base + s * SLOT_BYTES);
  kernel.inputs.forEach((i, s) => {
    if (kernel.uniform[s]) mem[first + s * BLOCK] = ins[i][0];
  });
  for (let c = lo; c < hi; c += BLOCK) {
    const m = Math.min(BLOCK, hi - c);
    for (let s = 0; s < kernel.inputs.length; s++) {
      if (kernel.uniform[s]) continue;
      const src = ins[kernel.inputs[s]];
      if (kernel.contiguous[s]) mem.set(src.subarray(c, c + m), first + s * BLOCK);
      else gather(src, kernel.layout, s, mem, first + s * BLOCK, c, m);
    }
    args[slots] = (m + 3) >> 2;
    kernel.run(...args);
    for (let q = 0; q < kernel.outputs.length; q++) {
      const base = first + (kernel.inputs.length + q) * BLOCK;
      outs[q].set(mem.subarray(base, base + m), c);
    }
    for (let r = 0; r < kernel.reductions.length; r++) {
      const slot = kernel.inputs.length + kernel.outputs.length + r;
      foldBlock(kernel.reductions[r].op, mem, first + slot * BLOCK, accs[r], kernel.layout, slot, c, m);
    }
  }
}

/** Whether a kernel splits across threads: compute-bound, no reductions, every input whole or one element, at most 15 slots. */
function threadable(kernel: WasmElementwiseKernel): boolean {
  // A memory-bound body (x + 1) loses more to the two extra copies than it gains from a second
  // core: measured x + 1 over 1M elements 0.70 ms on one thread, 1.0 ms on two.
  return kernel.heavy && kernel.reductions.length === 0 && slotCount(kernel) <= 15 && kernel.contiguous.every((c, s) => c || kernel.uniform[s]);
}

/**
 * The threaded path: each input's whole range is copied into the pool's memory (one region per
 * operand), the range is split into one part per thread at multiples of four elements, each
 * thread runs the same function over its part, and the outputs are copied out. Every element
 * is computed by the same instructions whatever the thread count.
 */
function runThreaded(kernel: WasmElementwiseKernel, ins: readonly TypedArray[], outs: readonly TypedArray[], lo: number, hi: number): void {
  const km = kernelMemory()!;
  const n = hi - lo;
  const regionBytes = Math.ceil(n / 4) * 16;
  const slots = slotCount(kernel);
  const mem = km.reserve(km.base + slots * regionBytes);
  const region = (s: number) => km.base + s * regionBytes;
  kernel.inputs.forEach((i, s) => {
    if (kernel.uniform[s]) mem[region(s) / 4] = ins[i][0];
    else mem.set(ins[i].subarray(lo, hi), region(s) / 4);
  });
  const vectors = regionBytes / 16;
  const tasks = Math.min(usableThreads(), Math.ceil(vectors / 1024));
  parallelFor(kernel.module, 'run', tasks, (t) => {
    const v0 = Math.floor((vectors * t) / tasks);
    const v1 = Math.floor((vectors * (t + 1)) / tasks);
    return [...Array.from({ length: slots }, (_, s) => region(s) + (kernel.uniform[s] ? 0 : v0 * 16)), v1 - v0];
  });
  for (let q = 0; q < kernel.outputs.length; q++) {
    const at = region(kernel.inputs.length + q) / 4;
    outs[q].set(mem.subarray(at, at + n), lo);
  }
}

/**
 * Folds the block's values (src[at …], domain elements [c, c + m)) into the accumulator
 * operand `p` of `layout`, element by element in row-major order: a running scalar along rows
 * the accumulator does not vary along, element-wise otherwise.
 */
function foldBlock(op: string, src: Float32Array, at: number, acc: Float64Array, layout: Layout, p: number, c: number, m: number): void {
  const { dims } = layout;
  const strides = layout.strides[p];
  const k = dims.length;
  const inner = dims[k - 1];
  const innerStride = strides[k - 1];
  let j = c % inner;
  let row = (c - j) / inner;
  let done = 0;
  while (done < m) {
    let r = row;
    let base = 0;
    for (let g = k - 2; g >= 0; g--) {
      const cg = r % dims[g];
      r = (r - cg) / dims[g];
      base += cg * strides[g];
    }
    const len = Math.min(inner - j, m - done);
    const s0 = at + done;
    if (innerStride === 0) {
      let t = acc[base];
      if (op === 'sum') for (let e = 0; e < len; e++) t += src[s0 + e];
      else if (op === 'max') for (let e = 0; e < len; e++) { const v = src[s0 + e]; if (v > t || v !== v) t = v; }
      else if (op === 'min') for (let e = 0; e < len; e++) { const v = src[s0 + e]; if (v < t || v !== v) t = v; }
      else for (let e = 0; e < len; e++) t *= src[s0 + e];
      acc[base] = t;
    } else {
      const a0 = base + j;
      if (op === 'sum') for (let e = 0; e < len; e++) acc[a0 + e] += src[s0 + e];
      else if (op === 'max') for (let e = 0; e < len; e++) { const v = src[s0 + e]; if (v > acc[a0 + e] || v !== v) acc[a0 + e] = v; }
      else if (op === 'min') for (let e = 0; e < len; e++) { const v = src[s0 + e]; if (v < acc[a0 + e] || v !== v) acc[a0 + e] = v; }
      else for (let e = 0; e < len; e++) acc[a0 + e] *= src[s0 + e];
    }
    done += len;
    j = 0;
    row++;
  }
}

/**
 * Copies operand `p`'s values for domain elements [c, c + m) into dst[at …], expanding its
 * broadcasts: row by row of the innermost merged dimension, one copy (or fill, where the
 * operand repeats along the row) per row.
 */
function gather(src: TypedArray, layout: Layout, p: number, dst: Float32Array, at: number, c: number, m: number): void {
  const { dims } = layout;
  const strides = layout.strides[p];
  const k = dims.length;
  const inner = dims[k - 1];
  const innerStride = strides[k - 1];
  let j = c % inner;
  let row = (c - j) / inner;
  let done = 0;
  while (done < m) {
    let r = row;
    let base = 0;
    for (let g = k - 2; g >= 0; g--) {
      const cg = r % dims[g];
      r = (r - cg) / dims[g];
      base += cg * strides[g];
    }
    const len = Math.min(inner - j, m - done);
    const d = at + done;
    if (innerStride === 0) dst.fill(src[base], d, d + len);
    else if (len >= 32) dst.set(src.subarray(base + j, base + j + len), d);
    else for (let e = 0; e < len; e++) dst[d + e] = src[base + j + e];
    done += len;
    j = 0;
    row++;
  }
}

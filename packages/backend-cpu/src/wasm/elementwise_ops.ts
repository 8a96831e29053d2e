import type { Shape, TypedArray } from '@kiln/core';
import { createOps, GraphBuilder, sizeOf } from '@kiln/core';
import { runWasmElementwise, wasmElementwise, type WasmElementwiseKernel } from './elementwise.js';

/**
 * Eager float32 ops on large tensors through the fused-kernel WebAssembly path: a one-op body
 * per (op, shapes), cached by a short key. Only ops whose float32 vector code is exactly the
 * reference kernel's (float64 arithmetic rounded once to float32 equals the correctly rounded
 * float32 operation for add, sub, mul, div, min, max, sqrt …) are offered, so eager results
 * stay bit-identical to the JavaScript kernels.
 */

/** Binary ops whose WebAssembly results equal the reference kernels' bit for bit. */
export const EXACT_BINARY_OPS: ReadonlySet<string> = new Set(['add', 'sub', 'mul', 'div', 'maximum', 'minimum']);
/** Unary ops whose WebAssembly results equal the reference kernels' bit for bit. */
export const EXACT_UNARY_OPS: ReadonlySet<string> = new Set(['neg', 'abs', 'relu', 'sqrt', 'rsqrt', 'reciprocal', 'floor', 'ceil', 'round']);

const MAX_CACHED = 256;
const cache = new Map<string, WasmElementwiseKernel | null>();

type Builder = (ops: ReturnType<typeof createOps>, xs: ReturnType<GraphBuilder['input']>[]) => ReturnType<GraphBuilder['input']>;

function kernelFor(key: string, shapes: readonly Shape[], build: Builder): WasmElementwiseKernel | null {
  let k = cache.get(key);
  if (k === undefined) {
    const b = new GraphBuilder();
    const xs = shapes.map((shape, i) => b.input({ shape, dtype: 'float32' }, `x${i}`));
    k = wasmElementwise(b.build([build(createOps(b), xs)]));
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
    cache.set(key, k);
  }
  return k;
}

/**
 * `op(a, b)` of two float32 arrays of the given shapes (broadcast) into `dst` in WebAssembly;
 * false (nothing written) when WebAssembly SIMD is unavailable.
 *
 * @example
 * ```ts
 * if (!wasmBinaryF32('add', a, [64, 128], b, [128], dst)) jsKernel();
 * ```
 */
export function wasmBinaryF32(op: string, a: TypedArray, aShape: Shape, b: TypedArray, bShape: Shape, dst: TypedArray): boolean {
  const k = kernelFor(`${op}|${aShape.join(',')}|${bShape.join(',')}`, [aShape, bShape], (o, [x, y]) => {
    const f = o[op as 'add'] as (p: typeof x, q: typeof x) => typeof x;
    return f(x, y);
  });
  if (!k || k.domainSize !== dst.length) return false;
  runWasmElementwise(k, [a, b], [dst], 0, k.domainSize);
  return true;
}

/** `op(x)` of a float32 array into `dst` in WebAssembly; false when unavailable. */
export function wasmUnaryF32(op: string, x: TypedArray, shape: Shape, dst: TypedArray): boolean {
  const k = kernelFor(`${op}|${shape.join(',')}`, [shape], (o, [v]) => (o[op as 'neg'] as (p: typeof v) => typeof v)(v));
  if (!k || k.domainSize !== dst.length || sizeOf(shape) !== dst.length) return false;
  runWasmElementwise(k, [x], [dst], 0, k.domainSize);
  return true;
}

import type { KernelRegistry } from '@kiln/core';
import type { CpuKernel } from '../cpu_tensor.js';
import { remainder } from './math.js';
import { broadcastIndex, output } from './util.js';
import { WASM_ELEMENTWISE_MIN_ELEMENTS } from '../wasm/elementwise.js';
import { EXACT_BINARY_OPS, wasmBinaryF32 } from '../wasm/elementwise_ops.js';

type Scalar2 = (a: number, b: number) => number;

/**
 * `wasmOp`: the op's name when its float32 WebAssembly code is bit-identical to `f` rounded to
 * float32 (EXACT_BINARY_OPS); large float32 operands then take that path.
 */
function zip(f: Scalar2, intF?: Scalar2, wasmOp?: string): CpuKernel {
  return ([a, b], _attrs, [out], into) => {
    const fn = intF && a.dtype === 'int32' ? intF : f;
    const dst = output(out.dtype, out.shape, into?.[0]);
    if (wasmOp && dst.length >= WASM_ELEMENTWISE_MIN_ELEMENTS && a.dtype === 'float32' && b.dtype === 'float32' && out.dtype === 'float32' &&
      wasmBinaryF32(wasmOp, a.data, a.shape, b.data, b.shape, dst)) return [dst];
    const ia = broadcastIndex(a.shape, out.shape);
    const ib = broadcastIndex(b.shape, out.shape);
    const x = a.data;
    const y = b.data;
    if (!ia && !ib) for (let i = 0; i < dst.length; i++) dst[i] = fn(x[i], y[i]);
    else if (!ia) for (let i = 0; i < dst.length; i++) dst[i] = fn(x[i], y[ib![i]]);
    else if (!ib) for (let i = 0; i < dst.length; i++) dst[i] = fn(x[ia[i]], y[i]);
    else for (let i = 0; i < dst.length; i++) dst[i] = fn(x[ia[i]], y[ib[i]]);
    return [dst];
  };
}

const BINARY: Record<string, [Scalar2, Scalar2?]> = {
  add: [(a, b) => a + b],
  sub: [(a, b) => a - b],
  mul: [(a, b) => a * b, Math.imul],
  div: [(a, b) => a / b],
  pow: [Math.pow, intPow],
  maximum: [Math.max],
  minimum: [Math.min],
  mod: [remainder, (a, b) => (b === 0 ? 0 : remainder(a, b))],
  eq: [(a, b) => (a === b ? 1 : 0)],
  ne: [(a, b) => (a !== b ? 1 : 0)],
  lt: [(a, b) => (a < b ? 1 : 0)],
  le: [(a, b) => (a <= b ? 1 : 0)],
  gt: [(a, b) => (a > b ? 1 : 0)],
  ge: [(a, b) => (a >= b ? 1 : 0)],
  logicalAnd: [(a, b) => (a && b ? 1 : 0)],
  logicalOr: [(a, b) => (a || b ? 1 : 0)],
};

// Integer power with int32 wraparound (exponentiation by squaring with Math.imul), as PyTorch.
export function intPow(a: number, b: number): number {
  if (b < 0) return a === 1 ? 1 : a === -1 ? (b % 2 === 0 ? 1 : -1) : 0;
  let result = 1;
  let base = a | 0;
  let e = b;
  while (e > 0) {
    if (e & 1) result = Math.imul(result, base);
    base = Math.imul(base, base);
    e >>>= 1;
  }
  return result;
}

const where: CpuKernel = ([c, a, b], _attrs, [out], into) => {
  const dst = output(out.dtype, out.shape, into?.[0]);
  const ic = broadcastIndex(c.shape, out.shape);
  const ia = broadcastIndex(a.shape, out.shape);
  const ib = broadcastIndex(b.shape, out.shape);
  for (let i = 0; i < dst.length; i++) {
    dst[i] = c.data[ic ? ic[i] : i] ? a.data[ia ? ia[i] : i] : b.data[ib ? ib[i] : i];
  }
  return [dst];
};

export function registerBinaryKernels(registry: KernelRegistry<CpuKernel>): void {
  for (const [name, [f, intF]] of Object.entries(BINARY)) registry.register(name, zip(f, intF, EXACT_BINARY_OPS.has(name) ? name : undefined));
  registry.register('where', where);
}

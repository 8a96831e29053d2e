import type { KernelRegistry } from '@kiln/core';
import type { CpuKernel } from '../cpu_tensor.js';
import { erf, roundHalfEven } from './math.js';
import { output } from './util.js';
import { WASM_ELEMENTWISE_MIN_ELEMENTS } from '../wasm/elementwise.js';
import { EXACT_UNARY_OPS, wasmUnaryF32 } from '../wasm/elementwise_ops.js';

type Loop = (src: ArrayLike<number>, dst: { [i: number]: number; length: number }) => void;

/**
 * A loop `dst[i] = f(src[i])` compiled for `f` alone. Every kernel made by `map` shares one
 * loop, whose call of `f` V8 sees with twenty different targets and will not inline; a loop of
 * its own per op sees one, and runs about twice as fast on large tensors (same values). Where
 * `new Function` is not allowed (a strict Content-Security-Policy) the shared loop serves.
 */
function ownLoop(f: (x: number) => number): Loop | null {
  try {
    return new Function('f', 'return function loop(src, dst) { for (let i = 0; i < dst.length; i++) dst[i] = f(src[i]); };')(f) as Loop;
  } catch {
    return null;
  }
}

/**
 * `wasmOp`: the op's name when its float32 WebAssembly code is bit-identical to `f`
 * (EXACT_UNARY_OPS). Large float32 tensors take that path, or else the op's own loop.
 */
function map(f: (x: number) => number, wasmOp?: string): CpuKernel {
  let loop: Loop | null | undefined;
  return ([x], _attrs, [out], into) => {
    const src = x.data;
    const dst = output(out.dtype, out.shape, into?.[0]);
    if (dst.length >= WASM_ELEMENTWISE_MIN_ELEMENTS && x.dtype === 'float32' && out.dtype === 'float32') {
      if (wasmOp && wasmUnaryF32(wasmOp, src, x.shape, dst)) return [dst];
      if ((loop ??= ownLoop(f))) {
        loop(src, dst);
        return [dst];
      }
    }
    for (let i = 0; i < src.length; i++) dst[i] = f(src[i]);
    return [dst];
  };
}

const UNARY: Record<string, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0), // NaN → 0, as PyTorch
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  expm1: Math.expm1,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  reciprocal: (x) => 1 / x,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => (x < 0 ? 0 : x),
  erf,
  floor: Math.floor,
  ceil: Math.ceil,
  round: roundHalfEven,
  logicalNot: (x) => (x === 0 ? 1 : 0),
  isNaN: (x) => (x !== x ? 1 : 0),
};

// cast: typed-array stores do the conversion (float → int32 truncates toward zero); bool is x != 0.
const cast: CpuKernel = ([x], _attrs, [out], into) => {
  const dst = output(out.dtype, out.shape, into?.[0]);
  if (out.dtype === 'bool') for (let i = 0; i < x.data.length; i++) dst[i] = x.data[i] !== 0 ? 1 : 0;
  else if (out.dtype === 'int32') for (let i = 0; i < x.data.length; i++) dst[i] = truncToInt32(x.data[i]);
  else dst.set(x.data);
  return [dst];
};

// NaN and ±Inf become INT32_MIN, as PyTorch does on x86; in-range values truncate toward zero.
function truncToInt32(v: number): number {
  if (!Number.isFinite(v)) return -2147483648;
  return Math.trunc(v) | 0;
}

export function registerUnaryKernels(registry: KernelRegistry<CpuKernel>): void {
  for (const [name, f] of Object.entries(UNARY)) registry.register(name, map(f, EXACT_UNARY_OPS.has(name) ? name : undefined));
  registry.register('cast', cast);
}

import type { Graph, Ops, Value } from '@kiln/core';
import { createOps, GraphBuilder, verifyGraph } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { runWasmElementwise, wasmElementwise } from '../src/wasm/elementwise.js';
import { relaxedSimdAvailable } from '../src/wasm/gemm.js';
import { erf } from '../src/kernels/math.js';

/**
 * Accuracy of the vectorised float32 math (wasm/math.ts) against float64 Math.*: the largest
 * error in float32 ulps of the exact result over wide input ranges, and exact special values.
 */

const SIZE = 1 << 16;

/** A one-op float32 body over [n]. */
function unaryBody(n: number, f: (ops: Ops<Value>, x: Value) => Value): Graph {
  const b = new GraphBuilder();
  const x = b.input({ shape: [n], dtype: 'float32' }, 'x');
  const g = b.build([f(createOps(b), x)]);
  verifyGraph(g);
  return g;
}

/** float32 inputs: log-spaced magnitudes of both signs from subnormal to huge, then a dense sweep of [lo, hi]. */
function inputs(lo: number, hi: number): Float32Array {
  const xs = new Float32Array(SIZE);
  const half = SIZE / 2;
  for (let i = 0; i < half; i++) {
    const mag = 2 ** (-149 + (i / half) * 277);
    xs[i] = i % 2 ? mag : -mag;
  }
  for (let i = half; i < SIZE; i++) xs[i] = lo + ((i - half) / half) * (hi - lo);
  return xs;
}

/** One float32 ulp at the magnitude of the exact value r (subnormal spacing below 2^-126). */
function ulp(r: number): number {
  const a = Math.abs(r);
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

interface Measured { maxUlp: number; at: number; bad: string[] }

/** Runs `body` in WebAssembly (relaxed-SIMD multiply-add or not) and measures it against `exact`. */
function measure(body: Graph, xs: Float32Array, exact: (x: number) => number, fma: boolean): Measured {
  const kernel = wasmElementwise(body, { fma });
  expect(kernel, 'the body lowers to WebAssembly').not.toBeNull();
  const got = new Float32Array(xs.length);
  runWasmElementwise(kernel!, [xs], [got], 0, xs.length);
  let maxUlp = 0;
  let at = 0;
  const bad: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    const r = exact(xs[i]);
    const y = got[i];
    const f = Math.fround(r);
    if (!Number.isFinite(f) || f === 0 || Number.isNaN(r)) {
      // Specials, overflow and underflow to zero: exactly the float32 of the exact value (sign of zero included).
      if (!Object.is(y, f) && !(Number.isNaN(y) && Number.isNaN(f)) && bad.length < 5) bad.push(`x=${xs[i]}: got ${y}, want ${f}`);
      continue;
    }
    const e = Math.abs(y - r) / ulp(r);
    if (e > maxUlp) { maxUlp = e; at = xs[i]; }
  }
  return { maxUlp, at, bad };
}

const SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 2 ** -149, -(2 ** -149), 2 ** -126, 3.4028234663852886e38, -3.4028234663852886e38];

const CASES: { name: string; f: (ops: Ops<Value>, x: Value) => Value; exact: (x: number) => number; lo: number; hi: number; ulps: number }[] = [
  { name: 'exp', f: (o, x) => o.exp(x), exact: Math.exp, lo: -104, hi: 89, ulps: 2 },
  { name: 'log', f: (o, x) => o.log(x), exact: Math.log, lo: 0, hi: 4, ulps: 2 },
  { name: 'tanh', f: (o, x) => o.tanh(x), exact: Math.tanh, lo: -10, hi: 10, ulps: 2.5 },
  { name: 'sigmoid', f: (o, x) => o.sigmoid(x), exact: (x) => 1 / (1 + Math.exp(-x)), lo: -90, hi: 20, ulps: 3 },
  { name: 'expm1', f: (o, x) => o.expm1(x), exact: Math.expm1, lo: -20, hi: 89, ulps: 2 },
  { name: 'log1p', f: (o, x) => o.log1p(x), exact: Math.log1p, lo: -1, hi: 4, ulps: 2 },
  { name: 'erf', f: (o, x) => o.erf(x), exact: erf, lo: -5, hi: 5, ulps: 3 },
  { name: 'rsqrt', f: (o, x) => o.rsqrt(x), exact: (x) => 1 / Math.sqrt(x), lo: 0, hi: 100, ulps: 0.5 },
];

// Plain SIMD everywhere; relaxed-SIMD multiply-add (fused on FMA hardware) where the engine has it.
const MODES = relaxedSimdAvailable() ? [false, true] : [false];

describe('WebAssembly float32 math', () => {
  for (const c of CASES) {
    for (const fma of MODES) {
      it(`${c.name}${fma ? ' (multiply-add)' : ''}: within ${c.ulps} ulp of float64 Math over wide ranges; specials exact`, () => {
        const xs = inputs(c.lo, c.hi);
        xs.set(SPECIALS, 0);
        const m = measure(unaryBody(SIZE, c.f), xs, c.exact, fma);
        console.log(`${c.name}${fma ? ' fma' : ''}: max ${m.maxUlp.toFixed(3)} ulp at x=${m.at}`);
        expect(m.bad).toEqual([]);
        expect(m.maxUlp).toBeLessThanOrEqual(c.ulps);
      });
    }
  }
});

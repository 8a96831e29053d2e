import type { DType, Graph, Ops, TypedArray, Value } from '@kiln/core';
import { createOps, getOp, GraphBuilder, verifyGraph } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { WASM_ELEMENTWISE_MIN_ELEMENTS } from '../src/codegen/kernels.js';
import { BLOCK, whyNotLowerable } from '../src/wasm/elementwise_lower.js';
import { runWasmElementwise, WASM_ELEMENTWISE_THREAD_MIN_ELEMENTS, wasmElementwise, wasmElementwiseStats } from '../src/wasm/elementwise.js';
import { getNumThreads, setNumThreads } from '../src/threads/pool.js';
import type { CpuValue } from './helpers/cpu_ops.js';
import { cpu } from './helpers/cpu_ops.js';
import { expectIdentical, randomValue, runFused, runReference } from './helpers/codegen.js';

/**
 * fusedElementwise bodies lowered to WebAssembly SIMD (wasm/elementwise*.ts): exact arithmetic
 * is bit-identical to the reference kernels run node by node, NaN/±Inf/-0 included; bodies
 * with transcendental ops are within a few float32 ulps; what does not lower, and small
 * domains, run the JavaScript kernel and stay bit-identical.
 */

type Spec = readonly [shape: readonly number[], dtype: DType];

function body(specs: readonly Spec[], fn: (ops: Ops<Value>, ...xs: Value[]) => Value[]): Graph {
  const b = new GraphBuilder();
  const xs = specs.map(([shape, dtype], i) => b.input({ shape, dtype }, `x${i}`));
  const g = b.build(fn(createOps(b), ...xs));
  verifyGraph(g);
  return g;
}

const inputsOf = (specs: readonly Spec[], specials = true): CpuValue[] => specs.map(([shape, dtype], i) => randomValue(shape, dtype, 11 + i, specials));

/** |a − b| ≤ ulps float32 ulps of max(|b|, floor), exact for NaN, infinities and zeros of b. */
function expectClose(actual: readonly TypedArray[], expected: readonly TypedArray[], ulps: number, floor = 2 ** -126): void {
  actual.forEach((a, k) => {
    const e = expected[k];
    expect(a.length).toBe(e.length);
    for (let i = 0; i < a.length; i++) {
      if (Object.is(a[i], e[i])) continue;
      const ok = Number.isFinite(e[i]) && e[i] !== 0 &&
        Math.abs(a[i] - e[i]) <= ulps * 2 ** (Math.floor(Math.log2(Math.max(Math.abs(e[i]), floor))) - 23);
      if (!ok) expect.fail(`output ${k} element ${i}: got ${a[i]}, reference ${e[i]}`);
    }
  });
}

// [64, 80]: 5,120 elements, above the size where fused kernels switch to WebAssembly.
const X: Spec = [[64, 80], 'float32'];
const COL: Spec = [[80], 'float32'];
const ROW: Spec = [[64, 1], 'float32'];
const ONE: Spec = [[1], 'float32'];

describe('WebAssembly fused elementwise kernels', () => {
  it('the test domains are large enough to take the WebAssembly path', () => {
    expect(64 * 80).toBeGreaterThanOrEqual(WASM_ELEMENTWISE_MIN_ELEMENTS);
  });

  it('exact arithmetic, with column, row and scalar broadcasts and specials: bit-identical to the reference kernels', () => {
    const specs = [X, COL, ROW, ONE];
    const g = body(specs, (o, x, col, row, one) => {
      const a = o.div(o.sub(o.mul(o.add(x, col), row), one), o.maximum(x, col));
      const b = o.minimum(o.relu(o.neg(x)), o.abs(row));
      const c = o.add(o.add(o.sign(x), o.floor(o.mul(x, 0.7))), o.add(o.ceil(col), o.round(o.mul(x, 0.5))));
      const d = o.add(o.sqrt(x), o.add(o.rsqrt(o.abs(x)), o.reciprocal(row)));
      return [a, b, c, d, o.pow(x, 2)];
    });
    expect(whyNotLowerable(g)).toBeNull();
    expect(wasmElementwise(g)).not.toBeNull();
    const ins = inputsOf(specs);
    expectIdentical(runFused(g, ins), runReference(g, ins));
  });

  it('comparisons, logical ops, where and casts (bool values as lane masks): bit-identical', () => {
    const specs = [X, COL];
    const g = body(specs, (o, x, col) => {
      const m = o.logicalOr(o.logicalAnd(o.lt(x, col), o.ne(x, 0)), o.logicalNot(o.ge(col, 1)));
      const w = o.where(m, x, o.mul(col, 2));
      const nan = o.cast(o.isNaN(x), 'float32');
      const cmp = o.add(o.cast(o.eq(x, col), 'float32'), o.add(o.cast(o.le(x, 0.5), 'float32'), o.cast(o.gt(x, col), 'float32')));
      return [w, o.add(nan, cmp), o.cast(o.cast(x, 'bool'), 'float32')];
    });
    expect(wasmElementwise(g)).not.toBeNull();
    const ins = inputsOf(specs);
    expectIdentical(runFused(g, ins), runReference(g, ins));
  });

  it('transcendental ops: within a few ulps of the reference (which rounds float64 Math.*)', () => {
    const specs = [X, COL, ROW];
    const g = body(specs, (o, x, col, row) => [
      o.exp(o.sub(x, row)), o.log(o.abs(x)), o.tanh(o.mul(x, col)), o.sigmoid(x), o.expm1(o.mul(x, 0.25)), o.log1p(o.abs(o.mul(x, col))),
      o.erf(o.mul(x, 0.5)),
    ]);
    expect(wasmElementwise(g)).not.toBeNull();
    const ins = inputsOf(specs);
    // Each op within ~2 ulp of exact; the reference within 0.5: 3 ulps apart at most.
    expectClose(runFused(g, ins), runReference(g, ins), 3);
  });

  it('gelu_tanh(x·1.5 + 0.5) + x, the benchmark chain: within 8 ulps of max(|y|, 1) of the reference', () => {
    const g = body([[[8192], 'float32']], (o, x) => [o.add(o.gelu(o.add(o.mul(x, 1.5), 0.5), 'tanh'), x)]);
    expect(wasmElementwise(g)).not.toBeNull();
    const ins = inputsOf([[[8192], 'float32']], false);
    // 0.5·u·(1 + tanh(…)) cancels where tanh is near -1: an ulp of tanh is an absolute error there.
    expectClose(runFused(g, ins), runReference(g, ins), 8, 1);
  });

  it('short rows (inner dimension 3) and outer broadcasts are expanded by the block copy', () => {
    const specs: Spec[] = [[[2, 1500, 3], 'float32'], [[3], 'float32'], [[2, 1, 3], 'float32'], [[1500, 1], 'float32']];
    const g = body(specs, (o, x, a, b, c) => [o.add(o.mul(o.sub(x, a), b), c)]);
    const k = wasmElementwise(g)!;
    expect(k).not.toBeNull();
    expect(k.contiguous).toEqual([true, false, false, false]);
    const ins = inputsOf(specs);
    expectIdentical(runFused(g, ins), runReference(g, ins));
  });

  it('a range [lo, hi) not aligned to blocks or vectors writes exactly that range', () => {
    const n = 3 * BLOCK + 7;
    const g = body([[[n], 'float32']], (o, x) => [o.mul(x, 3)]);
    const k = wasmElementwise(g)!;
    const x = Float32Array.from({ length: n }, (_, i) => i);
    const out = new Float32Array(n).fill(-1);
    runWasmElementwise(k, [x], [out], 5, n - 2);
    for (let i = 0; i < n; i++) expect(out[i]).toBe(i >= 5 && i < n - 2 ? 3 * i : -1);
  });

  it('an output returned twice gets its own storage; offered storage is used', () => {
    const g = body([X], (o, x) => {
      const y = o.add(x, 1);
      return [y, y, o.mul(y, 2)];
    });
    const ins = inputsOf([X]);
    const offered = [new Float32Array(64 * 80), undefined, undefined];
    const args = ins.map((x) => ({ storage: x.data, type: { dtype: x.dtype, shape: x.shape } }));
    const outs = runFused(g, ins);
    expect(outs[0]).not.toBe(outs[1]);
    expectIdentical(outs, runReference(g, ins));
    // With storage offered for output 0, the kernel writes there.
    const got = cpu.run(getOp('fusedElementwise'), args, {}, g.outputs.map((v) => v.type), offered, [g]);
    expect(got[0]).toBe(offered[0]);
  });

  it('bodies ending in reductions: values folded in row-major order in float64, so bit-identical for exact bodies', () => {
    const specs = [X, ROW];
    const g = body(specs, (o, x, row) => {
      const c = o.sub(x, row);
      const sq = o.mul(c, c);
      return [c, o.sum(sq, [1], true), o.max(c, [0], true), o.min(sq, [0, 1], false), o.prod(o.div(x, 4), [1], true), o.sum(sq, [1], true)];
    });
    const k = wasmElementwise(g)!;
    expect(k).not.toBeNull();
    expect(k.reductions.map((r) => r.op)).toEqual(['sum', 'max', 'min', 'prod', 'sum']);
    const ins = inputsOf(specs);
    const outs = runFused(g, ins);
    expect(outs[1]).not.toBe(outs[5]);
    expectIdentical(outs, runReference(g, ins));
  });

  it("softmax's fused body (exp(x − max), its row sum): within a few ulps", () => {
    const specs = [X, ROW];
    const g = body(specs, (o, x, m) => {
      const e = o.exp(o.sub(x, m));
      return [e, o.sum(e, [1], true)];
    });
    expect(wasmElementwise(g)).not.toBeNull();
    const ins = inputsOf(specs, false);
    expectClose(runFused(g, ins), runReference(g, ins), 3);
  });

  it('bool inputs (whole, broadcast, one element) and bool outputs, as in relu and its gradient: bit-identical', () => {
    const MASK: Spec = [[64, 80], 'bool'];
    // The last input is only returned (as a matmul epilogue returns its product).
    const specs: Spec[] = [X, COL, MASK, [[64, 1], 'bool'], [[1], 'bool'], X];
    const g = body(specs, (o, x, col, mask, rowMask, oneMask, passed) => {
      const h = o.add(x, col);
      const grad = o.where(mask, x, 0); // relu's backward: where(x > 0, g, 0)
      const both = o.where(o.logicalAnd(rowMask, oneMask), x, col);
      return [o.relu(h), o.gt(h, 0), grad, o.sum(grad, [0]), both, o.logicalOr(mask, rowMask), mask, passed];
    });
    expect(whyNotLowerable(g)).toBeNull();
    expect(wasmElementwise(g)).not.toBeNull();
    const ins = inputsOf(specs);
    const got = runFused(g, ins);
    expect(got[1]).toBeInstanceOf(Uint8Array);
    expect(got[5]).toBeInstanceOf(Uint8Array);
    expect([...got[1]].every((v) => v === 0 || v === 1)).toBe(true);
    expectIdentical(got, runReference(g, ins));
  });

  it('a one-element float64 or int32 input cast to float32 (an optimizer step): bit-identical', () => {
    const specs: Spec[] = [X, X, [[], 'float64'], [[1], 'int32']];
    // The rounded learning rate is an output too, as in a compiled SGD step.
    const g = body(specs, (o, w, grad, lr, k) => {
      const rate = o.cast(lr, 'float32');
      return [rate, o.sub(w, o.mul(rate, o.mul(grad, o.cast(k, 'float32'))))];
    });
    expect(whyNotLowerable(g)).toBeNull();
    expect(wasmElementwise(g)).not.toBeNull();
    const ins = inputsOf(specs);
    ins[2] = { data: new Float64Array([0.1 + 1e-12]), shape: [], dtype: 'float64' }; // rounds when cast
    ins[3] = { data: new Int32Array([16777217]), shape: [1], dtype: 'int32' }; // 2^24 + 1 rounds too
    expectIdentical(runFused(g, ins), runReference(g, ins));
    // A float64 input used as float64 does not lower.
    const f64 = body([X, [[], 'float64']], (o, x, s) => [o.mul(o.cast(x, 'float64'), s)]);
    expect(whyNotLowerable(f64)).toContain('float64');
  });

  it('bodies that do not lower run the JavaScript kernel, bit-identical: sin, int32', () => {
    const cases: [Graph, CpuValue[], string][] = [
      [body([X], (o, x) => [o.sin(o.add(x, 1))]), inputsOf([X]), "op 'sin'"],
      [body([[[64, 80], 'int32']], (o, x) => [o.add(x, 1)]), inputsOf([[[64, 80], 'int32']]), 'input of dtype int32'],
    ];
    for (const [g, ins, why] of cases) {
      expect(whyNotLowerable(g)).toContain(why);
      expect(wasmElementwise(g)).toBeNull();
      expectIdentical(runFused(g, ins), runReference(g, ins));
    }
  });

  it('small domains stay on the JavaScript kernel (bit-identical even with tanh)', () => {
    const g = body([[[32, 32], 'float32']], (o, x) => [o.tanh(o.mul(x, 3))]);
    expect(32 * 32).toBeLessThan(WASM_ELEMENTWISE_MIN_ELEMENTS);
    const ins = inputsOf([[[32, 32], 'float32']]);
    expectIdentical(runFused(g, ins), runReference(g, ins));
  });

  it('large domains split across 1, 2 and 3 threads give the same bits (scalar input included)', () => {
    const n = WASM_ELEMENTWISE_THREAD_MIN_ELEMENTS * 2 + 13;
    const specs: Spec[] = [[[n], 'float32'], ONE];
    const g = body(specs, (o, x, s) => [o.add(o.gelu(o.add(o.mul(x, 1.5), s), 'tanh'), x), o.exp(o.neg(o.abs(x)))]);
    const ins = inputsOf(specs);
    const before = getNumThreads();
    try {
      const results = [1, 2, 3].map((t) => {
        setNumThreads(t);
        return runFused(g, ins);
      });
      expectIdentical(results[1], results[0]);
      expectIdentical(results[2], results[0]);
      // …and equal to the single-threaded block path run directly.
      const k = wasmElementwise(g)!;
      const outs = [new Float32Array(n), new Float32Array(n)];
      setNumThreads(1);
      runWasmElementwise(k, ins.map((x) => x.data), outs, 0, n);
      expectIdentical(outs, results[0]);
    } finally {
      setNumThreads(before);
    }
  });

  it('caches modules by body text', () => {
    const make = () => body([X], (o, x) => [o.exp(o.mul(x, 0.125))]);
    const a = wasmElementwise(make());
    const before = wasmElementwiseStats().compiled;
    const b = wasmElementwise(make());
    expect(b).toBe(a);
    expect(wasmElementwiseStats().compiled).toBe(before);
  });
});

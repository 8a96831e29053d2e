import type { DType, Graph, Ops, Value } from '@kiln/core';
import { ArgumentError, createOps, getOp, GraphBuilder, KernelError, ShapeError, verifyGraph } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { codegenStats, compileFused } from '../src/codegen/kernel.js';
import { PRODUCT_ROWS, productRows } from '../src/codegen/product.js';
import { wasmElementwiseStats } from '../src/wasm/elementwise.js';
import type { CpuValue } from './helpers/cpu_ops.js';
import { cpu, value } from './helpers/cpu_ops.js';
import { expectIdentical, randomValue, runFused, runReference } from './helpers/codegen.js';

type Spec = readonly [shape: readonly number[], dtype: DType];

/** A body built with the op surface over graph inputs of the given types. */
function body(specs: readonly Spec[], fn: (ops: Ops<Value>, ...xs: Value[]) => Value[]): Graph {
  const b = new GraphBuilder();
  const xs = specs.map(([shape, dtype], i) => b.input({ shape, dtype }, `x${i}`));
  const g = b.build(fn(createOps(b), ...xs));
  verifyGraph(g);
  return g;
}

/** Fused result equals the reference kernels run one node at a time, bit for bit. */
function check(g: Graph, inputs: readonly CpuValue[]): void {
  expectIdentical(runFused(g, inputs), runReference(g, inputs));
}

describe('generated fused kernels', () => {
  it('gelu(x·1.5 + bias) + exp(row): bias and row broadcasts, a trailing row sum, bit-identical to the reference kernels', () => {
    // 13 × 300 stays under WASM_ELEMENTWISE_MIN_ELEMENTS: this is the generated JavaScript's test
    // (wasm-elementwise.test.ts covers the WebAssembly lowering of larger domains).
    const g = body([[[13, 300], 'float32'], [[300], 'float32'], [[13, 1], 'float32']], (ops, x, bias, r) => {
      const y = ops.add(ops.gelu(ops.add(ops.mul(x, 1.5), bias), 'tanh'), ops.exp(r));
      return [y, ops.sum(y, 1)];
    });
    check(g, [randomValue([13, 300], 'float32', 1), randomValue([300], 'float32', 2), randomValue([13, 1], 'float32', 3)]);
  });

  it('writes constants once, row-invariant values once per row, and each heavy call in its own loop', () => {
    const g = body([[[4, 3], 'float32'], [[4, 1], 'float32']], (ops, x, r) => [ops.mul(ops.tanh(ops.add(x, 1)), ops.exp(r))]);
    expect(compileFused(g, false).source).toMatchInlineSnapshot(`
      "const fr = Math.fround, erf = h.erf, remainder = h.remainder, roundHalfEven = h.roundHalfEven, intPow = h.intPow;
      const s0 = new Float64Array(256);
      const s1 = new Float64Array(256);
      return function fused(ins, outs, accs, mm, mmBase, lo, hi) {
        const i0 = ins[0];
        const i1 = ins[1];
        const o0 = outs[0];
        const v0 = 1;
        let c = lo;
        while (c < hi) {
          let r = c;
          const j = r % 3; r = (r - j) / 3;
          const c0 = r;
          const m = Math.min(256, 3 - j, hi - c);
          const p0 = c0 * 3 + j;
          const p1 = c0;
          const p2 = c0 * 3 + j;
          const x1 = i1[p1];
          const v3 = fr(Math.exp(x1));
          for (let e = 0; e < m; e++) {
            const x0 = i0[p0 + e];
            const v1 = fr(x0 + v0);
            s0[e] = v1;
          }
          for (let e = 0; e < m; e++) {
            const v1 = s0[e];
            const v2 = fr(Math.tanh(v1));
            s1[e] = v2;
          }
          for (let e = 0; e < m; e++) {
            const v2 = s1[e];
            const v4 = fr(v2 * v3);
            o0[p2 + e] = v4;
          }
          c += m;
        }
      };"
    `);
  });

  it('merges dimensions that broadcast alike into one loop', () => {
    const g = body([[[2, 3, 4], 'float32'], [[2, 3, 4], 'float32']], (ops, a, b) => [ops.relu(ops.sub(a, b))]);
    const src = compileFused(g, false).source;
    expect(src).toContain('const j = c;');
    expect(src).not.toContain('%');
    check(g, [randomValue([2, 3, 4], 'float32', 4), randomValue([2, 3, 4], 'float32', 5)]);
  });

  it('int32 arithmetic wraps like Int32Array stores: overflow, imul, -INT_MIN, |INT_MIN|, mod by 0, negative powers', () => {
    const g = body([[[6], 'int32'], [[6], 'int32']], (ops, a, b) => [
      ops.add(a, b), ops.sub(a, b), ops.mul(a, b), ops.neg(a), ops.abs(a), ops.mod(a, b), ops.pow(a, b), ops.maximum(a, b), ops.sign(b),
      // Wrapped intermediates read by later ops (a missing wrap would only show here).
      ops.lt(ops.add(a, b), 0), ops.gt(ops.sub(a, b), 0), ops.lt(ops.neg(a), 0), ops.lt(ops.abs(a), 0), ops.cast(ops.mul(a, 3), 'float64'),
      ops.div(1, ops.cast(ops.mod(ops.neg(a), b), 'float32')),
    ]);
    const a = value([2147483647, -2147483648, 7, -7, 3, 0], [6], 'int32');
    const b = value([1, -1, 0, 2, -2, 5], [6], 'int32');
    check(g, [a, b]);
    const [sum, , , neg, abs, mod, , , , overflowed] = runFused(g, [a, b]);
    expect(Array.from(overflowed)).toEqual([1, 0, 0, 1, 0, 0]);
    expect(Array.from(sum)).toEqual([-2147483648, 2147483647, 7, -5, 1, 5]);
    expect(Array.from(neg).slice(0, 2)).toEqual([-2147483647, -2147483648]);
    expect(abs[1]).toBe(-2147483648);
    expect(Array.from(mod)).toEqual([0, 0, 0, 1, -1, 0]);
  });

  it('casts: NaN and ±Inf to int32 give INT32_MIN, int32 → float32 rounds, nonzero → true, float64 → float32', () => {
    const g = body([[[6], 'float64'], [[6], 'int32']], (ops, x, i) => [
      ops.cast(x, 'int32'), ops.cast(i, 'float32'), ops.cast(x, 'bool'), ops.cast(x, 'float32'), ops.cast(ops.cast(x, 'bool'), 'float32'),
    ]);
    const x = value([NaN, Infinity, -2.9, 0.1 + 0.2, -0, 3e9], [6], 'float64');
    const i = value([16777217, -16777219, 0, 1, 2147483647, -5], [6], 'int32');
    check(g, [x, i]);
    const [toInt, toF32] = runFused(g, [x, i]);
    expect(Array.from(toInt).slice(0, 3)).toEqual([-2147483648, -2147483648, -2]);
    expect(toF32[0]).toBe(16777216);
  });

  it('bool logic, comparisons and where, with broadcasting', () => {
    const g = body([[[3, 4], 'float32'], [[4], 'float32'], [[3, 1], 'bool']], (ops, x, y, m) => {
      const c = ops.logicalOr(ops.logicalAnd(ops.gt(x, y), m), ops.isNaN(x));
      return [c, ops.where(c, x, ops.clamp(y, -1, 1)), ops.logicalNot(ops.eq(x, y)), ops.le(x, 0)];
    });
    check(g, [randomValue([3, 4], 'float32', 6, true), randomValue([4], 'float32', 7, true), randomValue([3, 1], 'bool', 8)]);
  });

  it('NaN, ±Inf and -0 propagate as in the reference: max/min, relu, sign, division by zero, log of negatives', () => {
    const g = body([[[5, 7], 'float32'], [[5, 7], 'float32']], (ops, a, b) => {
      const q = ops.div(a, b);
      return [ops.maximum(a, b), ops.minimum(q, 0), ops.relu(a), ops.sign(a), ops.log(ops.sub(a, b)), ops.max(q, 1), ops.min(a, 0)];
    });
    check(g, [randomValue([5, 7], 'float32', 9, true), randomValue([5, 7], 'float32', 10, true)]);
  });

  it('float64 chains with every unary op', () => {
    const g = body([[[50], 'float64']], (ops, x) => {
      const unary = ['neg', 'abs', 'exp', 'log1p', 'expm1', 'sin', 'cos', 'tanh', 'sigmoid', 'erf', 'floor', 'ceil', 'round'] as const;
      const outs = unary.map((name) => (ops[name] as (v: Value) => Value)(x));
      return [...outs, ops.sqrt(ops.abs(x)), ops.rsqrt(ops.abs(x)), ops.reciprocal(x), ops.log(ops.abs(x)), ops.pow(ops.abs(x), 0.7)];
    });
    check(g, [randomValue([50], 'float64', 11, true)]);
  });

  it('reductions: over leading axes (accumulator per element), all axes, keepdims, several at once, int32 prod wrapping', () => {
    const g = body([[[4, 5, 6], 'float32'], [[4, 5, 6], 'int32']], (ops, x, i) => {
      const y = ops.mul(ops.exp(x), 2);
      return [ops.sum(y, 0), ops.sum(y), ops.max(y, [0, 2], true), ops.min(y, 1), ops.prod(ops.add(i, 1000), [1, 2]), ops.sum(ops.mul(i, i), 2)];
    });
    check(g, [randomValue([4, 5, 6], 'float32', 12, true), randomValue([4, 5, 6], 'int32', 13)]);
  });

  it('zero-size and rank-0 domains', () => {
    const empty = body([[[0, 3], 'float32']], (ops, x) => [ops.exp(ops.add(x, 1)), ops.sum(ops.mul(x, 2), 0)]);
    check(empty, [randomValue([0, 3], 'float32', 14)]);
    expect(Array.from(runFused(empty, [randomValue([0, 3], 'float32', 14)])[1])).toEqual([0, 0, 0]);
    const scalar = body([[[], 'float32']], (ops, x) => [ops.tanh(ops.mul(x, 3)), ops.sum(ops.exp(x))]);
    check(scalar, [value([0.25], [], 'float32')]);
  });

  it('stores outputs smaller than the domain once per broadcast copy', () => {
    const g = body([[[4, 3], 'float32'], [[4, 1], 'float32']], (ops, x, r) => {
      const e = ops.add(ops.exp(r), 1);
      return [ops.mul(x, e), e, ops.broadcastTo(e, [2, 4, 3])];
    });
    check(g, [randomValue([4, 3], 'float32', 15), randomValue([4, 1], 'float32', 16)]);
  });
});

describe('generated matmul epilogues', () => {
  const linear = (dtype: DType, aShape: number[], wShape: number[], n: number) =>
    body([[aShape, dtype], [wShape, dtype], [[n], dtype]], (ops, a, w, bias) => [ops.relu(ops.add(ops.matmul(a, w), bias))]);

  it('float32 matmul + bias + relu, 19 rows (two blocks of 8 and one of 3), odd and even k: bit-identical to matmul, add, relu', () => {
    for (const k of [5, 6, 1]) {
      const g = linear('float32', [19, k], [k, 7], 7);
      const inputs = [randomValue([19, k], 'float32', 20 + k), randomValue([k, 7], 'float32', 21), randomValue([7], 'float32', 22)];
      expectIdentical(runFused(g, inputs, 'matmulEpilogue'), runReference(g, inputs));
    }
  });

  it('productRows sums every element over k in order, one product at a time, like the reference', () => {
    // Magnitudes from 2^-20 to 2^20, so float64 sums round and the order of additions shows.
    const wide = (shape: number[], seed: number) => randomValue(shape, 'float32', seed).data.map((v, i) => v * 2 ** (((i * 7919 + seed) % 41) - 20));
    for (const [rows, k, n] of [[8, 7, 5], [8, 10, 3], [3, 4, 6], [8, 0, 2]]) {
      const a = wide([rows, k], rows * 100 + k);
      const b = wide([k, n], n);
      const acc = new Float64Array(PRODUCT_ROWS * n).fill(NaN);
      productRows(a, 0, b, 0, acc, rows, k, n);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += a[r * k + p] * b[p * n + j];
          expect(Object.is(acc[r * n + j], s), `row ${r} col ${j}`).toBe(true);
        }
      }
    }
  });

  it('batched with a broadcast batch, a gelu epilogue and two outputs', () => {
    const g = body([[[2, 3, 9, 5], 'float32'], [[5, 6], 'float32'], [[9, 1], 'float32']], (ops, a, w, r) => {
      const h = ops.add(ops.matmul(a, w), r);
      return [ops.gelu(h), ops.gt(h, 0)];
    });
    const inputs = [randomValue([2, 3, 9, 5], 'float32', 23), randomValue([5, 6], 'float32', 24), randomValue([9, 1], 'float32', 25)];
    expectIdentical(runFused(g, inputs, 'matmulEpilogue'), runReference(g, inputs));
  });

  it('a large float32 epilogue (transposed weight, bias, relu, its bool mask, a column sum) runs in WebAssembly, bit-identical', () => {
    // [64, 80]: 5,120 elements, at least WASM_ELEMENTWISE_MIN_ELEMENTS.
    const g = body([[[64, 24], 'float32'], [[80, 24], 'float32'], [[80], 'float32']], (ops, a, w, bias) => {
      const h = ops.add(ops.matmul(a, ops.permute(w, [1, 0])), bias);
      return [ops.relu(h), ops.gt(h, 0), ops.sum(h, [0])];
    });
    const inputs = [randomValue([64, 24], 'float32', 32, true), randomValue([80, 24], 'float32', 33), randomValue([80], 'float32', 34, true)];
    const before = wasmElementwiseStats().compiled;
    const got = runFused(g, inputs, 'matmulEpilogue');
    expect(wasmElementwiseStats().compiled).toBe(before + 1);
    expect(got[1]).toBeInstanceOf(Uint8Array);
    expectIdentical(got, runReference(g, inputs));
  });

  it('float64 and int32 (the reference product, then the epilogue)', () => {
    for (const dtype of ['float64', 'int32'] as const) {
      const g = linear(dtype, [5, 4], [4, 3], 3);
      const inputs = [randomValue([5, 4], dtype, 26, true), randomValue([4, 3], dtype, 27, true), randomValue([3], dtype, 28)];
      expectIdentical(runFused(g, inputs, 'matmulEpilogue'), runReference(g, inputs));
    }
  });

  it('rejects an epilogue that reads a matmul operand, or broadcasts the product to a larger shape', () => {
    const operand = body([[[3, 3], 'float32'], [[3, 3], 'float32']], (ops, a, w) => [ops.add(ops.matmul(a, w), a)]);
    const inputs = [randomValue([3, 3], 'float32', 29), randomValue([3, 3], 'float32', 30)];
    expect(() => runFused(operand, inputs, 'matmulEpilogue')).toThrowError(/matmulEpilogue: body node 1 \(add\): input 1 is a matmul operand/);
    const larger = body([[[3, 3], 'float32'], [[3, 3], 'float32'], [[2, 3, 3], 'float32']], (ops, a, w, z) => [ops.add(ops.matmul(a, w), z)]);
    expect(() => runFused(larger, [...inputs, randomValue([2, 3, 3], 'float32', 31)], 'matmulEpilogue')).toThrowError(ShapeError);
    const noMatmul = body([[[3, 3], 'float32'], [[3, 3], 'float32']], (ops, a, w) => [ops.add(a, w)]);
    expect(() => runFused(noMatmul, inputs, 'matmulEpilogue')).toThrowError(/the body must start with matmul of its first two inputs/);
  });
});

describe('the kernel cache', () => {
  it('compiles a body once: equal printed text hits, another shape compiles again', () => {
    const make = (n: number) => body([[[n], 'float32']], (ops, x) => [ops.sigmoid(ops.mul(x, 0.25))]);
    const first = compileFused(make(1000), false);
    const before = codegenStats().compiled;
    expect(compileFused(make(1000), false)).toBe(first);
    expect(codegenStats().compiled).toBe(before);
    compileFused(make(1001), false);
    expect(codegenStats().compiled).toBe(before + 1);
  });
});

describe('fused kernel errors', () => {
  it('a fused node run without its body names the op and what to pass', () => {
    const g = body([[[2], 'float32']], (ops, x) => [ops.exp(ops.neg(x))]);
    const args = [{ storage: new Float32Array(2), type: g.inputs[0].type }];
    expect(() => cpuRunWithout(args, g)).toThrowError(KernelError);
    expect(() => cpuRunWithout(args, g)).toThrowError(/'fusedElementwise' runs its body sub-graph, but got no sub-graphs; pass node\.subgraphs to Backend\.run/);
  });

  it('a body holding an op that cannot be fused is rejected, naming the node', () => {
    const g = body([[[2, 2], 'float32']], (ops, x) => [ops.exp(ops.matmul(x, x))]);
    expect(() => runFused(g, [value([1, 2, 3, 4], [2, 2])])).toThrowError(ArgumentError);
    expect(() => runFused(g, [value([1, 2, 3, 4], [2, 2])])).toThrowError(/fusedElementwise: body node 0 \(matmul\): is not an elementwise op or a trailing reduction/);
  });

  it('an empty domain with a non-empty value in it is rejected (no element of it would be computed)', () => {
    const g = body([[[3], 'float32'], [[0, 3], 'float32']], (ops, a, b) => {
      const n = ops.neg(a);
      return [n, ops.add(n, b)];
    });
    expect(() => runFused(g, [value([1, 2, 3], [3]), value([], [0, 3])])).toThrowError(ShapeError);
    expect(() => runFused(g, [value([1, 2, 3], [3]), value([], [0, 3])])).toThrowError('fusedElementwise: body node 0 (neg) makes a [3] value, but the fused domain [0,3] is empty; an empty domain computes no elements');
  });

  it('a reduction that does not read the whole domain is rejected', () => {
    const g = body([[[2, 3], 'float32'], [[3], 'float32']], (ops, x, y) => [ops.add(x, 1), ops.sum(y)]);
    expect(() => runFused(g, [value([1, 2, 3, 4, 5, 6], [2, 3]), value([1, 2, 3], [3])])).toThrowError(ShapeError);
  });
});

function cpuRunWithout(args: { storage: Float32Array; type: Value['type'] }[], g: Graph): unknown {
  return cpu.run(getOp('fusedElementwise'), args, {}, g.outputs.map((v) => v.type));
}

import { describe, expect, it } from 'vitest';
import { reducedBlock } from '../src/kernels/reduce.js';
import { WASM_ELEMENTWISE_MIN_ELEMENTS, wasmElementwiseStats } from '../src/wasm/elementwise.js';
import { cpuOps as ops } from './helpers/cpu_ops.js';
import type { CpuValue } from './helpers/cpu_ops.js';
import { expectIdentical, randomValue } from './helpers/codegen.js';

/**
 * The fast paths of eager float32 kernels: reductions over adjacent axes without index arrays,
 * and large elementwise ops through WebAssembly. Both must be bit-identical to a plain
 * reference loop (float64 arithmetic rounded to float32; float64 accumulation in row-major
 * order), NaN, ±Inf and -0 included.
 */

const strides = (shape: readonly number[]) => shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));

/** Reference reduction: every element folded in row-major order into its output element. */
function reduceReference(x: CpuValue, axes: readonly number[], init: number, step: (acc: number, v: number) => number): Float32Array {
  const outShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const acc = new Float64Array(outShape.reduce((a, b) => a * b, 1)).fill(init);
  const xs = strides(x.shape);
  const os = strides(outShape);
  for (let i = 0; i < x.data.length; i++) {
    let o = 0;
    x.shape.forEach((_, d) => {
      const c = Math.floor(i / xs[d]) % x.shape[d];
      if (!axes.includes(d)) o += c * os[d];
    });
    acc[o] = step(acc[o], x.data[i]);
  }
  return Float32Array.from(acc);
}

describe('reductions over adjacent axes', () => {
  it('reducedBlock views the input as [outer, n, inner], skipping size-1 axes; null when the axes are apart', () => {
    expect(reducedBlock([128, 512], [1])).toEqual([128, 512, 1]);
    expect(reducedBlock([300, 7], [0])).toEqual([1, 300, 7]);
    expect(reducedBlock([4, 5, 6], [1, 2])).toEqual([4, 30, 1]);
    expect(reducedBlock([4, 1, 5], [0, 2])).toEqual([1, 20, 1]);
    expect(reducedBlock([2, 3, 4], [0, 2])).toBeNull();
    expect(reducedBlock([2, 1, 4], [1])).toBeNull();
  });

  const cases: [readonly number[], readonly number[]][] = [
    [[37, 300], [1]], [[300, 37], [0]], [[4, 50, 6], [1]], [[4, 5, 60], [1, 2]], [[4, 1, 500], [0, 2]], [[6, 50, 7], [0, 2]],
  ];
  const folds: [string, number, (acc: number, v: number) => number][] = [
    ['sum', 0, (acc, v) => acc + v],
    ['max', -Infinity, (acc, v) => (v > acc || v !== v ? v : acc)],
    ['min', Infinity, (acc, v) => (v < acc || v !== v ? v : acc)],
  ];
  for (const [name, init, step] of folds) {
    it(`${name}: bit-identical to a row-major float64 fold (specials included)`, () => {
      cases.forEach(([shape, axes], i) => {
        const x = randomValue(shape, 'float32', 100 + i, i % 2 === 0);
        const got = (ops[name as 'sum'] as (x: CpuValue, axes: number[], keep: boolean) => CpuValue)(x, [...axes], true);
        expectIdentical([got.data], [reduceReference(x, axes, init, step)]);
      });
    });
  }

  it('max keeps the first of tied zeros (-0 before 0) and NaN wins', () => {
    const x = { data: Float32Array.from([-0, 0, 1, NaN, 0, -0, -1, -2]), shape: [2, 4], dtype: 'float32' as const };
    expectIdentical([ops.max(x, [1], true).data], [Float32Array.from([NaN, 0])]);
  });
});

describe('large float32 elementwise ops through WebAssembly', () => {
  const n = WASM_ELEMENTWISE_MIN_ELEMENTS;
  const shapes: [readonly number[], readonly number[]][] = [[[8, n / 8], [8, n / 8]], [[8, n / 8], [n / 8]], [[8, n / 8], [8, 1]], [[n], [1]]];
  const binary: [string, (a: number, b: number) => number][] = [
    ['add', (a, b) => a + b], ['sub', (a, b) => a - b], ['mul', (a, b) => a * b], ['div', (a, b) => a / b],
    ['maximum', Math.max], ['minimum', Math.min],
  ];
  it('runs them in WebAssembly (one module per op and shapes)', () => {
    const before = wasmElementwiseStats().compiled;
    ops.add(randomValue([n + 5], 'float32', 1), randomValue([n + 5], 'float32', 2));
    expect(wasmElementwiseStats().compiled).toBe(before + 1);
  });

  for (const [name, f] of binary) {
    it(`${name}: bit-identical to float64 arithmetic rounded to float32, with broadcasts`, () => {
      shapes.forEach(([sa, sb], i) => {
        const a = randomValue(sa, 'float32', 7 + i, true);
        const b = randomValue(sb, 'float32', 70 + i, true);
        const got = (ops[name as 'add'] as (x: CpuValue, y: CpuValue) => CpuValue)(a, b);
        const cols = sb.length === 1 && sb[0] === n / 8;
        const rows = sb.length === 2 && sb[1] === 1;
        const want = Float32Array.from(a.data, (v, j) => f(v, b.data[b.data.length === 1 ? 0 : cols ? j % (n / 8) : rows ? Math.floor(j / (n / 8)) : j]));
        expectIdentical([got.data], [want]);
      });
    });
  }

  const unary: [string, (x: number) => number][] = [
    ['neg', (x) => -x], ['abs', Math.abs], ['relu', (x) => (x < 0 ? 0 : x)], ['sqrt', Math.sqrt], ['rsqrt', (x) => 1 / Math.sqrt(x)],
    ['reciprocal', (x) => 1 / x], ['floor', Math.floor], ['ceil', Math.ceil],
  ];
  it('other large float32 unary ops (own JavaScript loop per op) keep their exact values', () => {
    const x = randomValue([n + 3], 'float32', 9, true);
    const cases: [string, (v: number) => number][] = [
      ['exp', Math.exp], ['log', Math.log], ['tanh', Math.tanh], ['sigmoid', (v) => 1 / (1 + Math.exp(-v))], ['sin', Math.sin], ['log1p', Math.log1p],
    ];
    for (const [name, f] of cases) {
      const got = (ops[name as 'exp'] as (x: CpuValue) => CpuValue)(x);
      expectIdentical([got.data], [Float32Array.from(x.data, f)]);
    }
  });

  for (const [name, f] of unary) {
    it(`${name}: bit-identical to the float64 function rounded to float32`, () => {
      const x = randomValue([n + 3], 'float32', 5, true);
      const got = (ops[name as 'neg'] as (x: CpuValue) => CpuValue)(x);
      expectIdentical([got.data], [Float32Array.from(x.data, f)]);
    });
  }
});

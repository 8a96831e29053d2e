import { describe, expect, it } from 'vitest';
import type { DType, TensorType } from '../src/index.js';
import { ArgumentError, createOps, DTypeError, getOp, GraphBuilder, inferTypes, printGraph, ShapeError, typeInterpreter } from '../src/index.js';

// The op surface over types: every check runs, nothing executes.
const ops = createOps(typeInterpreter);
const t = (shape: number[], dtype: DType = 'float32'): TensorType => ({ shape, dtype });

/** The error `fn` throws, as `ClassName: message`, so class and wording are asserted together. */
function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
  throw new Error('expected an error, got none');
}

describe('creation op types', () => {
  it('infer shapes and dtypes', () => {
    expect(ops.arange(5)).toEqual(t([5], 'int32'));
    expect(ops.arange(0, 1, 0.1)).toEqual(t([10]));
    expect(ops.arange(5, 0)).toEqual(t([0], 'int32'));
    expect(ops.arange(0, 5, 1, 'float64')).toEqual(t([5], 'float64'));
    expect(ops.linspace(0, 1, 0)).toEqual(t([0]));
    expect(ops.eye(2, 3, 'bool')).toEqual(t([2, 3], 'bool'));
    expect(ops.fullLike(t([2, 1], 'int32'), 3)).toEqual(t([2, 1], 'int32'));
    expect(ops.zerosLike(t([4]), 'float64')).toEqual(t([4], 'float64'));
    expect(ops.randint(0, 3, [2])).toEqual(t([2], 'int32'));
    expect(ops.normal([3], 0, 1, 'float64')).toEqual(t([3], 'float64'));
  });

  it('keep canonical attrs in the graph: int32 arange holds truncated start and step', () => {
    const b = new GraphBuilder();
    const o = createOps(b);
    expect(printGraph(b.build([o.arange(0.5, 5.2, 1.5, 'int32'), o.linspace(0.1, 1, 3)]))).toMatchInlineSnapshot(`
      "graph() {
        %0: i32[4] = arange {dtype="int32", start=0, step=1, stop=4}
        %1: f32[3] = linspace {dtype="float32", start=0.10000000149011612, steps=3, stop=1}
        return %0, %1
      }"
    `);
  });

  it('expand the random composites over the primitive randomUniform / randomNormal', () => {
    const b = new GraphBuilder();
    const o = createOps(b);
    expect(printGraph(b.build([o.uniform([2], -1, 1), o.randint(0, 10, [3])]))).toMatchInlineSnapshot(`
      "graph(%key: i32[2], %arg1: i32[2]) {
        %0: f32[2] = randomUniform %key {dtype="float32", shape=[2]}
        %1: f32[] = full {dtype="float32", shape=[], value=2}
        %2: f32[2] = mul %0 %1
        %3: f32[] = full {dtype="float32", shape=[], value=-1}
        %4: f32[2] = add %2 %3
        %5: f32[3] = randomUniform %arg1 {dtype="float32", shape=[3]}
        %6: f32[] = full {dtype="float32", shape=[], value=10}
        %7: f32[3] = mul %5 %6
        %8: f32[3] = floor %7
        %9: f32[] = full {dtype="float32", shape=[], value=9}
        %10: f32[3] = minimum %8 %9
        %11: i32[3] = cast %10 {dtype="int32"}
        return %4, %11
      }"
    `);
    const kept = new GraphBuilder({ keepComposites: true });
    expect(printGraph(kept.build([createOps(kept).randn([2, 2], 'float64'), createOps(kept).randint(-5, 5, [3])]))).toMatchInlineSnapshot(`
      "graph(%key: i32[2], %arg1: i32[2]) {
        %0: f64[2,2] = randn %key {dtype="float64", shape=[2,2]}
        %1: i32[3] = randint %arg1 {high=5, low=-5, shape=[3]}
        return %0, %1
      }"
    `);
  });
});

describe('creation op argument errors', () => {
  it('full and the *Like ops', () => {
    expect(failure(() => ops.full([2, -1], 0))).toMatchInlineSnapshot(`"ArgumentError: full: a shape must be an array of non-negative integers, got [2,-1]"`);
    expect(failure(() => ops.full([2], NaN, 'int32'))).toMatchInlineSnapshot(`"ArgumentError: full: value NaN cannot be converted to int32 (valid values are finite, from -2147483648 to 2147483647)"`);
    expect(failure(() => ops.full([2], 1, 'int64' as DType))).toMatchInlineSnapshot(`"DTypeError: full: unknown dtype "int64"; valid dtypes are bool, int32, float32, float64"`);
    expect(failure(() => ops.fullLike(t([2], 'int32'), 1e10))).toMatchInlineSnapshot(`"ArgumentError: fullLike: value 10000000000 cannot be converted to int32 (valid values are finite, from -2147483648 to 2147483647)"`);
    expect(failure(() => ops.zerosLike([1, 2] as unknown as TensorType))).toMatchInlineSnapshot(`"ArgumentError: zerosLike: x must be a tensor, got an array; wrap it with tensor(...)"`);
    expect(failure(() => ops.onesLike(t([2]), 'half' as DType))).toMatchInlineSnapshot(`"DTypeError: onesLike: unknown dtype "half"; valid dtypes are bool, int32, float32, float64"`);
  });

  it('arange', () => {
    expect(failure(() => ops.arange(0, 5, 0))).toMatchInlineSnapshot(`"ArgumentError: arange: step must be nonzero"`);
    expect(failure(() => ops.arange(0, 5, 0.5, 'int32'))).toMatchInlineSnapshot(`"ArgumentError: arange: step 0.5 truncates to 0 for dtype int32; use |step| ≥ 1 or a float dtype"`);
    expect(failure(() => ops.arange(0, Infinity))).toMatchInlineSnapshot(`"ArgumentError: arange: stop must be a finite number, got Infinity"`);
    expect(failure(() => ops.arange(NaN))).toMatchInlineSnapshot(`"ArgumentError: arange: stop must be a finite number, got NaN"`);
    expect(failure(() => ops.arange(0, 1e10))).toMatchInlineSnapshot(`"ArgumentError: arange: the range from 0 to 10000000000 by 1 has 10000000000 elements; at most 2147483647 are allowed"`);
    expect(failure(() => ops.arange(2 ** 31 - 2, 2 ** 31 + 1))).toMatchInlineSnapshot(`"ArgumentError: arange: the last value 2147483648 cannot be converted to int32 (valid values are finite, from -2147483648 to 2147483647)"`);
    expect(failure(() => ops.arange(0, 3, 1, 'bool'))).toMatchInlineSnapshot(`"DTypeError: arange: dtype must be int32, float32 or float64, got bool"`);
    expect(failure(() => inferTypes(getOp('arange'), [], { start: 0, stop: 3, step: 0, dtype: 'float32' }))).toMatchInlineSnapshot(`"ArgumentError: arange: step must be nonzero"`);
  });

  it('linspace', () => {
    expect(failure(() => ops.linspace(0, 1, -1))).toMatchInlineSnapshot(`"ArgumentError: linspace: steps must be a non-negative integer (at most 2147483647), got -1"`);
    expect(failure(() => ops.linspace(0, 1, 2.5))).toMatchInlineSnapshot(`"ArgumentError: linspace: steps must be a non-negative integer (at most 2147483647), got 2.5"`);
    expect(failure(() => ops.linspace(0, NaN, 3, 'int32'))).toMatchInlineSnapshot(`"ArgumentError: linspace: stop NaN cannot be converted to int32 (valid values are finite, from -2147483648 to 2147483647)"`);
    expect(failure(() => ops.linspace(0, 1, 3, 'bool'))).toMatchInlineSnapshot(`"DTypeError: linspace: dtype must be int32, float32 or float64, got bool"`);
    expect(failure(() => inferTypes(getOp('linspace'), [], { start: 0, stop: 1, steps: -2, dtype: 'float32' }))).toMatchInlineSnapshot(`"ArgumentError: linspace: steps must be an integer in 0..2147483647, got -2"`);
  });

  it('eye', () => {
    expect(failure(() => ops.eye(-1))).toMatchInlineSnapshot(`"ArgumentError: eye: n must be a non-negative integer (at most 2147483647), got -1"`);
    expect(failure(() => ops.eye(2, 1.5))).toMatchInlineSnapshot(`"ArgumentError: eye: m must be a non-negative integer (at most 2147483647), got 1.5"`);
  });
});

describe('random op argument errors', () => {
  it('rand, randn: shapes and dtypes', () => {
    expect(failure(() => ops.rand([2, 0.5]))).toMatchInlineSnapshot(`"ArgumentError: rand: a shape must be an array of non-negative integers, got [2,0.5]"`);
    expect(failure(() => ops.rand([2], 'int32'))).toMatchInlineSnapshot(`"DTypeError: rand: dtype must be float32 or float64, got int32"`);
    expect(failure(() => ops.randn([2], 'bool'))).toMatchInlineSnapshot(`"DTypeError: randn: dtype must be float32 or float64, got bool"`);
  });

  it('randint: bounds', () => {
    expect(failure(() => ops.randint(3, 3, [2]))).toMatchInlineSnapshot(`"ArgumentError: randint: low must be less than high, got low 3 and high 3; the range [low, high) is empty"`);
    expect(failure(() => ops.randint(0, 2.5, [2]))).toMatchInlineSnapshot(`"ArgumentError: randint: high must be an integer from -2147483647 to 2147483648, got 2.5"`);
    expect(failure(() => ops.randint(-(2 ** 31) - 1, 0, [2]))).toMatchInlineSnapshot(`"ArgumentError: randint: low must be an integer from -2147483648 to 2147483647, got -2147483649"`);
  });

  it('uniform and normal: parameters', () => {
    expect(failure(() => ops.uniform([2], 1, 0))).toMatchInlineSnapshot(`"ArgumentError: uniform: low must be at most high, got low 1 and high 0"`);
    expect(failure(() => ops.uniform([2], 0, Infinity))).toMatchInlineSnapshot(`"ArgumentError: uniform: high must be a finite number, got Infinity"`);
    expect(failure(() => ops.uniform([2], -3e38, 3e38))).toMatchInlineSnapshot(`"ArgumentError: uniform: high − low (3e+38 − -3e+38) overflows float32; use a narrower range"`);
    expect(failure(() => ops.normal([2], 0, -1))).toMatchInlineSnapshot(`"ArgumentError: normal: std must be non-negative, got -1"`);
    expect(failure(() => ops.normal([2], NaN, 1))).toMatchInlineSnapshot(`"ArgumentError: normal: mean must be a finite number, got NaN"`);
  });

  it('randomUniform / randomNormal: the key', () => {
    expect(failure(() => ops.randomUniform(t([2]), [3]))).toMatchInlineSnapshot(`"DTypeError: randomUniform: key must be int32, got float32; get a key from randomKey()"`);
    expect(failure(() => ops.randomNormal(t([3], 'int32'), [3]))).toMatchInlineSnapshot(`"ShapeError: randomNormal: key must have shape [2] ([seed, stream]), got [3]"`);
    expect(failure(() => ops.randomUniform([0, 1] as unknown as TensorType, [3]))).toMatchInlineSnapshot(`"ArgumentError: randomUniform: key must be a tensor, got an array; wrap it with tensor(...)"`);
    expect(failure(() => ops.randomNormal(t([2], 'int32'), [3], 'int32'))).toMatchInlineSnapshot(`"DTypeError: randomNormal: dtype must be float32 or float64, got int32"`);
    expect(() => ops.randomUniform(t([2, 1], 'int32'), [3])).toThrow(ShapeError);
    expect(() => ops.randomUniform(t([2], 'bool'), [3])).toThrow(DTypeError);
    expect(() => ops.rand([-1])).toThrow(ArgumentError);
  });
});

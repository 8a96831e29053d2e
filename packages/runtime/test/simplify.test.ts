import { printGraph } from '@kiln/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { simplify, SIMPLIFY } from '../src/index.js';
import { boolT, build, f32, i32, runGraph, runPass, sameBits } from './helpers.js';

const SPECIAL = [NaN, -0, 0, Infinity, -Infinity, 1.5, -3, 1e-40];

describe('simplify: arithmetic identities', () => {
  const g = build({ x: f32(8), n: i32(3) }, (o, x, n) => [
    o.mul(x, 1), o.mul(1, x), o.div(x, 1), o.pow(x, 1), o.mul(x, -1),
    o.sub(x, 0), o.add(x, -0), o.add(n, 0), o.sub(n, 0), o.mul(n, -1),
    // Kept: not exact.
    o.add(x, 0), o.mul(x, 0), o.sub(x, -0), o.sub(x, x),
  ]);

  it('rewrites x*1, x/1, x**1, x-0, x+(-0) and integer x+0 to x, x*-1 to neg x; keeps float x+0, x*0, x-(-0), x-x', () => {
    // (The printer writes -0 as 0: %12 and %24 below are -0.)
    expect(printGraph(g)).toMatchInlineSnapshot(`
      "graph(%x: f32[8], %n: i32[3]) {
        %0: f32[] = full {dtype="float32", shape=[], value=1}
        %1: f32[8] = mul %x %0
        %2: f32[] = full {dtype="float32", shape=[], value=1}
        %3: f32[8] = mul %2 %x
        %4: f32[] = full {dtype="float32", shape=[], value=1}
        %5: f32[8] = div %x %4
        %6: f32[] = full {dtype="float32", shape=[], value=1}
        %7: f32[8] = pow %x %6
        %8: f32[] = full {dtype="float32", shape=[], value=-1}
        %9: f32[8] = mul %x %8
        %10: f32[] = full {dtype="float32", shape=[], value=0}
        %11: f32[8] = sub %x %10
        %12: f32[] = full {dtype="float32", shape=[], value=0}
        %13: f32[8] = add %x %12
        %14: i32[] = full {dtype="int32", shape=[], value=0}
        %15: i32[3] = add %n %14
        %16: i32[] = full {dtype="int32", shape=[], value=0}
        %17: i32[3] = sub %n %16
        %18: i32[] = full {dtype="int32", shape=[], value=-1}
        %19: i32[3] = mul %n %18
        %20: f32[] = full {dtype="float32", shape=[], value=0}
        %21: f32[8] = add %x %20
        %22: f32[] = full {dtype="float32", shape=[], value=0}
        %23: f32[8] = mul %x %22
        %24: f32[] = full {dtype="float32", shape=[], value=0}
        %25: f32[8] = sub %x %24
        %26: f32[8] = sub %x %x
        return %1, %3, %5, %7, %9, %11, %13, %15, %17, %19, %21, %23, %25, %26
      }"
    `);
    const { graph, notes } = runPass(SIMPLIFY, g);
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph(%x: f32[8], %n: i32[3]) {
        %0: f32[] = full {dtype="float32", shape=[], value=1}
        %1: f32[] = full {dtype="float32", shape=[], value=1}
        %2: f32[] = full {dtype="float32", shape=[], value=1}
        %3: f32[] = full {dtype="float32", shape=[], value=1}
        %4: f32[] = full {dtype="float32", shape=[], value=-1}
        %5: f32[8] = neg %x
        %6: f32[] = full {dtype="float32", shape=[], value=0}
        %7: f32[] = full {dtype="float32", shape=[], value=0}
        %8: i32[] = full {dtype="int32", shape=[], value=0}
        %9: i32[] = full {dtype="int32", shape=[], value=0}
        %10: i32[] = full {dtype="int32", shape=[], value=-1}
        %11: i32[3] = neg %n
        %12: f32[] = full {dtype="float32", shape=[], value=0}
        %13: f32[8] = add %x %12
        %14: f32[] = full {dtype="float32", shape=[], value=0}
        %15: f32[8] = mul %x %14
        %16: f32[] = full {dtype="float32", shape=[], value=0}
        %17: f32[8] = sub %x %16
        %18: f32[8] = sub %x %x
        return %x, %x, %x, %x, %5, %x, %x, %n, %n, %11, %13, %15, %17, %18
      }"
    `);
    expect(notes).toMatchInlineSnapshot(`
      {
        "x * -1 → neg x": 2,
        "x * 1 → x": 2,
        "x ** 1 → x": 1,
        "x + 0 → x": 2,
        "x - 0 → x": 2,
        "x / 1 → x": 1,
      }
    `);
  });

  it('is exact, bit for bit, on NaN, ±Infinity, -0 and int32 extremes', () => {
    const { graph } = runPass(simplify, g);
    const inputs = [SPECIAL, [-(2 ** 31), 2 ** 31 - 1, 0]];
    expect(sameBits(runGraph(graph, inputs), runGraph(g, inputs))).toBe(true);
  });

  it('broadcasts x when the constant operand widens the shape', () => {
    const b = build({ x: f32(3) }, (o, x) => [o.mul(x, o.full([2, 3], 1, 'float32'))]);
    const { graph } = runPass(simplify, b);
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph(%x: f32[3]) {
        %0: f32[2,3] = full {dtype="float32", shape=[2,3], value=1}
        %1: f32[2,3] = broadcastTo %x {shape=[2,3]}
        return %1
      }"
    `);
    expect(runGraph(graph, [[1, 2, 3]])).toEqual([[1, 2, 3, 1, 2, 3]]);
  });

  it('recognises a constant whose elements are all equal as a scalar', () => {
    const b = build({ x: f32(2) }, (o, x) => [o.div(x, o.constant([1, 1], [2])), o.mul(x, o.constant([1, 2], [2]))]);
    expect(runPass(simplify, b).graph.nodes.map((n) => n.op)).toEqual(['constant', 'constant', 'mul']);
  });
});

describe('simplify: shape chains', () => {
  it('removes transposes of transposes and merges reshapes', () => {
    const g = build({ x: f32(2, 3, 4) }, (o, x) => {
      const back = o.permute(o.permute(x, [2, 0, 1]), [1, 2, 0]); // identity
      const twice = o.permute(o.permute(x, [1, 0, 2]), [0, 2, 1]); // one permute [1, 2, 0]
      const flat = o.reshape(o.reshape(o.reshape(x, [6, 4]), [24]), [4, 6]);
      return [back, twice, flat, o.reshape(x, [2, 3, 4])];
    });
    expect(printGraph(g)).toMatchInlineSnapshot(`
      "graph(%x: f32[2,3,4]) {
        %0: f32[4,2,3] = permute %x {axes=[2,0,1]}
        %1: f32[2,3,4] = permute %0 {axes=[1,2,0]}
        %2: f32[3,2,4] = permute %x {axes=[1,0,2]}
        %3: f32[3,4,2] = permute %2 {axes=[0,2,1]}
        %4: f32[6,4] = reshape %x {shape=[6,4]}
        %5: f32[24] = reshape %4 {shape=[24]}
        %6: f32[4,6] = reshape %5 {shape=[4,6]}
        %7: f32[2,3,4] = reshape %x {shape=[2,3,4]}
        return %1, %3, %6, %7
      }"
    `);
    const { graph, notes } = runPass(simplify, g);
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph(%x: f32[2,3,4]) {
        %0: f32[4,2,3] = permute %x {axes=[2,0,1]}
        %1: f32[3,2,4] = permute %x {axes=[1,0,2]}
        %2: f32[3,4,2] = permute %x {axes=[1,2,0]}
        %3: f32[6,4] = reshape %x {shape=[6,4]}
        %4: f32[24] = reshape %x {shape=[24]}
        %5: f32[4,6] = reshape %x {shape=[4,6]}
        return %x, %2, %5, %x
      }"
    `);
    expect(notes).toMatchInlineSnapshot(`
      {
        "identity permute → x": 1,
        "permute(permute x) → permute x": 2,
        "reshape to the same shape → x": 1,
        "reshape(reshape x) → reshape x": 2,
      }
    `);
    const data = Array.from({ length: 24 }, (_, i) => i);
    expect(runGraph(graph, [data])).toEqual(runGraph(g, [data]));
  });

  it('turns a permute that moves only unit axes into a reshape, which merges with its neighbours', () => {
    const g = build({ x: f32(3, 1, 4) }, (o, x) => [o.reshape(o.permute(o.reshape(x, [3, 4, 1]), [0, 2, 1]), [12])]);
    const { graph } = runPass(simplify, g);
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph(%x: f32[3,1,4]) {
        %0: f32[3,4,1] = reshape %x {shape=[3,4,1]}
        %1: f32[12] = reshape %x {shape=[12]}
        return %1
      }"
    `);
  });

  it('drops broadcasts to the same shape and merges broadcast chains', () => {
    const g = build({ x: f32(3) }, (o, x) => [o.broadcastTo(o.broadcastTo(x, [2, 3]), [4, 2, 3]), o.broadcastTo(x, [3])]);
    const { graph } = runPass(simplify, g);
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph(%x: f32[3]) {
        %0: f32[2,3] = broadcastTo %x {shape=[2,3]}
        %1: f32[4,2,3] = broadcastTo %x {shape=[4,2,3]}
        return %1, %x
      }"
    `);
  });
});

describe('simplify: casts, selects, negations', () => {
  it('merges casts through an exact widening and drops casts back to the same dtype', () => {
    const g = build({ m: boolT(2), x: f32(2), d: { dtype: 'float64', shape: [2] } }, (o, m, x, d) => [
      o.cast(o.cast(m, 'int32'), 'float32'), // bool → int32 → float32: one cast
      o.cast(o.cast(x, 'float64'), 'float32'), // float32 → float64 → float32: x
      o.cast(o.cast(d, 'float32'), 'float64'), // narrowing: kept
    ]);
    const { graph } = runPass(simplify, g);
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph(%m: bool[2], %x: f32[2], %d: f64[2]) {
        %0: i32[2] = cast %m {dtype="int32"}
        %1: f32[2] = cast %m {dtype="float32"}
        %2: f64[2] = cast %x {dtype="float64"}
        %3: f32[2] = cast %d {dtype="float32"}
        %4: f64[2] = cast %3 {dtype="float64"}
        return %1, %x, %4
      }"
    `);
    const inputs = [[1, 0], [0.1, NaN], [0.1, 1e300]];
    expect(sameBits(runGraph(graph, inputs), runGraph(g, inputs))).toBe(true);
  });

  it('resolves selects on a constant condition or between equal branches, and double negations', () => {
    const g = build({ c: boolT(2, 1), a: f32(2), b: f32(2) }, (o, c, a, b) => [
      o.where(o.full([], true), a, b),
      o.where(o.full([2, 1], false), a, b),
      o.where(c, a, a),
      o.neg(o.neg(a)),
      o.logicalNot(o.logicalNot(c)),
    ]);
    const { graph } = runPass(simplify, g);
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph(%c: bool[2,1], %a: f32[2], %b: f32[2]) {
        %0: bool[] = full {dtype="bool", shape=[], value=1}
        %1: bool[2,1] = full {dtype="bool", shape=[2,1], value=0}
        %2: f32[2,2] = broadcastTo %b {shape=[2,2]}
        %3: f32[2,2] = broadcastTo %a {shape=[2,2]}
        %4: f32[2] = neg %a
        %5: bool[2,1] = logicalNot %c
        return %a, %2, %3, %a, %c
      }"
    `);
    const inputs = [[1, 0], [-0, NaN], [2, 3]];
    expect(sameBits(runGraph(graph, inputs), runGraph(g, inputs))).toBe(true);
  });

  it('keeps every value bit-exact on random inputs with special values (property)', () => {
    const g = build({ x: f32(4), y: f32(4) }, (o, x, y) => [
      o.neg(o.neg(o.mul(o.sub(x, 0), -1))),
      o.add(o.div(o.add(x, -0), 1), o.mul(y, 1)),
      o.where(o.gt(x, y), o.pow(x, 1), o.pow(y, 1)),
      o.reshape(o.permute(o.reshape(x, [2, 2]), [1, 0]), [4]),
    ]);
    const { graph } = runPass(simplify, g);
    expect(graph.nodes.length).toBeLessThan(g.nodes.length);
    const value = fc.oneof(fc.constantFrom(...SPECIAL), fc.float({ noDefaultInfinity: false }));
    fc.assert(fc.property(fc.array(value, { minLength: 4, maxLength: 4 }), fc.array(value, { minLength: 4, maxLength: 4 }), (x, y) => {
      expect(sameBits(runGraph(graph, [x, y]), runGraph(g, [x, y]))).toBe(true);
    }), { numRuns: 100 });
  });

  it('returns the same graph object when nothing applies', () => {
    const h = build({ x: f32(2) }, (o, x) => [o.add(x, 0), o.permute(o.reshape(x, [2, 1]), [1, 0])]);
    expect(simplify(h)).not.toBe(h); // the transpose of a [2,1] is a reshape
    const g = build({ x: f32(2) }, (o, x) => [o.add(x, 0), o.permute(o.broadcastTo(x, [2, 2]), [1, 0])]);
    expect(simplify(g)).toBe(g);
  });
});

import { describe, expect, it } from 'vitest';
import type { Ops, Value } from '../src/index.js';
import { GraphBuilder, createOps, printGraph } from '../src/index.js';

function trace(fn: (ops: Ops<Value>, x: Value) => Value[], keepComposites = false): string {
  const b = new GraphBuilder({ keepComposites });
  const x = b.input({ dtype: 'float32', shape: [2, 3] }, 'x');
  return printGraph(b.build(fn(createOps(b), x)));
}

describe('reduce ops in graphs', () => {
  it('records canonical attrs: sorted non-negative axes, flattened argmax as axis null', () => {
    expect(trace((ops, x) => [ops.sum(x, [-1, 0], true), ops.argmax(x), ops.cumsum(x, -1), ops.mean(x, -1)], true)).toMatchInlineSnapshot(`
      "graph(%x: f32[2,3]) {
        %0: f32[1,1] = sum %x {axes=[0,1], keepdims=true}
        %1: i32[] = argmax %x {axis=null, keepdims=false}
        %2: f32[2,3] = cumsum %x {axis=1}
        %3: f32[2] = mean %x {axes=[1], keepdims=false}
        return %0, %1, %2, %3
      }"
    `);
  });

  it('expands mean and var into sum and div by the element count', () => {
    expect(trace((ops, x) => [ops.mean(x, -1), ops.var(x, 0, 1, true)])).toMatchInlineSnapshot(`
      "graph(%x: f32[2,3]) {
        %0: f32[2] = sum %x {axes=[1], keepdims=false}
        %1: f32[] = full {dtype="float32", shape=[], value=3}
        %2: f32[2] = div %0 %1
        %3: f32[1,3] = sum %x {axes=[0], keepdims=true}
        %4: f32[] = full {dtype="float32", shape=[], value=2}
        %5: f32[1,3] = div %3 %4
        %6: f32[2,3] = sub %x %5
        %7: f32[2,3] = mul %6 %6
        %8: f32[1,3] = sum %7 {axes=[0], keepdims=true}
        %9: f32[] = full {dtype="float32", shape=[], value=1}
        %10: f32[1,3] = div %8 %9
        return %2, %10
      }"
    `);
  });

  it('expands logsumexp with a max shift that is zeroed where the max is ±inf', () => {
    expect(trace((ops, x) => [ops.logsumexp(x, 1)])).toMatchInlineSnapshot(`
      "graph(%x: f32[2,3]) {
        %0: f32[2,1] = max %x {axes=[1], keepdims=true}
        %1: f32[2,1] = abs %0
        %2: f32[] = full {dtype="float32", shape=[], value=inf}
        %3: bool[2,1] = eq %1 %2
        %4: f32[] = full {dtype="float32", shape=[], value=0}
        %5: f32[2,1] = where %3 %4 %0
        %6: f32[2,3] = sub %x %5
        %7: f32[2,3] = exp %6
        %8: f32[2] = sum %7 {axes=[1], keepdims=false}
        %9: f32[2] = log %8
        %10: f32[2] = reshape %5 {shape=[2]}
        %11: f32[2] = add %9 %10
        return %11
      }"
    `);
  });

  it('expands logsumexp over an empty axis to -inf without taking a max', () => {
    const b = new GraphBuilder();
    const x = b.input({ dtype: 'float64', shape: [0, 2] }, 'x');
    expect(printGraph(b.build([createOps(b).logsumexp(x, 0)]))).toMatchInlineSnapshot(`
      "graph(%x: f64[0,2]) {
        %0: f64[2] = full {dtype="float64", shape=[2], value=-inf}
        return %0
      }"
    `);
  });
});

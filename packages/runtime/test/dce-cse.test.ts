import { getOp, GraphBuilder, printGraph } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { cse, CSE, dce, DCE } from '../src/index.js';
import { build, f32, runGraph, runPass, sameBits } from './helpers.js';

describe('dce', () => {
  it('drops nodes nothing reads, keeps every input and output', () => {
    const g = build({ x: f32(2), unused: f32(2) }, (o, x) => {
      const dead = o.exp(o.neg(x));
      void dead;
      const y = o.relu(x);
      return [y, x];
    });
    expect(printGraph(g)).toMatchInlineSnapshot(`
      "graph(%x: f32[2], %unused: f32[2]) {
        %0: f32[2] = neg %x
        %1: f32[2] = exp %0
        %2: f32[2] = relu %x
        return %2, %x
      }"
    `);
    const { graph, notes } = runPass(DCE, g);
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph(%x: f32[2], %unused: f32[2]) {
        %0: f32[2] = relu %x
        return %0, %x
      }"
    `);
    expect(notes).toEqual({ 'removed neg': 1, 'removed exp': 1 });
  });

  it('keeps a chain that ends in a state-update output', () => {
    const g = build({ w: f32(2), x: f32(2) }, (o, w, x) => [o.sum(x), o.sub(w, o.mul(x, 0.1))]);
    expect(runPass(dce, g).graph).toBe(g);
  });

  it('returns the same graph object when nothing is dead', () => {
    const g = build({ x: f32(3) }, (o, x) => [o.exp(x)]);
    expect(dce(g)).toBe(g);
  });
});

describe('cse', () => {
  it('merges identical nodes and the nodes that become identical after', () => {
    const g = build({ x: f32(3) }, (o, x) => {
      const a = o.mul(o.exp(x), 2);
      const b = o.mul(o.exp(x), 2);
      return [o.add(a, b)];
    });
    expect(printGraph(g)).toMatchInlineSnapshot(`
      "graph(%x: f32[3]) {
        %0: f32[3] = exp %x
        %1: f32[] = full {dtype="float32", shape=[], value=2}
        %2: f32[3] = mul %0 %1
        %3: f32[3] = exp %x
        %4: f32[] = full {dtype="float32", shape=[], value=2}
        %5: f32[3] = mul %3 %4
        %6: f32[3] = add %2 %5
        return %6
      }"
    `);
    const { graph, notes } = runPass(CSE, g);
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph(%x: f32[3]) {
        %0: f32[3] = exp %x
        %1: f32[] = full {dtype="float32", shape=[], value=2}
        %2: f32[3] = mul %0 %1
        %3: f32[3] = add %2 %2
        return %3
      }"
    `);
    expect(notes).toEqual({ 'merged exp': 1, 'merged full': 1, 'merged mul': 1 });
    expect(runGraph(graph, [[0, 1, -1]])).toEqual(runGraph(g, [[0, 1, -1]]));
  });

  it('merges commutative operands in either order, but not sub', () => {
    const g = build({ x: f32(2), y: f32(2) }, (o, x, y) => [o.add(x, y), o.add(y, x), o.sub(x, y), o.sub(y, x), o.maximum(y, x), o.maximum(x, y)]);
    const { graph } = runPass(cse, g);
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph(%x: f32[2], %y: f32[2]) {
        %0: f32[2] = add %x %y
        %1: f32[2] = sub %x %y
        %2: f32[2] = sub %y %x
        %3: f32[2] = maximum %y %x
        return %0, %0, %1, %2, %3, %3
      }"
    `);
  });

  it('tells attributes apart exactly: -0 from 0, but NaN equals NaN', () => {
    const g = build({}, (o) => [o.full([], -0, 'float32'), o.full([], 0, 'float32'), o.full([], NaN), o.full([], NaN), o.full([2], 0, 'float32'), o.full([], 0, 'float64')]);
    const { graph } = runPass(cse, g);
    // (The printer writes -0 as 0.)
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph() {
        %0: f32[] = full {dtype="float32", shape=[], value=0}
        %1: f32[] = full {dtype="float32", shape=[], value=0}
        %2: f32[] = full {dtype="float32", shape=[], value=nan}
        %3: f32[2] = full {dtype="float32", shape=[2], value=0}
        %4: f64[] = full {dtype="float64", shape=[], value=0}
        return %0, %1, %2, %2, %3, %4
      }"
    `);
    const [negZero, zero] = runGraph(graph, []);
    expect(Object.is(negZero[0], -0) && Object.is(zero[0], 0)).toBe(true);
  });

  it('never merges random draws, even from the same key', () => {
    const b = new GraphBuilder();
    const key = b.input({ dtype: 'int32', shape: [2] }, 'key');
    const attrs = { shape: [3], dtype: 'float32' };
    const [u1] = b.add(getOp('randomUniform'), [key], attrs);
    const [u2] = b.add(getOp('randomUniform'), [key], attrs);
    const g = b.build([u1, u2]);
    expect(runPass(cse, g).graph).toBe(g);
  });

  it('gives the same values as the graph it came from', () => {
    const g = build({ x: f32(4) }, (o, x) => [o.add(o.tanh(x), o.tanh(x)), o.mul(o.tanh(x), o.sigmoid(x)), o.mul(o.sigmoid(x), o.tanh(x))]);
    const { graph } = runPass(cse, g);
    expect(graph.nodes.map((n) => n.op)).toEqual(['tanh', 'add', 'sigmoid', 'mul']);
    const input = [[-2, 0, 0.5, NaN]];
    expect(sameBits(runGraph(graph, input), runGraph(g, input))).toBe(true);
  });
});

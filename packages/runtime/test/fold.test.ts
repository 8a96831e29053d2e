import type { Backend } from '@kiln/core';
import { printGraph } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { fold, FOLD_CONSTANTS } from '../src/index.js';
import { build, cpu, f32, i32, runGraph, runPass, sameBits } from './helpers.js';

describe('fold-constants', () => {
  it('evaluates elementwise ops over fulls on the backend, as one element, whatever the size', () => {
    const g = build({ x: f32(1000, 1000) }, (o, x) => [o.add(x, o.exp(o.mul(o.full([1000, 1000], 0.1), 3)))]);
    expect(printGraph(g)).toMatchInlineSnapshot(`
      "graph(%x: f32[1000,1000]) {
        %0: f32[1000,1000] = full {dtype="float32", shape=[1000,1000], value=0.1}
        %1: f32[] = full {dtype="float32", shape=[], value=3}
        %2: f32[1000,1000] = mul %0 %1
        %3: f32[1000,1000] = exp %2
        %4: f32[1000,1000] = add %x %3
        return %4
      }"
    `);
    const { graph, notes } = runPass(FOLD_CONSTANTS, g, { backend: cpu });
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph(%x: f32[1000,1000]) {
        %0: f32[1000,1000] = full {dtype="float32", shape=[1000,1000], value=0.1}
        %1: f32[] = full {dtype="float32", shape=[], value=3}
        %2: f32[1000,1000] = full {dtype="float32", shape=[1000,1000], value=0.30000001192092896}
        %3: f32[1000,1000] = full {dtype="float32", shape=[1000,1000], value=1.3498588800430298}
        %4: f32[1000,1000] = add %x %3
        return %4
      }"
    `);
    expect(notes).toEqual({ 'folded mul → full': 1, 'folded exp → full': 1 });
    // float32 all the way: fround(exp(fround(fround(0.1) * 3))), as the kernels compute it.
    const folded = graph.nodes.at(-2)!.attrs.value as number;
    expect(folded).toBe(Math.fround(Math.exp(Math.fround(Math.fround(0.1) * 3))));
  });

  it('folds shape ops of a full without a backend, and nothing else', () => {
    const g = build({ x: f32(2, 3) }, (o, x) => [o.mul(x, o.permute(o.broadcastTo(o.reshape(o.full([3], 2, 'float32'), [3, 1]), [3, 2]), [1, 0])), o.neg(o.full([2], 1, 'float32'))]);
    const { graph, notes } = runPass(fold, g);
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph(%x: f32[2,3]) {
        %0: f32[3] = full {dtype="float32", shape=[3], value=2}
        %1: f32[3,1] = full {dtype="float32", shape=[3,1], value=2}
        %2: f32[3,2] = full {dtype="float32", shape=[3,2], value=2}
        %3: f32[2,3] = full {dtype="float32", shape=[2,3], value=2}
        %4: f32[2,3] = mul %x %3
        %5: f32[2] = full {dtype="float32", shape=[2], value=1}
        %6: f32[2] = neg %5
        return %4, %6
      }"
    `);
    expect(notes).toEqual({ 'folded reshape → full': 1, 'folded broadcastTo → full': 1, 'folded permute → full': 1 });
  });

  it('writes small non-uniform results as constants, read back from the backend', () => {
    const g = build({}, (o) => {
      const idx = o.arange(0, 4, 1, 'int32');
      const c = o.constant([1.5, -2, 0.25, 8], [2, 2]);
      return [o.eq(o.reshape(idx, [2, 2]), o.full([2, 2], 2)), o.sum(o.mul(c, c), [1])];
    });
    expect(printGraph(g)).toMatchInlineSnapshot(`
      "graph() {
        %0: i32[4] = arange {dtype="int32", start=0, step=1, stop=4}
        %1: f32[2,2] = constant {data=[1.5,-2,0.25,8], dtype="float32", shape=[2,2]}
        %2: i32[2,2] = reshape %0 {shape=[2,2]}
        %3: i32[2,2] = full {dtype="int32", shape=[2,2], value=2}
        %4: bool[2,2] = eq %2 %3
        %5: f32[2,2] = mul %1 %1
        %6: f32[2] = sum %5 {axes=[1], keepdims=false}
        return %4, %6
      }"
    `);
    const { graph } = runPass(fold, g, { backend: cpu });
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph() {
        %0: i32[4] = arange {dtype="int32", start=0, step=1, stop=4}
        %1: f32[2,2] = constant {data=[1.5,-2,0.25,8], dtype="float32", shape=[2,2]}
        %2: i32[2,2] = constant {data=[0,1,2,3], dtype="int32", shape=[2,2]}
        %3: i32[2,2] = full {dtype="int32", shape=[2,2], value=2}
        %4: bool[2,2] = constant {data=[0,0,1,0], dtype="bool", shape=[2,2]}
        %5: f32[2,2] = constant {data=[2.25,4,0.0625,64], dtype="float32", shape=[2,2]}
        %6: f32[2] = constant {data=[6.25,64.0625], dtype="float32", shape=[2]}
        return %4, %6
      }"
    `);
    expect(sameBits(runGraph(graph, []), runGraph(g, []))).toBe(true);
  });

  it('leaves results larger than maxFoldElements in the graph', () => {
    const g = build({}, (o) => [o.cumsum(o.arange(0, 10, 1, 'float32'), 0)]);
    expect(runPass(fold, g, { backend: cpu, maxFoldElements: 9 }).graph).toBe(g);
    expect(runPass(fold, g, { backend: cpu, maxFoldElements: 10 }).graph.nodes.map((n) => n.op)).toEqual(['arange', 'constant']);
  });

  it('keeps NaN, infinities and -0 exactly', () => {
    const g = build({}, (o) => [o.div(o.full([2], 0, 'float32'), o.full([], 0, 'float32')), o.div(o.full([], 1, 'float32'), o.full([], -Infinity, 'float32')), o.log(o.full([3], 0, 'float64'))]);
    const { graph } = runPass(fold, g, { backend: cpu });
    expect(graph.nodes.filter((n) => n.op !== 'full')).toEqual([]);
    const values = runGraph(graph, []);
    expect(values[0].every(Number.isNaN)).toBe(true);
    expect(Object.is(values[1][0], -0)).toBe(true);
    expect(values[2]).toEqual([-Infinity, -Infinity, -Infinity]);
    expect(sameBits(values, runGraph(g, []))).toBe(true);
  });

  it('folds integer arithmetic with int32 wraparound, as the kernels do', () => {
    const g = build({}, (o) => [o.mul(o.full([], 65536, 'int32'), o.full([], 65536, 'int32')), o.cast(o.full([], 3.7, 'float32'), 'int32')]);
    const { graph } = runPass(fold, g, { backend: cpu });
    expect(graph.nodes.map((n) => [n.op, n.attrs.value])).toContainEqual(['full', 0]);
    expect(runGraph(graph, [])).toEqual([[0], [3]]);
  });

  it('does not fold random ops, nodes whose inputs are not all constant, or with a backend that cannot read synchronously', () => {
    const g = build({ x: i32(3) }, (o, x) => [
      o.add(x, o.full([], 1, 'int32')),
      o.mul(o.full([], 2, 'int32'), o.full([], 3, 'int32')),
      o.node('randomUniform', [o.constant([7, 0], [2], 'int32')], { shape: [2], dtype: 'float32' }),
    ]);
    const asyncBackend: Backend<unknown> = { ...cpu, name: 'async', hasKernel: (op) => cpu.hasKernel(op), run: cpu.run.bind(cpu), dispose: cpu.dispose.bind(cpu), readSync: () => { throw new Error('use read()'); } } as Backend<unknown>;
    const before = cpu.bytesInUse();
    expect(runPass(fold, g, { backend: asyncBackend }).graph).toBe(g);
    expect(cpu.bytesInUse()).toBe(before);
    expect(runPass(fold, g, { backend: cpu }).notes).toEqual({ 'folded mul → full': 1 });
  });
});

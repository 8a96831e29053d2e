import type { Graph } from '@kiln/core';
import { printGraph, Value, VerifyError, verifyGraph } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { fuseElementwise, fuseMatmulEpilogue } from '../src/fusion/index.js';
import { execute, expectIdentical, graphOf, inputsFor, opCounts, t } from './fusion-helpers.js';

/** Runs a fusion pass with the verifier after it, recording its notes. */
function fuse(graph: Graph, pass = fuseElementwise): { graph: Graph; notes: Record<string, number> } {
  const notes: Record<string, number> = {};
  const out = pass(graph, { note: (k, n = 1) => void (notes[k] = (notes[k] ?? 0) + n) });
  verifyGraph(out);
  expect(out.inputs).toEqual(graph.inputs);
  expect(out.outputs.map((v) => v.type)).toEqual(graph.outputs.map((v) => v.type));
  return { graph: out, notes };
}

/** Fused and unfused graphs give the same bits on the same inputs (with specials when asked). */
function expectSameResults(before: Graph, after: Graph, seed = 1, specials = false): void {
  const inputs = inputsFor(before, seed, specials);
  expectIdentical(execute(after, inputs), execute(before, inputs));
}

describe('fuseElementwise', () => {
  const geluChain = () => graphOf({ x: t('float32', 1024) }, (ops, x) => [ops.add(ops.gelu(ops.add(ops.mul(x, 1.5), 0.5), 'tanh'), x)]);

  it('turns gelu_tanh(x*1.5+0.5)+x into one node, its constants copied into the body', () => {
    const before = geluChain();
    expect(printGraph(before)).toMatchInlineSnapshot(`
      "graph(%x: f32[1024]) {
        %0: f32[] = full {dtype="float32", shape=[], value=1.5}
        %1: f32[1024] = mul %x %0
        %2: f32[] = full {dtype="float32", shape=[], value=0.5}
        %3: f32[1024] = add %1 %2
        %4: f32[1024] = mul %3 %3
        %5: f32[1024] = mul %4 %3
        %6: f32[] = full {dtype="float32", shape=[], value=0.044715}
        %7: f32[1024] = mul %5 %6
        %8: f32[1024] = add %3 %7
        %9: f32[] = full {dtype="float32", shape=[], value=0.7978845608028654}
        %10: f32[1024] = mul %8 %9
        %11: f32[] = full {dtype="float32", shape=[], value=0.5}
        %12: f32[1024] = mul %3 %11
        %13: f32[1024] = tanh %10
        %14: f32[] = full {dtype="float32", shape=[], value=1}
        %15: f32[1024] = add %13 %14
        %16: f32[1024] = mul %12 %15
        %17: f32[1024] = add %16 %x
        return %17
      }"
    `);
    const { graph, notes } = fuse(before);
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph(%x: f32[1024]) {
        %0: f32[1024] = fusedElementwise %x
          body0(%arg0: f32[1024]) {
            %1: f32[] = full {dtype="float32", shape=[], value=1.5}
            %2: f32[1024] = mul %arg0 %1
            %3: f32[] = full {dtype="float32", shape=[], value=0.5}
            %4: f32[1024] = add %2 %3
            %5: f32[1024] = mul %4 %4
            %6: f32[1024] = mul %5 %4
            %7: f32[] = full {dtype="float32", shape=[], value=0.044715}
            %8: f32[1024] = mul %6 %7
            %9: f32[1024] = add %4 %8
            %10: f32[] = full {dtype="float32", shape=[], value=0.7978845608028654}
            %11: f32[1024] = mul %9 %10
            %12: f32[] = full {dtype="float32", shape=[], value=0.5}
            %13: f32[1024] = mul %4 %12
            %14: f32[1024] = tanh %11
            %15: f32[] = full {dtype="float32", shape=[], value=1}
            %16: f32[1024] = add %14 %15
            %17: f32[1024] = mul %13 %16
            %18: f32[1024] = add %17 %arg0
            return %18
          }
        return %0
      }"
    `);
    expect(notes).toEqual({ 'fused elementwise kernel': 1, 'ops fused': 12 });
    expectSameResults(before, graph);
  });

  it('fuses implicit broadcasting and broadcastTo', () => {
    const before = graphOf({ x: t('float32', 4, 3), r: t('float32', 4, 1), b: t('float32', 3) }, (ops, x, r, b) => [
      ops.add(ops.mul(x, ops.broadcastTo(ops.neg(r), [4, 3])), b),
    ]);
    const { graph } = fuse(before);
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph(%x: f32[4,3], %r: f32[4,1], %b: f32[3]) {
        %0: f32[4,3] = fusedElementwise %r %x %b
          body0(%arg0: f32[4,1], %arg1: f32[4,3], %arg2: f32[3]) {
            %1: f32[4,1] = neg %arg0
            %2: f32[4,3] = broadcastTo %1 {shape=[4,3]}
            %3: f32[4,3] = mul %arg1 %2
            %4: f32[4,3] = add %3 %arg2
            return %4
          }
        return %0
      }"
    `);
    expectSameResults(before, graph);
  });

  it('ends a group at a reduction: ops reading its result start another group', () => {
    const before = graphOf({ x: t('float32', 8, 16) }, (ops, x) => [ops.softmax(ops.mul(x, 2), -1)]);
    const { graph } = fuse(before);
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph(%x: f32[8,16]) {
        %0: f32[8,16], %1: f32[8,1] = fusedElementwise %x
          body0(%arg0: f32[8,16]) {
            %2: f32[] = full {dtype="float32", shape=[], value=2}
            %3: f32[8,16] = mul %arg0 %2
            %4: f32[8,1] = max %3 {axes=[1], keepdims=true}
            return %3, %4
          }
        %5: f32[8,16], %6: f32[8,1] = fusedElementwise %0 %1
          body0(%arg0: f32[8,16], %arg1: f32[8,1]) {
            %7: f32[8,16] = sub %arg0 %arg1
            %8: f32[8,16] = exp %7
            %9: f32[8,1] = sum %8 {axes=[1], keepdims=true}
            return %8, %9
          }
        %10: f32[8,16] = div %5 %6
        return %10
      }"
    `);
    expectSameResults(before, graph, 2, true);
  });

  it('keeps values read after the chain as extra outputs of the fused node', () => {
    const before = graphOf({ x: t('float32', 4, 4), w: t('float32', 4, 4) }, (ops, x, w) => {
      const y = ops.sigmoid(ops.add(x, 1));
      return [ops.matmul(y, w), ops.sum(ops.mul(y, y), 0)];
    });
    const { graph } = fuse(before);
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph(%x: f32[4,4], %w: f32[4,4]) {
        %0: f32[4,4], %1: f32[4] = fusedElementwise %x
          body0(%arg0: f32[4,4]) {
            %2: f32[] = full {dtype="float32", shape=[], value=1}
            %3: f32[4,4] = add %arg0 %2
            %4: f32[4,4] = sigmoid %3
            %5: f32[4,4] = mul %4 %4
            %6: f32[4] = sum %5 {axes=[0], keepdims=false}
            return %4, %6
          }
        %7: f32[4,4] = matmul %0 %w
        return %7, %1
      }"
    `);
    expectSameResults(before, graph, 3);
  });

  it('never fuses around an unfused node: exp → matmul → add(exp, ·) would depend on itself', () => {
    const before = graphOf({ x: t('float32', 3, 3) }, (ops, x) => {
      const e = ops.exp(x);
      return [ops.add(e, ops.matmul(e, x))];
    });
    expect(fuse(before).graph).toBe(before);
  });

  it('does not repeat expensive ops over a larger domain, but repeats cheap ones', () => {
    const expensive = graphOf({ a: t('float32', 1, 4), b: t('float32', 8, 4) }, (ops, a, b) => [ops.add(ops.exp(a), b)]);
    expect(fuse(expensive).graph).toBe(expensive);
    const cheap = graphOf({ a: t('float32', 1, 4), b: t('float32', 8, 4) }, (ops, a, b) => [ops.add(ops.neg(a), b)]);
    expect(opCounts(fuse(cheap).graph)).toEqual({ fusedElementwise: 1 });
  });

  it('fuses clamp (two selects) with the ops around it', () => {
    const before = graphOf({ x: t('float32', 10) }, (ops, x) => [ops.sqrt(ops.clamp(ops.mul(x, 2), -1, 1))]);
    const { graph } = fuse(before);
    expect(opCounts(graph)).toEqual({ fusedElementwise: 1 });
    expectSameResults(before, graph, 4, true);
  });

  it('int32, bool and float64 chains with NaN, ±Inf and int32 overflow: fused == unfused bit for bit', () => {
    const before = graphOf({ i: t('int32', 5, 6), f: t('float64', 6), m: t('bool', 5, 1) }, (ops, i, f, m) => {
      const wrapped = ops.add(ops.mul(i, 3), 2147483647);
      const mixed = ops.div(ops.cast(wrapped, 'float64'), f);
      return [ops.where(ops.logicalAnd(m, ops.gt(mixed, 0)), mixed, ops.neg(f)), ops.cast(ops.lt(wrapped, 0), 'int32'), ops.max(ops.abs(mixed), 1)];
    });
    const { graph } = fuse(before);
    expect(opCounts(graph)).toEqual({ fusedElementwise: 1 });
    for (const seed of [5, 6, 7]) expectSameResults(before, graph, seed, true);
  });

  it('drops constants only fused bodies read, and keeps one still read outside', () => {
    const before = graphOf({ x: t('float32', 4), w: t('float32', 4, 4) }, (ops, x, w) => {
      const two = ops.fullLike(x, 2);
      return [ops.exp(ops.mul(x, two)), ops.matmul(ops.reshape(two, [1, 4]), w)];
    });
    const { graph } = fuse(before);
    expect(opCounts(graph)).toEqual({ full: 1, fusedElementwise: 1, reshape: 1, matmul: 1 });
    expectSameResults(before, graph, 8);
  });

  it('returns the same graph when there is nothing to fuse', () => {
    const single = graphOf({ x: t('float32', 4) }, (ops, x) => [ops.exp(x)]);
    expect(fuse(single).graph).toBe(single);
  });
});

describe('fuseMatmulEpilogue', () => {
  const linearRelu = () => graphOf({ x: t('float32', 6, 5), w: t('float32', 5, 3), b: t('float32', 3) }, (ops, x, w, b) => [
    ops.relu(ops.add(ops.matmul(x, w), b)),
  ]);

  it('fuses matmul + bias + relu (after elementwise fusion) into one matmulEpilogue node', () => {
    const before = linearRelu();
    const { graph, notes } = fuse(fuse(before).graph, fuseMatmulEpilogue);
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph(%x: f32[6,5], %w: f32[5,3], %b: f32[3]) {
        %0: f32[6,3] = matmulEpilogue %x %w %b
          body0(%arg0: f32[6,5], %arg1: f32[5,3], %arg2: f32[3]) {
            %1: f32[6,3] = matmul %arg0 %arg1
            %2: f32[6,3] = add %1 %arg2
            %3: f32[6,3] = relu %2
            return %3
          }
        return %0
      }"
    `);
    expect(notes).toEqual({ 'matmul epilogue': 1 });
    expectSameResults(before, graph, 9);
  });

  it('absorbs a single elementwise op on its own (matmul + bias)', () => {
    const before = graphOf({ x: t('float32', 6, 5), w: t('float32', 5, 3), b: t('float32', 3) }, (ops, x, w, b) => [ops.add(ops.matmul(x, w), b)]);
    const { graph } = fuse(before, fuseMatmulEpilogue);
    expect(opCounts(graph)).toEqual({ matmulEpilogue: 1 });
    expectSameResults(before, graph, 10);
  });

  it('takes a trailing reduction into the epilogue: logits, their row max and sum of squares over a batch of 9 rows', () => {
    const before = graphOf({ x: t('float32', 9, 5), w: t('float32', 5, 3), b: t('float32', 3) }, (ops, x, w, b) => {
      const logits = ops.add(ops.matmul(x, w), b);
      return [logits, ops.max(logits, -1, true), ops.sum(ops.mul(logits, logits), 0)];
    });
    const { graph } = fuse(fuse(before).graph, fuseMatmulEpilogue);
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph(%x: f32[9,5], %w: f32[5,3], %b: f32[3]) {
        %0: f32[9,3], %1: f32[9,1], %2: f32[3] = matmulEpilogue %x %w %b
          body0(%arg0: f32[9,5], %arg1: f32[5,3], %arg2: f32[3]) {
            %3: f32[9,3] = matmul %arg0 %arg1
            %4: f32[9,3] = add %3 %arg2
            %5: f32[9,1] = max %4 {axes=[1], keepdims=true}
            %6: f32[9,3] = mul %4 %4
            %7: f32[3] = sum %6 {axes=[0], keepdims=false}
            return %4, %5, %7
          }
        return %0, %1, %2
      }"
    `);
    expectSameResults(before, graph, 11, true);
  });

  it('leaves a matmul whose result is read twice, returned, or broadcast to a larger shape', () => {
    const cases = [
      graphOf({ x: t('float32', 4, 4) }, (ops, x) => { const m = ops.matmul(x, x); return [ops.add(m, 1), ops.exp(m)]; }),
      graphOf({ x: t('float32', 4, 4) }, (ops, x) => { const m = ops.matmul(x, x); return [m, ops.add(m, 1)]; }),
      graphOf({ x: t('float32', 4, 4), z: t('float32', 2, 4, 4) }, (ops, x, z) => [ops.add(ops.matmul(x, x), z)]),
    ];
    for (const g of cases) {
      const fused = fuse(g).graph;
      expect(fuse(fused, fuseMatmulEpilogue).graph).toBe(fused);
    }
  });
});

describe('the verifier on fused nodes', () => {
  it('checks a fused node against its body: recorded output types and body inputs', () => {
    const { graph } = fuse(graphOf({ x: t('float32', 4) }, (ops, x) => [ops.exp(ops.neg(x))]));
    const node = graph.nodes[0];
    const wrongOutput = { ...graph, nodes: [{ ...node, outputs: [new Value(t('float64', 4))] }], outputs: [] };
    expect(() => verifyGraph(wrongOutput)).toThrowError(VerifyError);
    expect(() => verifyGraph(wrongOutput)).toThrowError("graph: node 0 (fusedElementwise): output 0 is recorded as float64[4] but the op's rules give float32[4]");
    const body = node.subgraphs![0];
    const wrongInput = { ...graph, nodes: [{ ...node, subgraphs: [{ ...body, inputs: [new Value(t('float32', 5))] }] }] };
    expect(() => verifyGraph(wrongInput)).toThrowError(/node 0 \(fusedElementwise\) body0: node 0 \(neg\): input 0 is used before it is defined/);
    const y = new Value(t('float32', 5));
    const otherInput = { inputs: [...graph.inputs, y], nodes: [{ ...node, inputs: [y] }], outputs: graph.outputs };
    expect(() => verifyGraph(otherInput)).toThrowError('graph: node 0 (fusedElementwise): fusedElementwise: input 0 is f32[5] but body input 0 is f32[4]');
    const noBody = { ...graph, nodes: [{ ...node, subgraphs: [] }] };
    expect(() => verifyGraph(noBody)).toThrowError('graph: node 0 (fusedElementwise): fusedElementwise: needs exactly one body sub-graph, got 0');
  });
});

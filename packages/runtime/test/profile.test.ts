/**
 * executeGraph's onNode hook (every node once, sub-graph nodes inside their control node) and
 * LoadedModel.profile (same results as run, one span per node inside the run's span).
 */
import type { Graph, Node, TensorType, TypedArray, Value } from '@kiln/core';
import { createOps, getOp, GraphBuilder } from '@kiln/core';
import { writeModel } from '@kiln/serializer';
import { describe, expect, it } from 'vitest';
import { executeGraph, loadModel, optimize } from '../src/index.js';
import { cpu, f32 } from './helpers.js';

function graphOf(inputs: TensorType[], fn: (o: ReturnType<typeof createOps<Value>>, ...xs: Value[]) => Value[]): Graph {
  const b = new GraphBuilder();
  const xs = inputs.map((t, i) => b.input(t, `x${i}`));
  return b.build(fn(createOps(b), ...xs));
}

interface Seen {
  readonly node: Node;
  readonly start: number;
  readonly end: number;
}

function runWithHook(g: Graph, data: number[][]): { outs: number[][]; seen: Seen[] } {
  const storages = data.map((d, i) => cpu.upload(Float32Array.from(d), g.inputs[i].type));
  const seen: Seen[] = [];
  const outs = executeGraph(g, cpu, storages, { onNode: (node, start, end) => seen.push({ node, start, end }) });
  const values = outs.map((s, i) => Array.from(cpu.readSync(s, g.outputs[i].type) as TypedArray));
  outs.forEach((s) => cpu.dispose(s));
  storages.forEach((s) => cpu.dispose(s));
  return { outs: values, seen };
}

describe('executeGraph onNode', () => {
  it('reports every node once, in order, with its start and end, and changes no result', () => {
    const g = graphOf([f32(2, 3), f32(3, 2)], (o, x, w) => [o.relu(o.matmul(x, w)), o.exp(x)]);
    const x = [1, -2, 3, 0.5, 0, -1];
    const w = [1, 2, 3, 4, 5, 6];
    const plainIn = [cpu.upload(Float32Array.from(x), g.inputs[0].type), cpu.upload(Float32Array.from(w), g.inputs[1].type)];
    const plain = executeGraph(g, cpu, plainIn).map((s, i) => Array.from(cpu.readSync(s, g.outputs[i].type) as TypedArray));
    const { outs, seen } = runWithHook(g, [x, w]);
    expect(outs).toEqual(plain);
    expect(seen.map((s) => s.node)).toEqual(g.nodes);
    for (let i = 0; i < seen.length; i++) {
      expect(seen[i].end).toBeGreaterThanOrEqual(seen[i].start);
      if (i > 0) expect(seen[i].start).toBeGreaterThanOrEqual(seen[i - 1].end);
    }
  });

  it('reports the nodes of a scan body, each step, inside the scan node', () => {
    // carry = carry + x; y = carry * 10, over 3 slices.
    const step = graphOf([f32(2), f32(2)], (o, c, x) => {
      const s = o.add(c, x);
      return [s, o.mul(s, 10)];
    });
    const b = new GraphBuilder();
    const xs = [b.input(f32(2), 'c'), b.input(f32(3, 2), 'xs')];
    const g = b.build(b.add(getOp('scan'), xs, { numConsts: 0, numCarry: 1, length: 3, reverse: false }, { subgraphs: [step] }));
    const { outs, seen } = runWithHook(g, [[0, 0], [1, 2, 3, 4, 5, 6]]);
    expect(outs).toEqual([[9, 12], [10, 20, 40, 60, 90, 120]]);
    // The scalar 10 is a `full` node of the body.
    expect(seen.map((s) => s.node.op)).toEqual([...Array(3).fill(['add', 'full', 'mul']).flat(), 'scan']);
    const scan = seen[seen.length - 1];
    for (const s of seen.slice(0, -1)) expect(s.start >= scan.start && s.end <= scan.end).toBe(true);
  });
});

describe('LoadedModel.profile', () => {
  it('returns what run returns, with a span per node (fused kernels by body) inside the run', () => {
    const graph = graphOf([f32(8, 16), f32(16, 4)], (o, x, w) => [o.tanh(o.add(o.matmul(x, w), 1))]);
    const signature = { inputs: [{ name: 'x', role: 'input' as const }, { name: 'w', role: 'parameter' as const }], outputs: [{ name: 'y', role: 'output' as const }], rngKeysPerRun: 0 };
    const w = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) / 4);
    const model = loadModel(writeModel({ graph, signature, weights: [undefined, w] }), { backend: cpu });
    const x = { dtype: 'float32' as const, shape: [8, 16], data: Float32Array.from({ length: 128 }, (_, i) => Math.cos(i)) };
    const [expected] = model.run(x);
    const before = cpu.bytesInUse();
    const { results, report } = model.profile(x);
    expect(cpu.bytesInUse()).toBe(before);
    expect(results[0].data).toEqual(expected.data);
    const optimized = optimize(graph, { backend: cpu }).graph;
    expect(optimized.nodes.map((n) => n.op)).toEqual(['matmulEpilogue']);
    expect(report.rows.map((r) => [r.name, r.category, r.calls])).toEqual(expect.arrayContaining([['fused[matmul,add,tanh]', 'node', 1], ['model run', 'model', 1]]));
    const fused = report.rows.find((r) => r.category === 'node')!;
    expect(fused.flops).toBe(2 * 8 * 16 * 4 + 8 * 4 + 8 * 4);
    expect(fused.bytes).toBe((8 * 16 + 16 * 4 + 8 * 4) * 4);
    const [run, node] = report.chromeTrace().traceEvents;
    expect(run.name).toBe('model run');
    expect(node.ts >= run.ts && node.ts + node.dur <= run.ts + run.dur).toBe(true);
    model.dispose();
  });
});

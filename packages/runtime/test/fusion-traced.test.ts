/**
 * Fusion on real traced graphs: an MLP training step (forward, backward, SGD update, all in one
 * graph) and a Transformer encoder block forward, traced by compile(), run through the whole
 * pipeline: the fused graph gives the unfused graph's results bit for bit, and the fusion
 * passes did fuse (matmul epilogues in the forward, elementwise kernels with trailing sums in
 * the backward).
 */
import type { Graph, TypedArray } from '@kiln/core';
import { verifyGraph } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { manualSeed, randint, randn } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { Linear, ReLU, SGD, Sequential, TransformerEncoderLayer, crossEntropy } from '../../nn/src/index.js';
import { compile } from '../../tracer/src/index.js';
import { optimize } from '../src/index.js';
import { cpu, execute, expectIdentical, inputsFor, opCounts } from './fusion-helpers.js';

/** Inputs for a traced graph: the arguments' data, then made-up values for the captured tensors (weights). */
function feeds(graph: Graph, args: readonly Tensor[]): TypedArray[] {
  const data = inputsFor(graph, 1);
  args.forEach((t, i) => (data[i] = t.dataSync() as TypedArray));
  return data;
}

/** compile() options for the graph as traced (compile optimizes by default; the pipeline runs here). */
const asTraced = { optimize: false };

describe('fusion on traced graphs', () => {
  it('an MLP training step: epilogues in the forward, fused kernels with trailing sums in the backward, bit-identical', () => {
    manualSeed(0);
    const model = new Sequential(new Linear(12, 16), new ReLU(), new Linear(16, 5));
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    const x = randn([8, 12]);
    const y = randint(0, 5, [8]);
    const step = compile((xb: Tensor, yb: Tensor) => {
      optimizer.zeroGrad();
      const loss = crossEntropy(model.forward(xb), yb);
      loss.backward();
      optimizer.step();
      return loss;
    }, asTraced);
    const traced = step.graph(x, y);
    const { graph } = optimize(traced, { backend: cpu, verify: true });
    verifyGraph(graph);
    const counts = opCounts(graph);
    expect(counts.matmulEpilogue).toBeGreaterThanOrEqual(1);
    expect(counts.fusedElementwise).toBeGreaterThanOrEqual(3);
    expect(graph.nodes.some((n) => n.op === 'fusedElementwise' && n.subgraphs![0].nodes.some((b) => b.op === 'sum'))).toBe(true);
    expect(graph.nodes.length).toBeLessThanOrEqual(traced.nodes.length / 2);
    const inputs = feeds(traced, [x, y]);
    expectIdentical(execute(graph, inputs), execute(optimize(traced, { backend: cpu, skip: ['fuse-elementwise', 'fuse-matmul-epilogue'] }).graph, inputs));
  });

  it('a Transformer encoder block forward (softmax, layer norms, ReLU feed-forward), bit-identical', () => {
    manualSeed(1);
    const layer = new TransformerEncoderLayer(16, 2, { dimFeedforward: 32, batchFirst: true }).eval();
    const x = randn([2, 6, 16]);
    const forward = compile((input: Tensor) => layer.forward(input), asTraced);
    const traced = forward.graph(x);
    const { graph } = optimize(traced, { backend: cpu, verify: true });
    expect(opCounts(graph).fusedElementwise).toBeGreaterThanOrEqual(4);
    const inputs = feeds(traced, [x]);
    expectIdentical(execute(graph, inputs), execute(traced, inputs));
  });
});

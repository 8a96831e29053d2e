/**
 * Transposed matmul operands: fuse-matmul-epilogue absorbs a permute of the last two axes into
 * the matmulEpilogue body (with or without an epilogue), and the CPU kernel reads the operand in
 * place. The fused graph must give the unfused graph's results bit for bit, on one thread and on
 * several.
 */
import { matmulEpilogueParts, verifyGraph } from '@kiln/core';
import { getNumThreads, setNumThreads } from '@kiln/backend-cpu';
import type { Tensor } from '@kiln/eager';
import { manualSeed, randint, randn } from '@kiln/eager';
import { afterAll, describe, expect, it } from 'vitest';
import { Linear, ReLU, SGD, Sequential, crossEntropy } from '../../nn/src/index.js';
import { compile } from '../../tracer/src/index.js';
import { optimize } from '../src/index.js';
import { cpu, execute, expectIdentical, graphOf, inputsFor, opCounts, t } from './fusion-helpers.js';

describe('transposed matmul operands', () => {
  const saved = getNumThreads();
  afterAll(() => setNumThreads(saved));

  it.each([
    ['aᵀ @ b', [70, 40], [70, 50], true, false],
    ['a @ bᵀ', [40, 70], [50, 70], false, true],
    ['aᵀ @ bᵀ, batched', [3, 70, 40], [3, 50, 70], true, true],
    ['small (JS kernel)', [5, 3], [5, 4], true, false],
  ] as const)('%s: the permute is absorbed and read in place, bit-identical', (_name, sa, sb, ta, tb) => {
    const graph = graphOf({ a: t('float32', ...sa), b: t('float32', ...sb) }, (ops, a, b) => [
      ops.matmul(ta ? ops.transpose(a) : a, tb ? ops.transpose(b) : b),
    ]);
    const { graph: fused } = optimize(graph, { backend: cpu, verify: true });
    verifyGraph(fused);
    expect(opCounts(fused).permute ?? 0).toBe(0);
    const node = fused.nodes.find((n) => n.op === 'matmulEpilogue')!;
    const parts = matmulEpilogueParts(node.subgraphs![0]);
    expect([parts.transA, parts.transB]).toEqual([ta, tb]);
    const inputs = inputsFor(graph, 3);
    const unfused = optimize(graph, { backend: cpu, skip: ['fuse-matmul-epilogue'] }).graph;
    expect(opCounts(unfused).permute).toBe(Number(ta) + Number(tb));
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      expectIdentical(execute(fused, inputs), execute(unfused, inputs));
    }
  });

  it('an MLP training step: the backward products read their transposed operands in place and weight gradients need no permute, bit-identical', () => {
    manualSeed(0);
    const model = new Sequential(new Linear(64, 96), new ReLU(), new Linear(96, 40));
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    const x = randn([48, 64]);
    const y = randint(0, 40, [48]);
    const step = compile((xb: Tensor, yb: Tensor) => {
      optimizer.zeroGrad();
      const loss = crossEntropy(model.forward(xb), yb);
      loss.backward();
      optimizer.step();
      return loss;
    }, { optimize: false });
    const traced = step.graph(x, y);
    const { graph } = optimize(traced, { backend: cpu, verify: true });
    const transposed = graph.nodes.filter((n) => n.op === 'matmulEpilogue' && n.subgraphs![0].nodes[0].op === 'permute');
    expect(transposed.length).toBeGreaterThanOrEqual(3); // dW1 = xᵀg, dW2 = hᵀg, dh = g W2ᵀ
    // Weight gradients (xᵀ g)ᵀ are computed as gᵀ x: no permute is left at all.
    expect(opCounts(traced).permute).toBeGreaterThanOrEqual(6);
    expect(opCounts(graph).permute ?? 0).toBe(0);
    const inputs = inputsFor(traced, 1);
    inputs[0] = x.dataSync() as Float32Array;
    inputs[1] = y.dataSync() as Int32Array;
    const unfused = optimize(traced, { backend: cpu, skip: ['fuse-elementwise', 'fuse-matmul-epilogue'] }).graph;
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      expectIdentical(execute(graph, inputs), execute(unfused, inputs));
    }
  });
});

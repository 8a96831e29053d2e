/**
 * The runtime's optimization pipeline on a traced graph: every pass verified, and the optimized
 * graph's outputs equal to the traced graph's bit for bit (Object.is: -0 and 0 differ, NaN
 * equals NaN), as `optimize` promises.
 */
import type { Graph } from '@kiln/core';
import { formatType } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { getBackend } from '@kiln/eager';
import { executeGraph, optimize, ownsOutput } from '@kiln/runtime';
import { expect } from 'vitest';

function outputsOf(graph: Graph, inputs: readonly Tensor[]): number[][] {
  const backend = getBackend();
  const storages = executeGraph(graph, backend, inputs.map((t) => t.bufferFor('pipeline check').storage));
  return storages.map((s, i) => {
    const data = Array.from(backend.readSync(s, graph.outputs[i].type), Number);
    if (ownsOutput(graph, i)) backend.dispose(s);
    return data;
  });
}

/** Optimizes `graph` (verifying after every pass) and checks that it computes the same bits. Returns the pass names that changed something. */
export function expectPipelinePreserves(graph: Graph, inputs: readonly Tensor[]): string[] {
  const { graph: optimized, passes } = optimize(graph, { backend: getBackend(), verify: true });
  expect(optimized.outputs.map((v) => formatType(v.type))).toEqual(graph.outputs.map((v) => formatType(v.type)));
  const want = outputsOf(graph, inputs);
  const got = outputsOf(optimized, inputs);
  got.forEach((g, i) => {
    const k = g.findIndex((x, j) => !Object.is(x, want[i][j]));
    expect(k, `output ${i} element ${k}: optimized ${g[k]}, traced ${want[i][k]} (passes: ${passes.filter((p) => p.ran).map((p) => p.name).join(', ')})`).toBe(-1);
  });
  return passes.filter((p) => p.ran && Object.keys(p.changes).length > 0).map((p) => p.name);
}

/**
 * One ONNX export case: compile a function, export it for its inputs, run the file in
 * onnxruntime and compare every output with the function run eagerly on the same inputs.
 */
import type { Graph } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { expect } from 'vitest';
import { compile, exportOnnx } from '../src/index.js';
import type { Tolerance } from './onnx-helpers.js';
import { expectOrtMatches, runOnnx } from './onnx-helpers.js';

export interface OpCase {
  readonly name: string;
  /** Ops the traced graph must contain (so the case really exercises their lowering). */
  readonly covers: readonly string[];
  readonly fn: (...xs: Tensor[]) => Tensor | Tensor[];
  readonly inputs: () => Tensor[];
  readonly tol?: Tolerance;
}

/** Every op of a graph and of its sub-graphs. */
export function opsOf(graph: Graph, out = new Set<string>()): Set<string> {
  for (const n of graph.nodes) {
    out.add(n.op);
    n.subgraphs?.forEach((g) => opsOf(g, out));
  }
  return out;
}

/** Runs one case; returns the ops its graph holds. */
export async function checkExport(c: OpCase): Promise<Set<string>> {
  const inputs = c.inputs();
  const f = compile(c.fn);
  const graph = f.graph(...inputs);
  const ops = opsOf(graph);
  for (const op of c.covers) expect(ops.has(op), `${c.name}: the graph holds ${op} (${[...ops].join(', ')})`).toBe(true);
  const bytes = exportOnnx(f, inputs);
  const want = [c.fn(...inputs)].flat();
  const got = await runOnnx(bytes, Object.fromEntries(inputs.map((t, i) => [`input_${i}`, t])));
  expect(got.length).toBe(want.length);
  want.forEach((w, k) => expectOrtMatches(got[k], w, c.tol, `${c.name}: output ${k}`));
  return ops;
}

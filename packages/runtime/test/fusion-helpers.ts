import type { Backend, DType, Graph, Ops, TensorType, TypedArray, Value } from '@kiln/core';
import { createOps, GraphBuilder, toTypedArray, verifyGraph } from '@kiln/core';
import { getBackend } from '@kiln/eager';
import { expect } from 'vitest';
import { executeGraph, ownsOutput } from '../src/execute.js';

/** The CPU backend, from eager's registry (the runtime itself depends on no backend). */
export const cpu = getBackend('cpu') as Backend<TypedArray>;

/** A graph built with the op surface over named inputs. */
export function graphOf(inputs: Record<string, TensorType>, fn: (ops: Ops<Value>, ...xs: Value[]) => Value[]): Graph {
  const b = new GraphBuilder();
  const xs = Object.entries(inputs).map(([name, t]) => b.input(t, name));
  const g = b.build(fn(createOps(b), ...xs));
  verifyGraph(g);
  return g;
}

export const t = (dtype: DType, ...shape: number[]): TensorType => ({ dtype, shape });

/** Runs a graph on the CPU backend and returns copies of its outputs (all storage freed). */
export function execute(graph: Graph, inputs: readonly TypedArray[]): TypedArray[] {
  const storages = inputs.map((data, i) => cpu.upload(data, graph.inputs[i].type));
  const outs = executeGraph(graph, cpu, storages);
  const result = outs.map((s, i) => cpu.readSync(s, graph.outputs[i].type));
  outs.forEach((s, i) => ownsOutput(graph, i) && cpu.dispose(s));
  storages.forEach((s) => cpu.dispose(s));
  return result;
}

/** Deterministic inputs for a graph (a small LCG), with NaN, ±Inf, -0 and int32 extremes mixed in when asked. */
export function inputsFor(graph: Graph, seed: number, specials = false): TypedArray[] {
  let s = seed >>> 0 || 1;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const SPECIAL = [NaN, Infinity, -Infinity, -0, 0, 1e30];
  return graph.inputs.map((v) => {
    const size = v.type.shape.reduce((a, b) => a * b, 1);
    const data = Array.from({ length: size }, () => {
      if (v.type.dtype === 'bool') return next() < 0.5 ? 1 : 0;
      if (v.type.dtype === 'int32') return specials && next() < 0.1 ? 2147483647 : Math.floor(next() * 21) - 10;
      if (specials && next() < 0.15) return SPECIAL[Math.floor(next() * SPECIAL.length)];
      return (next() - 0.5) * 6;
    });
    return toTypedArray(v.type.dtype, data);
  });
}

/** Outputs equal bit for bit (same array kinds; NaN = NaN; -0 ≠ 0). */
export function expectIdentical(actual: readonly TypedArray[], expected: readonly TypedArray[]): void {
  expect(actual.map((a) => a.constructor.name)).toEqual(expected.map((e) => e.constructor.name));
  actual.forEach((a, k) => {
    expect(a.length).toBe(expected[k].length);
    for (let i = 0; i < a.length; i++) {
      if (!Object.is(a[i], expected[k][i])) expect.fail(`output ${k} element ${i}: fused ${a[i]}, unfused ${expected[k][i]}`);
    }
  });
}

/** Ops by node count, e.g. `{ fusedElementwise: 1, matmul: 1 }`. */
export function opCounts(graph: Graph): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of graph.nodes) counts[n.op] = (counts[n.op] ?? 0) + 1;
  return counts;
}

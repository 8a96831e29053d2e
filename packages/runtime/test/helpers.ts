import type { Attrs, Backend, DType, Graph, Ops, TensorType, TypedArray, Value } from '@kiln/core';
import { createOps, getOp, GraphBuilder, toTypedArray, verifyGraph } from '@kiln/core';
import { getBackend } from '@kiln/eager';
import type { Pass, PassContext } from '../src/index.js';
import { executeGraph, ownsOutput } from '../src/index.js';

/** The CPU backend (through eager's registry: the runtime itself depends on no backend). */
export const cpu = getBackend('cpu') as Backend<TypedArray>;

/** The op surface over a GraphBuilder, plus `constant` nodes (which only the tracer makes). */
export type BuildOps = Ops<Value> & {
  constant(data: readonly number[], shape: readonly number[], dtype?: DType): Value;
  /** A raw primitive node (no surface checks), e.g. `node('randomUniform', [key], {...})`. */
  node(op: string, inputs: readonly Value[], attrs: Attrs): Value;
};

/** Builds a graph with the op surface: `inputs` are name → type. */
export function build(inputs: Record<string, TensorType>, body: (o: BuildOps, ...xs: Value[]) => Value[]): Graph {
  const b = new GraphBuilder();
  const xs = Object.entries(inputs).map(([name, t]) => b.input(t, name));
  const constant = (data: readonly number[], shape: readonly number[], dtype: DType = 'float32') => b.add(getOp('constant'), [], { data: [...data], shape: [...shape], dtype })[0];
  const node = (op: string, inputs: readonly Value[], attrs: Attrs) => b.add(getOp(op), inputs, attrs)[0];
  return b.build(body(Object.assign(createOps(b), { constant, node }), ...xs));
}

export const f32 = (...shape: number[]): TensorType => ({ dtype: 'float32', shape });
export const i32 = (...shape: number[]): TensorType => ({ dtype: 'int32', shape });
export const boolT = (...shape: number[]): TensorType => ({ dtype: 'bool', shape });

/** Runs a pass, checks the result with the verifier and the pass contract, and returns it with its notes. */
export function runPass(pass: Pass | ((g: Graph, c: PassContext) => Graph), graph: Graph, extra: Partial<PassContext> = {}): { graph: Graph; notes: Record<string, number> } {
  const notes: Record<string, number> = {};
  const run = typeof pass === 'function' ? pass : pass.run;
  const out = run(graph, { note: (k, n = 1) => void (notes[k] = (notes[k] ?? 0) + n), ...extra });
  verifyGraph(out);
  if (out.inputs.length !== graph.inputs.length || out.inputs.some((v, i) => v !== graph.inputs[i])) throw new Error('inputs changed');
  if (out.outputs.length !== graph.outputs.length) throw new Error('outputs changed');
  return { graph: out, notes };
}

/** Runs a graph on the CPU and returns each output as a plain array (storages freed). */
export function runGraph(graph: Graph, inputs: readonly (readonly number[])[], memoryPlan = true): number[][] {
  const storages = inputs.map((data, i) => cpu.upload(toTypedArray(graph.inputs[i].type.dtype as DType, data), graph.inputs[i].type));
  const outs = executeGraph(graph, cpu, storages, { memoryPlan });
  const result = outs.map((s, i) => Array.from(cpu.readSync(s, graph.outputs[i].type)));
  outs.forEach((s, i) => {
    if (ownsOutput(graph, i)) cpu.dispose(s);
  });
  storages.forEach((s) => cpu.dispose(s));
  return result;
}

/** Element-by-element equality that tells -0 from 0 and takes NaN as equal to NaN. */
export function sameBits(a: readonly number[][], b: readonly number[][]): boolean {
  return a.length === b.length && a.every((row, i) => row.length === b[i].length && row.every((v, j) => Object.is(v, b[i][j])));
}

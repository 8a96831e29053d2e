/**
 * loadModel on files written with writeModel (no tracer): results equal executeGraph on the
 * same graph; state updates replace stored inputs between runs; symbolic dimensions run at
 * other sizes; inputs are checked; damaged bytes are a FormatError.
 */
import type { Backend, Graph, TypedArray } from '@kiln/core';
import { createOps, GraphBuilder } from '@kiln/core';
import { getBackend } from '@kiln/eager';
import type { Signature, SizeExpr, SymbolicShapes } from '@kiln/serializer';
import { FormatError, writeModel } from '@kiln/serializer';
import { describe, expect, it } from 'vitest';
import { executeGraph, loadModel } from '../src/index.js';

const cpu = getBackend('cpu') as Backend<TypedArray>;
const f32 = (shape: number[], f: (i: number) => number) => ({ dtype: 'float32' as const, shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)) });

/** y = tanh(x @ w); the step also moves w by -0.5·mean(y) (a stand-in for a training step). */
function stepGraph(batch: number): { graph: Graph; signature: Signature } {
  const b = new GraphBuilder();
  const x = b.input({ dtype: 'float32', shape: [batch, 3] }, 'x');
  const w = b.input({ dtype: 'float32', shape: [3, 2] }, 'w');
  const o = createOps(b);
  const y = o.tanh(o.matmul(x, w));
  const next = o.sub(w, o.mul(o.mean(y), 0.5));
  return {
    graph: b.build([y, next]),
    signature: { inputs: [{ name: 'x', role: 'input' }, { name: 'w', role: 'parameter' }], outputs: [{ name: 'y', role: 'output' }, { name: 'w.next', role: 'stateUpdate', target: 1 }], rngKeysPerRun: 0 },
  };
}

describe('loadModel', () => {
  const w0 = f32([3, 2], (i) => (i - 2.5) / 4);

  it('runs the graph as executeGraph does, and writes state updates back between runs', () => {
    const { graph, signature } = stepGraph(4);
    const model = loadModel(writeModel({ graph, signature, weights: [undefined, w0.data] }), { backend: cpu });
    expect(model.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [4, 3] }]);
    expect(model.outputs).toEqual(['y']);
    const x = f32([4, 3], (i) => Math.sin(i));
    let w = w0.data as TypedArray;
    for (let k = 0; k < 3; k++) {
      const [wantY, wantW] = executeGraph(graph, cpu, [x.data, w]);
      const [y] = model.run(x);
      expect(Array.from(y.data)).toEqual(Array.from(wantY));
      expect(Array.from(model.state().get('w')!.data)).toEqual(Array.from(wantW));
      w = wantW;
    }
    model.dispose();
  });

  it('runs a model with a symbolic batch at any batch size its bounds allow', () => {
    const { graph, signature } = stepGraph(4);
    const batch: SizeExpr = { terms: [{ coefficient: 1, symbols: [0] }] };
    const count = graph.nodes.find((n) => n.op === 'full' && n.attrs.value === 8)!; // mean divides by the element count, 2·batch
    const symbolic: SymbolicShapes = {
      symbols: [{ name: 'batch', min: 1, max: 8 }], sizes: [4],
      dims: new Map([[graph.inputs[0], [batch, null]]]),
      attrs: new Map([[count, { value: [{ terms: [{ coefficient: 2, symbols: [0] }] }] }]]),
    };
    const bytes = writeModel({ graph, signature, weights: [undefined, w0.data], symbolic });
    const model = loadModel(bytes, { backend: cpu, optimize: false });
    expect(model.inputs[0].shape).toEqual(['batch', 3]);
    for (const n of [1, 3, 8]) {
      const x = f32([n, 3], (i) => Math.cos(i));
      const [wantY, wantW] = executeGraph(stepGraph(n).graph, cpu, [x.data, model.state().get('w')!.data]);
      const [y] = model.run(x);
      expect(y.shape).toEqual([n, 2]);
      expect(Array.from(y.data)).toEqual(Array.from(wantY));
      expect(Array.from(model.state().get('w')!.data)).toEqual(Array.from(wantW)); // the mean divided by 2·n
    }
    expect(() => model.run(f32([9, 3], () => 0))).toThrow(/batch = 9, outside the sizes the model accepts \[1, 8\]/);
    expect(() => model.run(f32([2, 4], () => 0))).toThrow(/input 'x' has shape \[2,4\], but with batch = 2 the model takes \[batch=2,3\]/);
  });

  it('checks inputs: count, dtype, typed array, shape', () => {
    const { graph, signature } = stepGraph(2);
    const model = loadModel(writeModel({ graph, signature, weights: [undefined, w0.data] }), { backend: cpu });
    expect(() => model.run()).toThrow(/takes 1 input \(x\), got 0/);
    expect(() => model.run({ dtype: 'int32', shape: [2, 3], data: new Int32Array(6) })).toThrow(/input 'x' must be float32, got int32/);
    expect(() => model.run({ dtype: 'float32', shape: [2, 3], data: new Float64Array(6) })).toThrow(/float32 data must be a Float32Array, got a Float64Array/);
    expect(() => model.run(f32([3, 3], () => 0))).toThrow(/input 'x' must have shape \[2,3\], got \[3,3\]/);
    expect(() => loadModel(new Uint8Array(16), { backend: cpu })).toThrow(FormatError);
  });

  it('keeps a gradient output that has no gradient input (a step that sets .grad it never reads) in state(), replaced by the next run', () => {
    // y = sum(x @ w); the step outputs dy/dw = xᵀ·1 as w's gradient, with no w.grad input.
    const b = new GraphBuilder();
    const x = b.input({ dtype: 'float32', shape: [2, 3] }, 'x');
    const w = b.input({ dtype: 'float32', shape: [3, 2] }, 'w');
    const o = createOps(b);
    const y = o.sum(o.matmul(x, w));
    const g = o.matmul(o.permute(x, [1, 0]), o.ones([2, 2]));
    const graph = b.build([y, g]);
    const signature: Signature = {
      inputs: [{ name: 'x', role: 'input' }, { name: 'w', role: 'parameter' }],
      outputs: [{ name: 'y', role: 'output' }, { name: 'w.grad', role: 'gradient', target: 1 }],
      rngKeysPerRun: 0,
    };
    const model = loadModel(writeModel({ graph, signature, weights: [undefined, w0.data] }), { backend: cpu });
    const xs = f32([2, 3], (i) => i + 1);
    const [, wantG] = executeGraph(graph, cpu, [xs.data, w0.data]);
    model.run(xs);
    const grad = model.state().get('w.grad');
    expect(grad).toBeDefined();
    expect(grad!.shape).toEqual([3, 2]);
    expect(Array.from(grad!.data)).toEqual(Array.from(wantG)); // columns of xᵀ·1: 1+4, 2+5, 3+6
    expect(Array.from(grad!.data)).toEqual([5, 5, 7, 7, 9, 9]);
    // A second run replaces it (a step that assigns .grad, not one that accumulates).
    model.run(f32([2, 3], () => 1));
    expect(Array.from(model.state().get('w.grad')!.data)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(Array.from(model.state().get('w')!.data)).toEqual(Array.from(w0.data)); // the parameter is untouched
    model.dispose();
  });
});

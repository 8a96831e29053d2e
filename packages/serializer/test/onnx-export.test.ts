/**
 * exportGraphToOnnx on hand-built graphs: the ModelProto's fields read back with the decoder,
 * models run in onnxruntime against values computed here in plain JavaScript, fused and
 * composite nodes, and every way export refuses a graph or options.
 */
import type { Graph } from '@kiln/core';
import { createOps, getOp, GraphBuilder } from '@kiln/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { ProtoField } from '../src/index.js';
import { decodeFields, exportGraphToOnnx, int64Of, ONNX_OPSET_VERSION, OnnxExportError } from '../src/index.js';

const text = (v: ProtoField['value']) => new TextDecoder().decode(v as Uint8Array);
const sub = (fields: ProtoField[], n: number) => fields.filter((f) => f.field === n).map((f) => decodeFields(f.value as Uint8Array));
const f32 = (shape: number[]) => ({ dtype: 'float32' as const, shape });

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<ort.Tensor[]> {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run(feeds);
  return session.outputNames.map((n) => out[n]);
}

/** relu(x·w + b) for x [2, 3] (input), w [3, 2] and b [2] (initializers). */
function linearRelu(): { graph: Graph; w: Float32Array; b: Float32Array } {
  const g = new GraphBuilder();
  const x = g.input(f32([2, 3]), 'x');
  const w = g.input(f32([3, 2]), 'w');
  const b = g.input(f32([2]), 'b');
  const ops = createOps(g);
  return { graph: g.build([ops.relu(ops.add(ops.matmul(x, w), b))]), w: Float32Array.of(1, -1, 2, 0.5, -3, 1), b: Float32Array.of(0.5, -0.25) };
}

describe('exportGraphToOnnx: the ModelProto', () => {
  it('records IR version 8, opset 17, the producer, inputs, outputs and initializers', () => {
    const { graph, w, b } = linearRelu();
    const bytes = exportGraphToOnnx(graph, { initializers: new Map([[1, w], [2, b]]), outputNames: ['y'], producerVersion: '9.9', metadata: { task: 'test' } });
    const model = decodeFields(bytes);
    expect(int64Of(model.find((f) => f.field === 1)!.value)).toBe(8);
    expect(text(model.find((f) => f.field === 2)!.value)).toBe('kiln');
    expect(text(model.find((f) => f.field === 3)!.value)).toBe('9.9');
    const [opset] = sub(model, 8);
    expect(opset.map((f) => f.field)).toEqual([1, 2]);
    expect(int64Of(opset[1].value)).toBe(ONNX_OPSET_VERSION);
    const [meta] = sub(model, 14);
    expect([text(meta[0].value), text(meta[1].value)]).toEqual(['task', 'test']);
    const [graphFields] = sub(model, 7);
    const nodes = sub(graphFields, 1).map((n) => text(n.find((f) => f.field === 4)!.value));
    expect(nodes).toEqual(['MatMul', 'Add', 'Relu']);
    const inits = sub(graphFields, 5);
    expect(inits.map((t) => text(t.find((f) => f.field === 8)!.value))).toEqual(['w', 'b']);
    expect(new Float32Array((inits[0].find((f) => f.field === 9)!.value as Uint8Array).slice().buffer)).toEqual(w);
    const inputs = sub(graphFields, 11).map((v) => text(v[0].value));
    expect(inputs).toEqual(['x']); // weights are initializers, not inputs
    const [output] = sub(graphFields, 12);
    expect(text(output[0].value)).toBe('y');
    const [type] = sub(output, 2);
    const [tensorType] = sub(type, 1);
    expect(int64Of(tensorType[0].value)).toBe(1); // FLOAT
    const dims = sub(sub(tensorType, 2)[0], 1).map((d) => int64Of(d[0].value));
    expect(dims).toEqual([2, 2]);
  });
});

describe('exportGraphToOnnx: models run in onnxruntime', () => {
  it('computes relu(x·w + b)', async () => {
    const { graph, w, b } = linearRelu();
    const x = Float32Array.of(1, 2, 3, -1, 0, 4);
    const [y] = await run(exportGraphToOnnx(graph, { initializers: new Map([[1, w], [2, b]]) }), { x: new ort.Tensor('float32', x, [2, 3]) });
    const want = [0, 1].flatMap((r) => [0, 1].map((c) => Math.max(0, x[r * 3] * w[c] + x[r * 3 + 1] * w[2 + c] + x[r * 3 + 2] * w[4 + c] + b[c])));
    expect([...(y.data as Float32Array)]).toEqual(want.map(Math.fround));
  });

  it('passes x through a reduction over no axes, and writes repeated outputs and inputs as outputs', async () => {
    const g = new GraphBuilder();
    const x = g.input(f32([2, 2]), 'x');
    const [s] = g.add(getOp('sum'), [x], { axes: [], keepdims: false });
    const [n] = g.add(getOp('neg'), [s]);
    const bytes = exportGraphToOnnx(g.build([n, n, x]), { outputNames: ['a', 'b', 'c'] });
    const data = Float32Array.of(1, -2, 3, -4);
    const outs = await run(bytes, { x: new ort.Tensor('float32', data, [2, 2]) });
    expect(outs.map((t) => [...(t.data as Float32Array)])).toEqual([[-1, 2, -3, 4], [-1, 2, -3, 4], [1, -2, 3, -4]]);
  });

  it('inlines fused bodies (fusedElementwise, matmulEpilogue)', async () => {
    const body = new GraphBuilder();
    const [a, c] = [body.input(f32([2, 2])), body.input(f32([2]))];
    const bops = createOps(body);
    const fusedBody = body.build([bops.relu(bops.add(a, c))]);
    const epi = new GraphBuilder();
    const [ea, eb, ec] = [epi.input(f32([2, 2])), epi.input(f32([2, 2])), epi.input(f32([2]))];
    const eops = createOps(epi);
    const epilogue = epi.build([eops.tanh(eops.add(eops.matmul(ea, eb), ec))]);
    const g = new GraphBuilder();
    const x = g.input(f32([2, 2]), 'x');
    const bias = g.input(f32([2]), 'bias');
    const [y] = g.add(getOp('fusedElementwise'), [x, bias], {}, { subgraphs: [fusedBody] });
    const [z] = g.add(getOp('matmulEpilogue'), [x, y, bias], {}, { subgraphs: [epilogue] });
    const xs = [1, -2, 3, 0.5];
    const bs = [0.25, -1];
    const [oy, oz] = await run(exportGraphToOnnx(g.build([y, z])), { x: new ort.Tensor('float32', Float32Array.from(xs), [2, 2]), bias: new ort.Tensor('float32', Float32Array.from(bs), [2]) });
    const ys = xs.map((v, i) => Math.max(0, v + bs[i % 2]));
    expect([...(oy.data as Float32Array)]).toEqual(ys.map(Math.fround));
    const zs = [0, 1].flatMap((r) => [0, 1].map((col) => Math.tanh(xs[r * 2] * ys[col] + xs[r * 2 + 1] * ys[2 + col] + bs[col])));
    [...(oz.data as Float32Array)].forEach((v, i) => expect(v).toBeCloseTo(zs[i], 6));
  });

  it('expands composite nodes kept in the graph (softmax)', async () => {
    const g = new GraphBuilder({ keepComposites: true });
    const x = g.input(f32([3]), 'x');
    const y = createOps(g).softmax(x, 0);
    const graph = g.build([y]);
    expect(graph.nodes.map((n) => n.op)).toEqual(['softmax']);
    const [out] = await run(exportGraphToOnnx(graph), { x: new ort.Tensor('float32', Float32Array.of(1, 2, 3), [3]) });
    const e = [1, 2, 3].map((v) => Math.exp(v - 3));
    const total = e.reduce((p, q) => p + q);
    [...(out.data as Float32Array)].forEach((v, i) => expect(v).toBeCloseTo(e[i] / total, 6));
  });

  it('takes creation values from the evaluator', async () => {
    const g = new GraphBuilder();
    const [l] = g.add(getOp('linspace'), [], { start: 0, stop: 1, steps: 3, dtype: 'float32' });
    const [out] = await run(exportGraphToOnnx(g.build([l]), { evaluate: () => Float32Array.of(0, 0.5, 1) }), {});
    expect([...(out.data as Float32Array)]).toEqual([0, 0.5, 1]);
  });
});

describe('exportGraphToOnnx: refusals name what is wrong', () => {
  const single = (op: string, inputs: { dtype: 'float32' | 'int32'; shape: number[] }[], attrs: Record<string, unknown>) => {
    const g = new GraphBuilder();
    const vs = inputs.map((t, i) => g.input(t, `in${i}`));
    const outs = g.add(getOp(op), vs, attrs as never);
    return g.build(outs);
  };

  it('refuses random numbers and gradient kernels, naming the node and op', () => {
    const random = single('randomNormal', [{ dtype: 'int32', shape: [2] }], { shape: [3], dtype: 'float32' });
    expect(() => exportGraphToOnnx(random)).toThrow(OnnxExportError);
    expect(() => exportGraphToOnnx(random)).toThrow(/node %0 \(randomNormal\): random numbers cannot be exported/);
    const grad = single('conv2dWeightGrad', [f32([1, 1, 4, 4]), f32([1, 1, 2, 2])], { kernelSize: [3, 3], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 });
    expect(() => exportGraphToOnnx(grad)).toThrow(/node %0 \(conv2dWeightGrad\): conv2dWeightGrad is a gradient kernel/);
  });

  it('refuses dtypes the ONNX operator does not define', () => {
    const conv = single('conv2d', [{ dtype: 'int32', shape: [1, 1, 3, 3] }, { dtype: 'int32', shape: [1, 1, 2, 2] }], { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 });
    expect(() => exportGraphToOnnx(conv)).toThrow(/node %0 \(conv2d\): ONNX Conv takes float32 or float64 only, got int32/);
  });

  it('refuses float creation ops without an evaluator, and evaluators of the wrong size', () => {
    const g = new GraphBuilder();
    g.add(getOp('arange'), [], { start: 0, stop: 1, step: 0.25, dtype: 'float32' });
    const graph = g.build([]);
    expect(() => exportGraphToOnnx(graph)).toThrow(/arange over float32 needs its values computed with Kiln's rounding/);
    expect(() => exportGraphToOnnx(graph, { evaluate: () => Float32Array.of(1) })).toThrow(/returned 1 values for a float32\[4\] result/);
  });

  it('checks initializers and names', () => {
    const { graph, w, b } = linearRelu();
    expect(() => exportGraphToOnnx(graph, { initializers: new Map([[1, Float64Array.from(w)]]) })).toThrow(/input 1 is Float64Array\(6\), but the input is float32\[3,2\]/);
    expect(() => exportGraphToOnnx(graph, { initializers: new Map([[2, w]]) })).toThrow(/Float32Array of 2 elements/);
    expect(() => exportGraphToOnnx(graph, { initializers: new Map([[3, b]]) })).toThrow(/initializer for input 3, but the graph has 3 inputs/);
    expect(() => exportGraphToOnnx(graph, { inputNames: ['x', 'w'] })).toThrow(/inputNames has 2 names but the graph has 3/);
    expect(() => exportGraphToOnnx(graph, { inputNames: ['x', 'w', 'x'] })).toThrow(/repeats 'x'/);
    expect(() => exportGraphToOnnx(graph, { inputNames: ['x', 'w', ''] })).toThrow(/non-empty strings/);
    expect(() => exportGraphToOnnx(graph, { outputNames: ['w'] })).toThrow(/'w' names both an input and an output/);
  });
});

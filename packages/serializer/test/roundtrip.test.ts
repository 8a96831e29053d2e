/**
 * writeModel → readModel keeps everything: the graph text, value names, source locations,
 * attributes of every kind (NaN, ±Inf, -0, null, empty arrays), sub-graphs (cond, scan; one
 * body shared by two nodes), the signature with every role, weights bit for bit (as views into
 * the file's bytes), metadata and producer; symbolic dimensions survive and specialize.
 */
import type { Graph, Node, Value } from '@kiln/core';
import { createOps, getOp, GraphBuilder, printGraph } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import type { Signature, SizeExpr } from '../src/index.js';
import { KILN_SCHEMA_VERSION, readModel, readTensors, specializeGraph, WEIGHTS_ALIGNMENT, writeModel, writeTensors } from '../src/index.js';

/** A graph with an attribute of every kind, composites kept as nodes, locations and names. */
function kitchenSink(): { graph: Graph; signature: Signature; weights: (Float32Array | Int32Array | Uint8Array | undefined)[] } {
  const b = new GraphBuilder({ keepComposites: true });
  const x = b.input({ dtype: 'float32', shape: [2, 3] }, 'x');
  const w = b.input({ dtype: 'float32', shape: [3, 3] }, 'w');
  const idx = b.input({ dtype: 'int32', shape: [2] }, 'idx');
  const mask = b.input({ dtype: 'bool', shape: [2, 3] }, 'mask');
  const key = b.input({ dtype: 'int32', shape: [2] }, 'rng');
  const ops = createOps(b);
  const loc = { file: 'model.ts', line: 12, column: 7 };
  const [h] = b.add(getOp('matmul'), [x, w], {}, { loc });
  const [g] = b.add(getOp('gelu'), [h], { approximate: 'tanh' }, { loc: { file: 'model.ts', line: 13 } });
  const c = ops.clamp(g, null, 2.5);
  const [k] = b.add(getOp('constant'), [], { shape: [2, 3], dtype: 'float32', data: [Number.NaN, -0, Infinity, -Infinity, 1e-30, 3] });
  const m = ops.where(mask, c, k);
  const am = ops.argmax(m, null);
  const am1 = ops.argmax(m, 1, true);
  const s = ops.sum(m, [], true);
  const [f] = b.add(getOp('full'), [], { shape: [2], value: -0, dtype: 'float64' });
  const r = ops.reshape(ops.add(ops.cast(idx, 'float64'), f), [1, 2]);
  const u = ops.randomUniform(key, [3], 'float32');
  const graph = b.build([m, am, am1, s, r, u]);
  const signature: Signature = {
    inputs: [{ name: 'x', role: 'input' }, { name: 'fc.weight', role: 'parameter' }, { name: 'idx', role: 'buffer' }, { name: 'mask', role: 'buffer' }, { name: 'rng', role: 'rng' }],
    outputs: ['m', 'am', 'am1', 's', 'r', 'u'].map((name) => ({ name, role: 'output' as const })),
    rngKeysPerRun: 1,
  };
  const weights = [undefined, Float32Array.from({ length: 9 }, (_, i) => (i - 4) / 3), Int32Array.of(-7, 2 ** 31 - 1), Uint8Array.of(1, 0, 1, 1, 0, 0), undefined];
  return { graph, signature, weights };
}

const bits = (a: ArrayBufferView) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

describe('writeModel → readModel', () => {
  it('keeps the graph, names, locations, attributes of every kind, signature, weights and metadata', () => {
    const content = kitchenSink();
    const bytes = writeModel({ ...content, producer: { name: 'test', version: '9.9' }, metadata: { epoch: 3, note: 'hi', flag: true, lrs: [0.1, 0.01], none: null } });
    expect(new TextDecoder().decode(bytes.subarray(4, 8))).toBe('KILN');
    const file = readModel(bytes);
    expect(printGraph(file.graph)).toBe(printGraph(content.graph));
    expect(file.graph.inputs.map((v) => v.name)).toEqual(['x', 'w', 'idx', 'mask', 'rng']);
    expect(file.graph.nodes[0].loc).toEqual({ file: 'model.ts', line: 12, column: 7 });
    expect(file.graph.nodes[1].loc).toEqual({ file: 'model.ts', line: 13 });
    const attrs = file.graph.nodes.map((n) => n.attrs);
    expect(attrs).toEqual(content.graph.nodes.map((n) => n.attrs)); // NaN equals NaN, -0 is not 0 in toEqual
    expect(Object.is(attrs.find((a) => a.value !== undefined && a.dtype === 'float64')!.value, -0)).toBe(true);
    expect(file.signature).toEqual(content.signature);
    expect(file.version).toEqual(KILN_SCHEMA_VERSION);
    expect(file.producer).toEqual({ name: 'test', version: '9.9' });
    expect(file.metadata).toEqual({ epoch: 3, note: 'hi', flag: true, lrs: [0.1, 0.01], none: null });
    file.weights.forEach((w, i) => (content.weights[i] ? expect(bits(w!)).toEqual(bits(content.weights[i]!)) : expect(w).toBeUndefined()));
    expect(file.weightNames).toEqual([undefined, 'fc.weight', 'idx', 'mask', undefined]);
  });

  it('stores weights 64-byte aligned and reads them as views into the bytes when aligned, copies otherwise', () => {
    const content = kitchenSink();
    const bytes = writeModel(content);
    const file = readModel(bytes);
    expect(file.zeroCopyTensors).toBe(3);
    for (const w of file.weights.filter((x) => x)) {
      expect(w!.buffer).toBe(bytes.buffer);
      expect((w!.byteOffset - bytes.byteOffset) % WEIGHTS_ALIGNMENT).toBe(0);
    }
    // The same file at an odd address: the int32/float32 data cannot be viewed, so it is copied.
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const copied = readModel(shifted.subarray(1));
    expect(copied.zeroCopyTensors).toBe(1); // only the bool tensor (1-byte elements)
    copied.weights.forEach((w, i) => w && expect(bits(w)).toEqual(bits(content.weights[i]!)));
  });

  it('writes the same bytes for the same model', () => {
    expect(bits(writeModel(kitchenSink()))).toEqual(bits(writeModel(kitchenSink())));
  });

  it('keeps sub-graphs, storing a body that two nodes share once', () => {
    const body = (() => {
      const b = new GraphBuilder();
      const a = b.input({ dtype: 'float32', shape: [3] });
      return b.build([createOps(b).exp(a)]);
    })();
    const other = (() => {
      const b = new GraphBuilder();
      const a = b.input({ dtype: 'float32', shape: [3] });
      return b.build([createOps(b).neg(a)]);
    })();
    const scanBody = (() => {
      const b = new GraphBuilder();
      const carry = b.input({ dtype: 'float32', shape: [3] });
      const xi = b.input({ dtype: 'float32', shape: [3] });
      const o = createOps(b);
      const next = o.add(carry, xi);
      return b.build([next, o.mul(next, 2)]);
    })();
    const b = new GraphBuilder();
    const p = b.input({ dtype: 'bool', shape: [] }, 'p');
    const v = b.input({ dtype: 'float32', shape: [3] }, 'v');
    const xs = b.input({ dtype: 'float32', shape: [4, 3] }, 'xs');
    const [c1] = b.add(getOp('cond'), [p, v], {}, { subgraphs: [body, other] });
    const [c2] = b.add(getOp('cond'), [p, c1], {}, { subgraphs: [other, body] });
    const [carry, ys] = b.add(getOp('scan'), [c2, xs], { numConsts: 0, numCarry: 1, length: 4, reverse: true }, { subgraphs: [scanBody] });
    const graph = b.build([carry, ys]);
    const signature: Signature = {
      inputs: [{ name: 'p', role: 'input' }, { name: 'v', role: 'input' }, { name: 'xs', role: 'input' }],
      outputs: [{ name: 'carry', role: 'output' }, { name: 'ys', role: 'output' }], rngKeysPerRun: 0,
    };
    const file = readModel(writeModel({ graph, signature, weights: [] }));
    expect(printGraph(file.graph)).toBe(printGraph(graph));
    const [n1, n2] = file.graph.nodes;
    expect(n1.subgraphs![0]).toBe(n2.subgraphs![1]); // one decoded body, shared as in the original
  });

  it('keeps symbolic dimensions, and specializes the graph to other sizes', () => {
    const build = (n: number) => {
      const b = new GraphBuilder();
      const x = b.input({ dtype: 'float32', shape: [n, 3] }, 'x');
      const w = b.input({ dtype: 'float32', shape: [3, 2] }, 'w');
      const o = createOps(b);
      const y = o.matmul(x, w);
      return { graph: b.build([o.reshape(y, [2 * n]), o.mean(y, [0])]), x };
    };
    const { graph, x } = build(4);
    const batch: SizeExpr = { terms: [{ coefficient: 1, symbols: [0] }] };
    const reshape = graph.nodes.find((n) => n.op === 'reshape')!;
    const full = graph.nodes.find((n) => n.op === 'full')!; // mean divides by n
    const symbolic = {
      symbols: [{ name: 'batch', min: 1, max: 100 }], sizes: [4],
      dims: new Map<Value, (SizeExpr | null)[]>([[x, [batch, null]]]),
      attrs: new Map<Node, Record<string, (SizeExpr | null)[]>>([[reshape, { shape: [{ terms: [{ coefficient: 2, symbols: [0] }] }] }], [full, { value: [batch] }]]),
    };
    const signature: Signature = {
      inputs: [{ name: 'x', role: 'input' }, { name: 'w', role: 'parameter' }],
      outputs: [{ name: 'flat', role: 'output' }, { name: 'mean', role: 'output' }], rngKeysPerRun: 0,
    };
    const file = readModel(writeModel({ graph, signature, weights: [undefined, new Float32Array(6)], symbolic }));
    expect(file.symbolic!.symbols).toEqual([{ name: 'batch', min: 1, max: 100 }]);
    expect(file.symbolic!.sizes).toEqual([4]);
    expect([...file.symbolic!.dims.values()]).toEqual([[batch, null]]);
    for (const n of [1, 4, 9]) expect(printGraph(specializeGraph(file.graph, file.symbolic!, [n]))).toBe(printGraph(build(n).graph));
  });
});

describe('writeTensors → readTensors (checkpoints)', () => {
  it('keeps named tensors of every dtype, including empty ones, and metadata', () => {
    const tensors = {
      a: { dtype: 'float32' as const, shape: [2, 2], data: Float32Array.of(1, -0, Number.NaN, 4) },
      'b.c': { dtype: 'float64' as const, shape: [], data: Float64Array.of(Math.PI) },
      d: { dtype: 'int32' as const, shape: [3], data: Int32Array.of(-1, 0, 2 ** 31 - 1) },
      e: { dtype: 'bool' as const, shape: [0, 5], data: new Uint8Array(0) },
    };
    const bytes = writeTensors(tensors, { metadata: { step: 7 } });
    const file = readTensors(bytes);
    expect([...file.tensors.keys()]).toEqual(['a', 'b.c', 'd', 'e']);
    for (const [name, t] of Object.entries(tensors)) {
      const got = file.tensors.get(name)!;
      expect([got.dtype, got.shape]).toEqual([t.dtype, t.shape]);
      expect(bits(got.data)).toEqual(bits(t.data));
    }
    expect(file.metadata).toEqual({ step: 7 });
    expect(() => readModel(bytes)).toThrow(/weights only \(a checkpoint/);
  });

  it('refuses data that does not fit the declared dtype and shape', () => {
    expect(() => writeTensors({ a: { dtype: 'float32', shape: [3], data: Float32Array.of(1, 2) } })).toThrow(/expected a Float32Array of 3 elements/);
    expect(() => writeTensors({ a: { dtype: 'int32', shape: [2], data: Float32Array.of(1, 2) } })).toThrow(/expected a Int32Array of 2 elements for int32\[2\], got a Float32Array/);
  });
});

describe('writeModel refuses what it cannot store faithfully', () => {
  it('a signature that does not fit the graph, or missing weights', () => {
    const { graph, signature, weights } = kitchenSink();
    expect(() => writeModel({ graph, signature: { ...signature, inputs: signature.inputs.slice(1) }, weights })).toThrow(/lists 4 inputs, but the graph has 5/);
    expect(() => writeModel({ graph, signature, weights: [] })).toThrow(/weights\[1\] \('fc.weight', a parameter\): expected a Float32Array of 9 elements/);
    const badUpdate = { ...signature, outputs: signature.outputs.map((o, i) => (i === 4 ? { name: 'r', role: 'stateUpdate' as const, target: 2 } : o)) };
    expect(() => writeModel({ graph, signature: badUpdate, weights })).toThrow(/updates input 2 of type i32\[2\] with a value of type f64\[1,2\]/);
  });
});

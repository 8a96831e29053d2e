/**
 * Hostile and damaged files, one kind of damage at a time: each is refused with a FormatError
 * that says what is wrong. Files are corrupted by patching one field found through the
 * generated accessors, or written with the raw FlatBuffers builder when the damage is semantic.
 */
import { createOps, getOp, GraphBuilder } from '@kiln/core';
import { Builder, ByteBuffer } from 'flatbuffers';
import { describe, expect, it } from 'vitest';
import { Model } from '../src/generated/kiln_generated.js';
import type { Signature } from '../src/index.js';
import { FormatError, KILN_SCHEMA_VERSION, readModel, readTensors, writeModel, writeTensors } from '../src/index.js';
import { slotOf } from '../src/layout.js';

/** x: f32[2,3] → relu(x @ w + b) → sum over axis 1; w, b parameters. */
function sample(): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input({ dtype: 'float32', shape: [2, 3] }, 'x');
  const w = g.input({ dtype: 'float32', shape: [3, 4] }, 'w');
  const b = g.input({ dtype: 'float32', shape: [4] }, 'b');
  const o = createOps(g);
  const h = o.relu(o.add(o.matmul(x, w), b));
  const graph = g.build([o.sum(h, [1])]);
  const signature: Signature = {
    inputs: [{ name: 'x', role: 'input' }, { name: 'w', role: 'parameter' }, { name: 'b', role: 'parameter' }],
    outputs: [{ name: 'y', role: 'output' }], rngKeysPerRun: 0,
  };
  return writeModel({ graph, signature, weights: [undefined, new Float32Array(12).fill(0.5), Float32Array.of(1, 2, 3, 4)] });
}

const root = (bytes: Uint8Array) => Model.getRootAsModel(new ByteBuffer(bytes));
type Table = { bb: ByteBuffer | null; bb_pos: number };

/** The absolute position of field `id` of a table (which must be present). */
function field(t: Table, id: number): number {
  const at = t.bb!.__offset(t.bb_pos, slotOf(id));
  if (!at) throw new Error(`field ${id} is absent`);
  return t.bb_pos + at;
}

/** A copy of `bytes` with `patch` applied through a DataView. */
function patched(bytes: Uint8Array, patch: (view: DataView, model: Model) => void): Uint8Array {
  const copy = bytes.slice();
  patch(new DataView(copy.buffer), root(copy));
  return copy;
}

function refused(bytes: Uint8Array, message: RegExp): void {
  let error: unknown;
  try {
    readModel(bytes);
  } catch (e) {
    error = e;
  }
  expect(error, 'the file should be refused').toBeInstanceOf(FormatError);
  expect((error as Error).message).toMatch(message);
}

describe('the header and version', () => {
  it('refuses files that are not .kiln files', () => {
    refused(new Uint8Array(0), /0 bytes long/);
    refused(Uint8Array.of(0x50, 0x4b, 3, 4, 20, 0, 0, 0, 0, 0), /not a .kiln file: bytes 4-7 are '\\x14\\x00\\x00\\x00', expected the identifier 'KILN'/);
    refused(new TextEncoder().encode('\x08\x00\x00\x00ONNX and more'), /bytes 4-7 are 'ONNX'/);
  });

  it('refuses a newer or older major version with both version numbers, reads a newer minor', () => {
    const bytes = sample();
    const versionAt = field(root(bytes), 0);
    const withVersion = (major: number, minor: number) => patched(bytes, (v) => (v.setUint16(versionAt, major, true), v.setUint16(versionAt + 2, minor, true)));
    const ours = `${KILN_SCHEMA_VERSION.major}.${KILN_SCHEMA_VERSION.minor}`;
    refused(withVersion(KILN_SCHEMA_VERSION.major + 1, 0), new RegExp(`schema version ${KILN_SCHEMA_VERSION.major + 1}\\.0, made by a newer Kiln; this Kiln reads version ${KILN_SCHEMA_VERSION.major}\\.x \\(it writes ${ours.replace('.', '\\.')}\\)`));
    refused(withVersion(KILN_SCHEMA_VERSION.major - 1, 3), new RegExp(`schema version ${KILN_SCHEMA_VERSION.major - 1}\\.3, made by an older Kiln`));
    expect(readModel(withVersion(KILN_SCHEMA_VERSION.major, KILN_SCHEMA_VERSION.minor + 5)).version).toEqual({ major: KILN_SCHEMA_VERSION.major, minor: KILN_SCHEMA_VERSION.minor + 5 });
  });

  it('checks the version before the rest, so a newer layout gets the version message', () => {
    const bytes = sample();
    const versionAt = field(root(bytes), 0);
    const newer = patched(bytes, (v, m) => {
      v.setUint16(versionAt, 9, true);
      v.setUint32(field(m, 4), 0xfffffff0, true); // Model.graphs now points far outside
    });
    refused(newer, /schema version 9\.0/);
  });
});

describe('structure', () => {
  it('refuses truncated files wherever they are cut', () => {
    const bytes = sample();
    for (let n = 0; n < bytes.length; n += 7) expect(() => readModel(bytes.subarray(0, n))).toThrow(FormatError);
    refused(bytes.subarray(0, bytes.length - 1), /weights segment .* past the end of the file .*truncated/);
  });

  it('refuses offsets outside the file, huge vector counts and misaligned tables', () => {
    const bytes = sample();
    refused(patched(bytes, (v, m) => v.setUint32(field(m, 4), 0x7fffffff, true)), /Model\.graphs points outside the file/);
    refused(patched(bytes, (v, m) => {
      const nodes = field(m.graphs(0)!, 1);
      v.setUint32(nodes + v.getUint32(nodes, true), 0xffffffff, true);
    }), /vector Model\.graphs\[0\]\.nodes claims 4294967295 elements/);
    refused(patched(bytes, (v, m) => v.setUint32(field(m, 3), v.getUint32(field(m, 3), true) + 2, true)), /Model\.ops is not 4-byte aligned|vector Model\.ops/);
  });

  it('refuses shared tables that would make reading cost more than the file is long', () => {
    // 20,000 node slots all pointing at one node: each entry is 4 bytes, each visit costs the whole node.
    const b = new Builder(1024);
    const name = b.createString('relu');
    b.startObject(2);
    b.addFieldOffset(0, name, 0);
    const op = b.endObject();
    const ops = (() => { b.startVector(4, 1, 4); b.addOffset(op); return b.endVector(); })();
    const typeShape = (() => { b.startVector(8, 2, 8); b.addInt64(5n); b.addInt64(5n); return b.endVector(); })();
    b.startObject(3); b.addFieldOffset(1, typeShape, 0); const type = b.endObject();
    b.startObject(2); b.addFieldOffset(1, type, 0); const value = b.endObject();
    const outs = (() => { b.startVector(4, 1, 4); b.addOffset(value); return b.endVector(); })();
    const ins = (() => { b.startVector(4, 1, 4); b.addInt32(0); return b.endVector(); })();
    b.startObject(6); b.addFieldOffset(1, ins, 0); b.addFieldOffset(3, outs, 0); const node = b.endObject();
    b.startVector(4, 20000, 4);
    for (let i = 0; i < 20000; i++) b.addOffset(node);
    const nodes = b.endVector();
    b.startObject(3); b.addFieldOffset(1, nodes, 0); const graph = b.endObject();
    const graphs = (() => { b.startVector(4, 1, 4); b.addOffset(graph); return b.endVector(); })();
    b.startObject(15);
    b.addFieldStruct(0, (b.prep(2, 4), b.writeInt16(0), b.writeInt16(KILN_SCHEMA_VERSION.major), b.offset()), 0);
    b.addFieldOffset(3, ops, 0);
    b.addFieldOffset(4, graphs, 0);
    b.addFieldInt32(5, 0, -1);
    b.finish(b.endObject(), 'KILN');
    refused(b.asUint8Array(), /shared or overlap more than a well-formed file's can/);
  });
});

describe('meaning', () => {
  const bytes = sample();
  const node = (m: Model, j: number) => m.graphs(0)!.nodes(j)!;

  it('refuses an op index outside the op table, an unknown op and an op version newer than this Kiln', () => {
    refused(patched(bytes, (v, m) => v.setUint32(field(node(m, 0), 0), 99, true)), /graph 0 node 0: op index 99, but the op table has \d+ entries/);
    refused(patched(bytes, (v, m) => {
      const name = field(m.ops(0)!, 0);
      const at = name + v.getUint32(name, true) + 4;
      v.setUint8(at, 'q'.charCodeAt(0));
    }), /op table entry 0: unknown op 'q/);
    refused(patched(bytes, (v, m) => v.setUint32(field(m.ops(0)!, 1), 2, true)), /op table entry 0: '\w+' has version 2, but this Kiln implements versions 1 to 1 \(the file needs a newer Kiln\)/);
  });

  it('refuses a value used before it is defined, a wrong attribute kind, a bad dtype code', () => {
    refused(patched(bytes, (v, m) => {
      const inputs = field(node(m, 0), 1);
      v.setUint32(inputs + v.getUint32(inputs, true) + 4, 40, true);
    }), /graph 0 node 0 \(matmul\) input 0 refers to value 40, but only 3 values are defined at that point/);
    const sum = (m: Model) => { for (let j = 0; ; j++) if (m.ops(node(m, j).op())!.name() === 'sum') return node(m, j); };
    refused(patched(bytes, (v, m) => v.setUint8(field(sum(m).attrs(0)!, 1), 1)), /attribute '(axes|keepdims)' is stored as int, but the op declares it (ints|bool)/);
    refused(patched(bytes, (v, m) => v.setUint8(field(m.graphs(0)!.inputs(0)!.type()!, 0), 9)), /graph 0 input 0 dtype: unknown dtype code 9/);
  });

  it('refuses shapes whose byte size overflows, and recorded types that the ops\' rules contradict', () => {
    refused(patched(bytes, (v, m) => {
      const shape = field(m.graphs(0)!.inputs(0)!.type()!, 1);
      const at = shape + v.getUint32(shape, true) + 4;
      v.setBigInt64(at, 2n ** 40n, true);
      v.setBigInt64(at + 8, 2n ** 40n, true);
    }), /graph 0 input 0: a float32 tensor of shape \[1099511627776,1099511627776\] would take more than/);
    refused(patched(bytes, (v, m) => {
      const shape = field(m.graphs(0)!.inputs(0)!.type()!, 1);
      v.setBigInt64(shape + v.getUint32(shape, true) + 4, 5n, true);
    }), /the graph does not check: .*matmul/);
  });

  it('refuses signature indices and roles that do not fit', () => {
    const input = (m: Model, i: number) => m.signature()!.inputs(i)!;
    refused(patched(bytes, (v, m) => v.setInt32(field(input(m, 1), 2), 7, true)), /signature input 1 \('w'\): a parameter needs stored data, but its tensor index is 7 \(the file has 2 tensors\)/);
    refused(patched(bytes, (v, m) => v.setInt32(field(input(m, 1), 2), 1, true)), /the graph input is f32\[3,4\], but its stored tensor 1 \('b'\) is f32\[4\]/);
    refused(patched(bytes, (v, m) => v.setUint8(field(input(m, 0), 1), 7)), /signature input 0 \('x'\): unknown role code 7/);
  });

  it('refuses stored tensors that are misplaced, mis-sized, overlapping or not 0/1 bools', () => {
    const tensor = (m: Model, i: number) => m.tensors(i)!;
    refused(patched(bytes, (v, m) => v.setBigUint64(field(tensor(m, 0), 2), 32n, true)), /tensor 0 \('w'\): its offset 32 is not a multiple of 64/);
    refused(patched(bytes, (v, m) => v.setBigUint64(field(tensor(m, 0), 3), 47n, true)), /tensor 0 \('w'\): its size is 47 bytes, but float32\[3,4\] takes 48/);
    refused(patched(bytes, (v, m) => v.setBigUint64(field(tensor(m, 1), 2), 0n, true)), /tensors 0 \('w'\) and 1 \('b'\) overlap/);
    const bools = writeTensors({ flags: { dtype: 'bool', shape: [3], data: Uint8Array.of(0, 1, 1) } });
    const bad = bools.slice();
    bad[bad.length - 64 + 1] = 2;
    expect(() => readTensors(bad)).toThrow(/tensor 0 \('flags'\): bool element 1 is 2; bool data must be 0 or 1/);
  });

  it('refuses sub-graph references that point backwards (a cycle) or nowhere', () => {
    const b = new GraphBuilder();
    const p = b.input({ dtype: 'bool', shape: [] }, 'p');
    const x = b.input({ dtype: 'float32', shape: [2] }, 'x');
    const body = (() => {
      const g = new GraphBuilder();
      const a = g.input({ dtype: 'float32', shape: [2] });
      return g.build([createOps(g).neg(a)]);
    })();
    const [y] = b.add(getOp('cond'), [p, x], {}, { subgraphs: [body, body] });
    const withCond = writeModel({
      graph: b.build([y]), weights: [],
      signature: { inputs: [{ name: 'p', role: 'input' }, { name: 'x', role: 'input' }], outputs: [{ name: 'y', role: 'output' }], rngKeysPerRun: 0 },
    });
    expect(readModel(withCond).graph.nodes[0].subgraphs).toHaveLength(2);
    const subgraphs = (v: DataView, m: Model) => { const at = field(m.graphs(0)!.nodes(0)!, 4); return at + v.getUint32(at, true) + 4; };
    refused(patched(withCond, (v, m) => v.setUint32(subgraphs(v, m), 0, true)), /sub-graph 0 refers to graph 0; it must be a graph after this one \(1 to 1\), so references cannot form a cycle/);
    refused(patched(withCond, (v, m) => v.setUint32(subgraphs(v, m) + 4, 5, true)), /sub-graph 1 refers to graph 5/);
  });
});

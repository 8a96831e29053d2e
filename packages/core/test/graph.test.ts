import { describe, expect, it } from 'vitest';
import { createOps, getOp, GraphBuilder, printGraph, Value, verifyGraph, VerifyError } from '../src/index.js';
import type { Graph } from '../src/index.js';

function mlp(): Graph {
  const b = new GraphBuilder();
  const x = b.input({ dtype: 'float32', shape: [2, 3] }, 'x');
  const y = b.input({ dtype: 'float32', shape: [3] }, 'bias');
  const ops = createOps(b);
  return b.build([ops.relu(ops.add(ops.mul(x, 2), y))]);
}

describe('graph IR', () => {
  it('prints a stable jaxpr-like text form', () => {
    expect(printGraph(mlp())).toMatchInlineSnapshot(`
      "graph(%x: f32[2,3], %bias: f32[3]) {
        %0: f32[] = full {dtype="float32", shape=[], value=2}
        %1: f32[2,3] = mul %x %0
        %2: f32[2,3] = add %1 %bias
        %3: f32[2,3] = relu %2
        return %3
      }"
    `);
  });

  it('records promotions as explicit casts and sorts attrs', () => {
    const b = new GraphBuilder();
    const i = b.input({ dtype: 'int32', shape: [4] }, 'i');
    const f = b.input({ dtype: 'float64', shape: [1] }, 'f');
    const ops = createOps(b);
    expect(printGraph(b.build([ops.lt(i, f), ops.gelu(i, 'tanh')]))).toContain('cast %i {dtype="float64"}');
  });

  it('expands composites into primitives, or keeps them as single nodes', () => {
    const b = new GraphBuilder({ keepComposites: true });
    const x = b.input({ dtype: 'float32', shape: [3] }, 'x');
    const g = b.build([createOps(b).clamp(x, -1, 1)]);
    expect(printGraph(g)).toMatchInlineSnapshot(`
      "graph(%x: f32[3]) {
        %0: f32[3] = clamp %x {max=1, min=-1}
        return %0
      }"
    `);
    verifyGraph(g);
  });

  it('verifies well-formed graphs', () => {
    expect(() => verifyGraph(mlp())).not.toThrow();
  });

  it('rejects a value used before it is defined', () => {
    const g = mlp();
    const bad: Graph = { ...g, nodes: [g.nodes[1], g.nodes[0], ...g.nodes.slice(2)] };
    expect(() => verifyGraph(bad)).toThrowError(VerifyError);
    expect(() => verifyGraph(bad)).toThrowError(/node 0 \(mul\): input 1 is used before it is defined/);
  });

  it('rejects a recorded type that disagrees with the op rules', () => {
    const x = new Value({ dtype: 'float32', shape: [2] });
    const out = new Value({ dtype: 'float32', shape: [3] });
    const g: Graph = { inputs: [x], nodes: [{ op: 'relu', inputs: [x], attrs: {}, outputs: [out] }], outputs: [out] };
    expect(() => verifyGraph(g)).toThrowError('graph: node 0 (relu): output 0 is recorded as float32[3] but the op\'s rules give float32[2]');
  });

  it('rejects unknown ops, bad attrs, redefinitions and undefined outputs', () => {
    const x = new Value({ dtype: 'float32', shape: [2] });
    const y = new Value({ dtype: 'float32', shape: [2] });
    const node = (op: string, attrs = {}) => ({ op, inputs: [x], attrs, outputs: [y] });
    expect(() => verifyGraph({ inputs: [x], nodes: [node('rellu')], outputs: [y] })).toThrowError(/unknown op 'rellu'. Did you mean 'relu'/);
    expect(() => verifyGraph({ inputs: [x], nodes: [node('cast', { dtype: 'float16' })], outputs: [y] })).toThrowError(/attribute 'dtype' must be a dtype name/);
    expect(() => verifyGraph({ inputs: [x], nodes: [node('relu', { alpha: 1 })], outputs: [y] })).toThrowError(/unknown attribute 'alpha'; it takes none/);
    expect(() => verifyGraph({ inputs: [x, x], nodes: [], outputs: [x] })).toThrowError(/redefines a value/);
    expect(() => verifyGraph({ inputs: [x], nodes: [], outputs: [y] })).toThrowError(/output 0 is not defined/);
  });

  it('every op in the table has a doc line and attr schema', () => {
    expect(getOp('add').doc).toMatch(/broadcast/);
  });
});

import type { Graph, TensorType, TypedArray, Value } from '@kiln/core';
import { createOps, getOp, GraphBuilder, verifyGraph } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { executeGraph, fuseElementwise, GraphExecutionError, mapControlBodies, ownsOutput } from '../src/index.js';
import { boolT, cpu, f32, i32 } from './helpers.js';

type Ops = ReturnType<typeof createOps<Value>>;

function body(inputs: TensorType[], fn: (o: Ops, ...xs: Value[]) => Value[]): Graph {
  const b = new GraphBuilder();
  const xs = inputs.map((t, i) => b.input(t, `x${i}`));
  return b.build(fn(createOps(b), ...xs));
}

/** One control node over fresh inputs; returns the graph (verified). */
function single(op: string, inputs: TensorType[], attrs: Record<string, number | boolean>, subgraphs: Graph[]): Graph {
  const b = new GraphBuilder();
  const xs = inputs.map((t, i) => b.input(t, `a${i}`));
  const outs = b.add(getOp(op), xs, attrs, { subgraphs });
  const g = b.build(outs);
  verifyGraph(g);
  return g;
}

/** Runs a graph on host arrays and returns plain arrays; checks that every byte it made was freed or returned. */
function run(g: Graph, inputs: (number[] | boolean[])[]): number[][] {
  const storages = inputs.map((data, i) => cpu.upload(new (g.inputs[i].type.dtype === 'int32' ? Int32Array : g.inputs[i].type.dtype === 'bool' ? Uint8Array : Float32Array)(data.map(Number)), g.inputs[i].type));
  const before = cpu.bytesInUse();
  const outs = executeGraph(g, cpu, storages);
  const result = outs.map((s, i) => Array.from(cpu.readSync(s, g.outputs[i].type) as TypedArray));
  const owned = outs.filter((_, i) => ownsOutput(g, i));
  const returned = owned.reduce((n, s) => n + (s as TypedArray).byteLength, 0);
  expect(cpu.bytesInUse() - before, 'bytes left besides the outputs').toBe(returned);
  owned.forEach((s) => cpu.dispose(s));
  storages.forEach((s) => cpu.dispose(s));
  return result;
}

describe('runtime: control-flow nodes', () => {
  it('cond runs the branch the predicate picks, and copies a branch output that is its input', () => {
    const then = body([f32(3), f32(3)], (o, x, w) => [o.mul(x, w)]);
    const other = body([f32(3), f32(3)], (_o, x) => [x]);
    const g = single('cond', [boolT(), f32(3), f32(3)], {}, [then, other]);
    expect(run(g, [[true], [1, 2, 3], [4, 5, 6]])).toEqual([[4, 10, 18]]);
    expect(run(g, [[false], [1, 2, 3], [4, 5, 6]])).toEqual([[1, 2, 3]]);
  });

  it('whileLoop alternates cond and body with constants, freeing every replaced carry', () => {
    // while (i < n) { i += 1; x = x * k }
    const test = body([i32(), i32(), f32(2)], (o, n, i) => [o.lt(i, n)]);
    const step = body([f32(2), i32(), f32(2)], (o, k, i, x) => [o.add(i, 1), o.mul(x, k)]);
    const g = single('whileLoop', [i32(), f32(2), i32(), f32(2)], { condConsts: 1, bodyConsts: 1 }, [test, step]);
    expect(run(g, [[5], [2, 3], [0], [1, 1]])).toEqual([[5], [32, 243]]);
    expect(run(g, [[0], [2, 3], [0], [1, 1]])).toEqual([[0], [1, 1]]); // no step: the init, copied
  });

  it('scan slices xs, threads the carry and stacks the ys, forwards and in reverse', () => {
    // carry = carry + x; y = carry * 10 (a running sum)
    const b = body([f32(2), f32(2)], (o, c, x) => {
      const s = o.add(c, x);
      return [s, o.mul(s, 10)];
    });
    const attrs = { numConsts: 0, numCarry: 1, length: 3, reverse: false };
    const forward = single('scan', [f32(2), f32(3, 2)], attrs, [b]);
    expect(run(forward, [[0, 0], [1, 2, 3, 4, 5, 6]])).toEqual([[9, 12], [10, 20, 40, 60, 90, 120]]);
    const backward = single('scan', [f32(2), f32(3, 2)], { ...attrs, reverse: true }, [b]);
    expect(run(backward, [[0, 0], [1, 2, 3, 4, 5, 6]])).toEqual([[9, 12], [90, 120, 80, 100, 50, 60]]);
  });

  it('scan with constants, a y that is the carry, and no steps', () => {
    const b = body([f32(), f32(), f32()], (o, k, c, x) => {
      const s = o.add(o.mul(c, k), x);
      return [s, s, c];
    });
    const g = single('scan', [f32(), f32(), f32(4)], { numConsts: 1, numCarry: 1, length: 4, reverse: false }, [b]);
    expect(run(g, [[2], [0], [1, 1, 1, 1]])).toEqual([[15], [1, 3, 7, 15], [0, 1, 3, 7]]);
    const empty = single('scan', [f32(), f32(), f32(0)], { numConsts: 1, numCarry: 1, length: 0, reverse: false }, [b]);
    expect(run(empty, [[2], [5], []])).toEqual([[5], [], []]);
  });

  it('runs nested control flow: a cond inside a scan body', () => {
    // y = x > 0 ? x : 0, summed into the carry
    const relu = [body([f32()], (_o, x) => [x]), body([f32()], (o, x) => [o.zerosLike(x)])];
    const inner = new GraphBuilder();
    const c = inner.input(f32(), 'c');
    const x = inner.input(f32(), 'x');
    const ops = createOps(inner);
    const [y] = inner.add(getOp('cond'), [ops.gt(x, 0), x], {}, { subgraphs: relu });
    const scanBody = inner.build([ops.add(c, y), y]);
    const g = single('scan', [f32(), f32(4)], { numConsts: 0, numCarry: 1, length: 4, reverse: false }, [scanBody]);
    expect(run(g, [[0], [1, -2, 3, -4]])).toEqual([[4], [1, 0, 3, 0]]);
  });

  it('names the control node when a sub-graph fails', () => {
    const b = body([f32(2), f32(2)], (o, c, x) => [o.add(c, x)]);
    const g = single('scan', [f32(2), f32(1, 2)], { numConsts: 0, numCarry: 1, length: 1, reverse: false }, [b]);
    const bad = { ...g, nodes: [{ ...g.nodes[0], subgraphs: [{ ...b, nodes: [{ ...b.nodes[0], op: 'addd' }] }] }] };
    const ins = [cpu.upload(new Float32Array(2), f32(2)), cpu.upload(new Float32Array(2), f32(1, 2))];
    expect(() => executeGraph(bad, cpu, ins)).toThrowError(GraphExecutionError);
    expect(() => executeGraph(bad, cpu, ins)).toThrowError(/^while executing node 0: scan\(f32\[2\], f32\[1,2\]\) -> f32\[2\]: while executing node 0: addd\(.*unknown op 'addd'/);
  });
});

describe('passes inside control-flow bodies', () => {
  it('fusion reaches scan bodies: the fused graph verifies and computes the same', () => {
    // carry = tanh(carry * x + 1) * 0.5: one elementwise chain in the body
    const b = body([f32(4), f32(4)], (o, c, x) => [o.mul(o.tanh(o.add(o.mul(c, x), 1)), 0.5)]);
    const g = single('scan', [f32(4), f32(3, 4)], { numConsts: 0, numCarry: 1, length: 3, reverse: false }, [b]);
    const fused = fuseElementwise(g);
    verifyGraph(fused);
    expect(fused.nodes[0].subgraphs![0].nodes.map((n) => n.op)).toEqual(['fusedElementwise']);
    expect(mapControlBodies(g, (x) => x)).toBe(g); // nothing changed: the same graph
    const data = [[0.1, 0.2, 0.3, 0.4], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((v) => v / 10)];
    const [want, got] = [run(g, data), run(fused, data)];
    got[0].forEach((v, i) => expect(v).toBeCloseTo(want[0][i], 6));
  });
});

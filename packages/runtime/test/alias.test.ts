// Views in executeGraph: reshape outputs share their input's storage (no kernel, no copy), the
// storage lives until the last view of it is dead, and outputs the caller owns never share
// storage with an input or with each other. Checked with a backend that counts kernels and
// throws on a double free, against the same graph run with every reshape copying.
import type { Attrs, Backend, Graph, KernelInput, OpDef, TensorType, TypedArray, Value } from '@kiln/core';
import { createOps, getOp, GraphBuilder, nodeSpan, toTypedArray, verifyGraph } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { executeGraph, formatMemoryPlan, ownsOutput, planMemory } from '../src/index.js';
import { boolT, build, cpu, f32, sameBits } from './helpers.js';

/** The CPU backend, counting kernels by op, refusing to free storage twice or storage it never made. */
function strict() {
  const live = new Set<TypedArray>();
  const runs = new Map<string, number>();
  const backend: Backend<TypedArray> = {
    name: 'strict',
    upload: (d, t) => track(cpu.upload(d, t)),
    readSync: (s, t) => cpu.readSync(s, t),
    read: (s, t) => cpu.read(s, t),
    bytesInUse: () => cpu.bytesInUse(),
    hasKernel: (op) => cpu.hasKernel(op),
    dispose: (s) => {
      if (!live.delete(s)) throw new Error('disposed storage that is not live (a double free)');
      cpu.dispose(s);
    },
    run: (op: OpDef, inputs: readonly KernelInput<TypedArray>[], attrs: Attrs, outputs: readonly TensorType[], out?: readonly (TypedArray | undefined)[], subgraphs?: readonly Graph[]) => {
      runs.set(op.name, (runs.get(op.name) ?? 0) + 1);
      for (const o of out ?? []) if (o !== undefined && inputs.some((x) => x.storage === o)) throw new Error(`offered an input's storage to ${op.name}`);
      const results = cpu.run(op, inputs, attrs, outputs, out, subgraphs);
      results.forEach((r) => live.add(r));
      return results;
    },
  };
  function track(s: TypedArray): TypedArray {
    live.add(s);
    return s;
  }
  return { backend, live, runs };
}

/**
 * Runs `g` on the strict backend with views on (or off): results, the reshape kernels run, and
 * checks that everything but the owned outputs was freed and inputs were neither freed nor written.
 */
function run(g: Graph, inputs: readonly (readonly number[])[], views = true, memoryPlan = true) {
  const { backend, live, runs } = strict();
  const storages = inputs.map((d, i) => backend.upload(toTypedArray('float32', d), g.inputs[i].type));
  const outs = executeGraph(g, backend, storages, { views, memoryPlan });
  const owned = outs.filter((_, i) => ownsOutput(g, i));
  expect(new Set(owned).size).toBe(owned.length); // owned outputs never share storage
  for (const s of owned) expect(storages).not.toContain(s);
  expect(new Set(live)).toEqual(new Set([...storages, ...owned])); // no leak
  storages.forEach((s, i) => expect(Array.from(s)).toEqual(Array.from(toTypedArray('float32', inputs[i]))));
  const values = outs.map((s, i) => Array.from(backend.readSync(s, g.outputs[i].type)));
  return { values, reshapes: runs.get('reshape') ?? 0, outs, storages, backend };
}

/** The same graph with views and with every reshape copying: same bits; the view run runs no reshape kernel. */
function expectSameAsCopying(g: Graph, inputs: readonly (readonly number[])[], copiesAtBoundary = 0) {
  const viewed = run(g, inputs);
  const copied = run(g, inputs, false);
  expect(sameBits(viewed.values, copied.values)).toBe(true);
  expect(sameBits(run(g, inputs, true, false).values, copied.values)).toBe(true);
  expect(copied.reshapes).toBe(g.nodes.filter((n) => n.op === 'reshape').length);
  expect(viewed.reshapes).toBe(copiesAtBoundary);
  return viewed;
}

const x6 = [1, -2, 3.5, 0.25, -0.5, 4];

describe('executeGraph views', () => {
  it('runs a chain of reshapes as views of one storage, freed after the chain (hand-computed)', () => {
    const g = build({ x: f32(6) }, (o, x) => {
      const e = o.neg(x);
      const a = o.reshape(e, [2, 3]);
      const b = o.reshape(a, [3, 2]);
      const c = o.reshape(b, [6]);
      return [o.mul(o.add(c, 1), o.reshape(a, [6]))];
    });
    const { values } = expectSameAsCopying(g, [x6]);
    expect(values[0]).toEqual(x6.map((v) => (1 - v) * -v));
  });

  it('views a graph input and a constant without freeing or writing them', () => {
    const g = build({ x: f32(6) }, (o, x) => {
      const k = o.reshape(o.constant([1, 2, 3, 4, 5, 6], [6]), [2, 3]);
      return [o.exp(o.add(o.reshape(x, [2, 3]), k))];
    });
    const { values } = expectSameAsCopying(g, [x6]);
    expect(values[0]).toEqual(x6.map((v, i) => Math.fround(Math.exp(Math.fround(v + i + 1)))));
  });

  it('copies an output that views a graph input (a parameter the caller may update in place)', () => {
    const g = build({ w: f32(6) }, (o, w) => [o.reshape(w, [3, 2]), o.reshape(o.reshape(w, [2, 3]), [6])]);
    const { outs, storages, values } = expectSameAsCopying(g, [x6], 2);
    expect(values).toEqual([x6, x6]);
    storages[0].fill(0); // the caller updates the parameter in place: the results keep their values
    expect(outs.map((s) => Array.from(s))).toEqual([x6, x6]);
  });

  it('gives two outputs that view one storage a storage each', () => {
    const g = build({ x: f32(6) }, (o, x) => {
      const t = o.neg(x);
      return [o.reshape(t, [2, 3]), t, o.reshape(t, [3, 2]), t];
    });
    const { outs, values } = expectSameAsCopying(g, [x6], 2);
    expect(values).toEqual([0, 0, 0, 0].map(() => x6.map((v) => -v)));
    // The first output takes the storage, the second and third are copies, the fourth repeats the second.
    expect(ownsOutput(g, 3)).toBe(false);
    expect(outs[3]).toBe(outs[1]);
    outs[0].fill(7);
    expect(Array.from(outs[1])).toEqual(x6.map((v) => -v));
  });

  it('keeps a storage alive while a view of it is read later, and never offers it meanwhile', () => {
    // e dies at `sin` but its view v is read at the end: nothing computed in between may take e's buffer.
    const g = build({ x: f32(6) }, (o, x) => {
      const e = o.exp(x);
      const v = o.reshape(e, [2, 3]);
      const s = o.sin(e);
      const c = o.cos(o.neg(s));
      return [o.add(o.reshape(c, [2, 3]), v)];
    });
    const plan = planMemory(g);
    const byOp = (op: string) => plan.bufferOf.get(g.nodes.find((n) => n.op === op)!.outputs[0]);
    expect([byOp('sin'), byOp('neg'), byOp('cos')]).not.toContain(byOp('exp'));
    expect(byOp('cos')).toBe(byOp('sin')); // reuse still happens, of storage nothing views
    // Copying, exp dies at sin and neg takes its buffer: the case the view's liveness rules out.
    const copying = planMemory(g, { views: false });
    const copyOf = (op: string) => copying.bufferOf.get(g.nodes.find((n) => n.op === op)!.outputs[0]);
    expect(copyOf('neg')).toBe(copyOf('exp'));
    expect(plan.viewOf.size).toBe(2);
    expect(plan.bufferOf.has(g.nodes[1].outputs[0])).toBe(false);
    expectSameAsCopying(g, [x6]);
  });

  it('lets a state update computed through reshapes replace a parameter the results still view', () => {
    // An optimizer-like step: w' = reshape(reshape(w) * 0.5), returned as a state update with
    // y = a view of w; the caller then writes w' into w's storage in place (as model.ts may).
    const g = build({ w: f32(6), x: f32(6) }, (o, w, x) => {
      const y = o.reshape(o.mul(o.reshape(w, [2, 3]), o.reshape(x, [2, 3])), [6]);
      const next = o.reshape(o.mul(o.reshape(w, [3, 2]), 0.5), [6]);
      return [y, o.reshape(w, [2, 3]), next];
    });
    const w = [2, 4, 6, 8, 10, 12];
    const { outs, storages, values } = expectSameAsCopying(g, [w, x6], 1);
    expect(values).toEqual([w.map((v, i) => v * x6[i]), w, w.map((v) => v / 2)]);
    storages[0].set(outs[2]);
    expect(Array.from(outs[1])).toEqual(w);
    expect(Array.from(storages[0])).toEqual(w.map((v) => v / 2));
  });

  it('shrinks the planned peak: a reshape no longer holds a second copy of a large value', () => {
    const n = 1024;
    const big = 4 * n;
    const g = build({ x: f32(n) }, (o, x) => {
      const a = o.exp(x);
      const c = o.neg(o.reshape(a, [32, 32]));
      return [o.add(o.sum(c), o.sum(a))];
    });
    const withViews = planMemory(g);
    const copying = planMemory(g, { views: false });
    // At the neg node, copying holds exp's value, its reshaped copy and neg's result (a is still
    // read by its sum); with the view, exp's storage serves as both. The view's peak is at the
    // first sum: exp's value, neg's and the 4-byte sum.
    expect(copying.plannedPeakBytes).toBe(3 * big);
    expect(withViews.plannedPeakBytes).toBe(2 * big + 4);
    expect(copying.liveBytes).toBe(3 * big);
    expect(withViews.liveBytes).toBe(2 * big + 4);
    expect(withViews.naiveBytes).toBe(copying.naiveBytes - big);
    expect(formatMemoryPlan(withViews)).toBe(`memory plan: 5 buffers for 5 values (0 reuse a dead buffer, 1 views share their input's); peak 8.0 KiB planned, 8.0 KiB live at most, 8.0 KiB without reuse`);
    const x = Array.from({ length: n }, (_, i) => Math.sin(i) * 0.1);
    expectSameAsCopying(g, [x]);
  });

  it('reports view nodes to onNode, as moving no bytes', () => {
    const g = build({ x: f32(6) }, (o, x) => [o.exp(o.reshape(x, [2, 3]))]);
    const spans: ReturnType<typeof nodeSpan>[] = [];
    const { backend } = strict();
    const input = backend.upload(toTypedArray('float32', x6), g.inputs[0].type);
    const [y] = executeGraph(g, backend, [input], { onNode: (node, start, end) => spans.push(nodeSpan(node, start, end)) });
    expect(spans.map((s) => [s.op, s.bytes])).toEqual([['reshape', 0], ['exp', undefined]]);
    backend.dispose(y);
  });

  it('frees everything made so far, once, when a node fails after a view', () => {
    const g = build({ x: f32(6) }, (o, x) => [o.node('exp', [o.reshape(o.neg(x), [2, 3])], {}), o.reshape(o.neg(x), [6])]);
    const { backend, live } = strict();
    const failing: Backend<TypedArray> = { ...backend, run: (op, ...rest) => { if (op.name === 'exp') throw new Error('boom'); return backend.run(op, ...rest); } };
    const input = failing.upload(toTypedArray('float32', x6), g.inputs[0].type);
    expect(() => executeGraph(g, failing, [input])).toThrow(/boom/);
    expect([...live]).toEqual([input]);
  });

  it('random graphs of views and kernels agree with copying reshapes, leak nothing and free once', () => {
    for (let seed = 1; seed <= 25; seed++) {
      let r = seed;
      const rand = (k: number) => ((r = (r * 1103515245 + 12345) % 2 ** 31), r % k);
      const shapes = [[6], [2, 3], [3, 2], [1, 6, 1]];
      const g = build({ x: f32(6), y: f32(2, 3) }, (o, x, y) => {
        const vals = [x, y];
        for (let i = 0; i < 24; i++) {
          const a = vals[rand(vals.length)];
          const b = o.reshape(vals[rand(vals.length)], a.type.shape);
          vals.push([o.add(a, b), o.mul(a, 0.5), o.reshape(a, shapes[rand(4)]), o.reshape(o.neg(a), shapes[rand(4)])][rand(4)]);
        }
        return [vals[vals.length - 1], vals[rand(vals.length)], vals[rand(vals.length)], vals[2 + rand(vals.length - 2)]];
      });
      const inputs = [x6, x6.map((v) => v * 3)];
      const copied = run(g, inputs, false);
      for (const memoryPlan of [true, false]) expect(sameBits(run(g, inputs, true, memoryPlan).values, copied.values)).toBe(true);
    }
  });
});

/** A sub-graph over fresh inputs. */
function body(inputs: TensorType[], fn: (o: ReturnType<typeof createOps<Value>>, ...xs: Value[]) => Value[]): Graph {
  const b = new GraphBuilder();
  const xs = inputs.map((t, i) => b.input(t, `x${i}`));
  return b.build(fn(createOps(b), ...xs));
}

/** One control node over fresh inputs, its outputs reshaped once more. */
function control(op: string, inputs: TensorType[], attrs: Record<string, number | boolean>, subgraphs: Graph[]): Graph {
  const b = new GraphBuilder();
  const xs = inputs.map((t, i) => b.input(t, `a${i}`));
  const outs = b.add(getOp(op), xs, attrs, { subgraphs });
  const g = b.build([...outs, ...outs.map((v) => b.add(getOp('reshape'), [v], { shape: [v.type.shape.reduce((p, d) => p * d, 1)] })[0])]);
  verifyGraph(g);
  return g;
}

describe('executeGraph views in control-flow bodies', () => {
  // Bodies run through executeGraph: their reshapes are views too, and a body output that views a
  // body input (a carry, a constant, a slice) is copied at the body's boundary like any graph's.
  const same = (g: Graph, inputs: readonly (readonly number[])[]) => {
    const viewed = run(g, inputs);
    expect(sameBits(viewed.values, run(g, inputs, false).values)).toBe(true);
    return viewed.values;
  };

  it('cond: a branch that returns a view of its input', () => {
    const then = body([f32(2, 3)], (o, x) => [o.reshape(o.reshape(x, [6]), [2, 3])]);
    const other = body([f32(2, 3)], (o, x) => [o.reshape(o.neg(o.reshape(x, [3, 2])), [2, 3])]);
    const g = control('cond', [boolT(), f32(2, 3)], {}, [then, other]);
    expect(same(g, [[1], x6])).toEqual([x6, x6]);
    expect(same(g, [[0], x6])).toEqual([x6.map((v) => -v), x6.map((v) => -v)]);
  });

  it('whileLoop: carries that pass through views, one of them unchanged', () => {
    // while (sum(x) < 100) { x = reshape(reshape(x) * 2); k = reshape(reshape(k)) }
    const test = body([f32(2, 3), f32(6)], (o, x) => [o.lt(o.sum(o.reshape(x, [6])), 100)]);
    const step = body([f32(2, 3), f32(6)], (o, x, k) => [o.reshape(o.mul(o.reshape(x, [3, 2]), 2), [2, 3]), o.reshape(o.reshape(k, [2, 3]), [6])]);
    const g = control('whileLoop', [f32(2, 3), f32(6)], { condConsts: 0, bodyConsts: 0 }, [test, step]);
    const x = [1, 2, 3, 4, 5, 6]; // sum 21 → 42 → 84 → 168
    expect(same(g, [x, x6]).slice(0, 2)).toEqual([x.map((v) => v * 8), x6]);
  });

  it('scan: ys that view the slice and a carry that views itself', () => {
    const step = body([f32(3), f32(3)], (o, c, xi) => [o.reshape(o.add(o.reshape(c, [1, 3]), o.reshape(xi, [1, 3])), [3]), o.reshape(xi, [3, 1])]);
    const g = control('scan', [f32(3), f32(2, 3)], { numConsts: 0, numCarry: 1, length: 2, reverse: false }, [step]);
    const values = same(g, [[10, 20, 30], x6]);
    expect(values.slice(0, 2)).toEqual([[10 + 1 + 0.25, 20 - 2 - 0.5, 30 + 3.5 + 4], x6]);
  });
});

import type { Attrs, Backend, KernelInput, OpDef, TensorType, TypedArray } from '@kiln/core';
import { ArgumentError, toTypedArray } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { executeGraph, formatMemoryPlan, GraphExecutionError, memoryPlanFor, planMemory } from '../src/index.js';
import { boolT, build, cpu, f32, runGraph, sameBits } from './helpers.js';

/** A unary chain of f32[4] values (16 bytes each). */
const chain = () => build({ x: f32(4) }, (o, x) => [o.sin(o.log(o.neg(o.exp(x))))]);

describe('planMemory', () => {
  it('reuses the buffer of a value that died at an earlier node (hand-computed)', () => {
    const g = chain();
    const plan = planMemory(g);
    // exp → b0; neg → b1 (b0 is still read by neg); log → b0 (exp died at node 1); sin → b1.
    expect(g.nodes.map((n) => plan.bufferOf.get(n.outputs[0]))).toEqual([0, 1, 0, 1]);
    expect(plan.bufferBytes).toEqual([16, 16]);
    expect(plan.reused).toBe(2);
    expect(plan.naiveBytes).toBe(64);
    expect(plan.liveBytes).toBe(32);
    expect(plan.plannedPeakBytes).toBe(32);
    expect(formatMemoryPlan(plan)).toBe('memory plan: 2 buffers for 4 values (2 reuse a dead buffer); peak 32 B planned, 32 B live at most, 64 B without reuse');
  });

  it('shares buffers only between values of the same dtype and size', () => {
    const g = build({ x: f32(4) }, (o, x) => {
      const a = o.exp(x); // f32[4]
      const m = o.gt(a, 0); // bool[4]: 4 bytes
      const s = o.sum(o.where(m, a, 0)); // f32[] after a f32[4] select
      const wide = o.broadcastTo(s, [2, 4]); // f32[8]: 32 bytes
      return [o.cast(o.logicalNot(m), 'float32'), wide];
    });
    const plan = planMemory(g);
    const byOp = (op: string) => g.nodes.filter((n) => n.op === op).map((n) => plan.bufferOf.get(n.outputs[0]));
    const [a] = byOp('exp');
    const [m] = byOp('gt');
    // The select output cannot take exp's buffer (exp is its input) nor the bool mask's.
    const [sel] = byOp('where');
    expect(new Set([a, m, sel]).size).toBe(3);
    // logicalNot (bool[4]) may not take an f32 buffer even where one is free.
    const [not] = byOp('logicalNot');
    expect(plan.bufferBytes[not!]).toBe(4);
    for (const node of g.nodes) {
      for (const v of node.outputs) {
        const b = plan.bufferOf.get(v)!;
        const sharers = g.nodes.flatMap((n) => n.outputs).filter((w) => plan.bufferOf.get(w) === b);
        for (const w of sharers) expect([w.type.dtype, w.type.shape.reduce((p, d) => p * d, 1)]).toEqual([v.type.dtype, v.type.shape.reduce((p, d) => p * d, 1)]);
      }
    }
  });

  it('never gives a buffer to two values live at once (random chains)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      let r = seed;
      const rand = (n: number) => ((r = (r * 1103515245 + 12345) % 2 ** 31), r % n);
      const g = build({ x: f32(3), y: f32(3) }, (o, x, y) => {
        const vals = [x, y];
        for (let i = 0; i < 30; i++) {
          const a = vals[rand(vals.length)];
          const b = vals[rand(vals.length)];
          vals.push([o.add(a, b), o.mul(a, b), o.exp(a), o.neg(b)][rand(4)]);
        }
        return [vals[vals.length - 1], vals[10]];
      });
      const plan = planMemory(g);
      const last = new Map(g.nodes.flatMap((n, i) => n.inputs.map((v) => [v, i] as const)));
      g.outputs.forEach((v) => last.set(v, g.nodes.length));
      const def = new Map(g.nodes.flatMap((n, i) => n.outputs.map((v) => [v, i] as const)));
      const values = [...def.keys()];
      const overlaps = [];
      for (const v of values) {
        for (const w of values) {
          if (v === w || plan.bufferOf.get(v) !== plan.bufferOf.get(w)) continue;
          const [first, second] = def.get(v)! < def.get(w)! ? [v, w] : [w, v];
          if ((last.get(first) ?? def.get(first)!) >= def.get(second)!) overlaps.push([def.get(first), def.get(second)]);
        }
      }
      expect(overlaps).toEqual([]);
      expect(plan.reused).toBeGreaterThan(0);
      const inputs = [[1, -2, 0.5], [0.25, 3, -1]];
      expect(sameBits(runGraph(g, inputs, true), runGraph(g, inputs, false))).toBe(true);
    }
  });

  it('lets outputs take dead buffers but never frees or reuses them', () => {
    const g = build({ x: f32(4) }, (o, x) => {
      const a = o.exp(x);
      const b = o.neg(a);
      return [o.sin(b), o.cos(b)];
    });
    const plan = planMemory(g);
    const [, , sin, cos] = g.nodes.map((n) => plan.bufferOf.get(n.outputs[0]));
    expect(sin).toBe(0); // exp's buffer
    expect(cos).toBe(2); // neg's is still read by cos itself
    expect(plan.nextOccupant.has(g.outputs[0])).toBe(false);
  });
});

/** The CPU backend with another `run`. */
function withRun(run: Backend<TypedArray>['run']): Backend<TypedArray> {
  return {
    name: 'wrapped', run,
    upload: (d, t) => cpu.upload(d, t), readSync: (s, t) => cpu.readSync(s, t), read: (s, t) => cpu.read(s, t),
    dispose: (s) => cpu.dispose(s), bytesInUse: () => cpu.bytesInUse(), hasKernel: (op) => cpu.hasKernel(op),
  };
}

/** A backend that records what executeGraph offers, and optionally ignores the offers. */
function recording(ignoreOffers: boolean) {
  const log = { offered: 0, accepted: 0 };
  const backend = withRun( (op: OpDef, inputs: readonly KernelInput<TypedArray>[], attrs: Attrs, outputs: readonly TensorType[], out?: readonly (TypedArray | undefined)[]) => {
    const offers = out?.filter((o) => o !== undefined) ?? [];
    log.offered += offers.length;
    const results = ignoreOffers ? cpu.run(op, inputs, attrs, outputs) : cpu.run(op, inputs, attrs, outputs, out);
    log.accepted += results.filter((r) => offers.includes(r)).length;
    return results;
  });
  return { backend, log };
}

describe('executeGraph with a memory plan', () => {
  const mlp = () =>
    build({ x: f32(8, 16), w1: f32(16, 32), w2: f32(32, 4) }, (o, x, w1, w2) => {
      const h = o.relu(o.matmul(x, w1));
      const y = o.sigmoid(o.mul(o.matmul(h, w2), 2));
      const g = o.mul(o.mul(y, o.sub(1, y)), 0.5);
      return [o.sum(o.mul(g, g)), o.matmul(o.permute(h, [1, 0]), g)];
    });
  const data = (n: number, k: number) => Array.from({ length: n }, (_, i) => Math.sin(i * k));
  const inputs = [data(128, 1), data(512, 2), data(128, 3)];

  it('writes values into dead buffers, with the same results and no leak', () => {
    const g = mlp();
    const { backend, log } = recording(false);
    const before = cpu.bytesInUse();
    const storages = inputs.map((d, i) => cpu.upload(toTypedArray('float32', d), g.inputs[i].type));
    const outs = executeGraph(g, backend, storages);
    expect(log.offered).toBe(memoryPlanFor(g).reused);
    expect(log.accepted).toBe(log.offered);
    expect(log.offered).toBeGreaterThan(3);
    expect(cpu.bytesInUse() - before).toBe(storages.concat(outs).reduce((n, s) => n + s.byteLength, 0));
    const values = outs.map((s) => Array.from(s));
    outs.concat(storages).forEach((s) => cpu.dispose(s));
    expect(cpu.bytesInUse()).toBe(before);
    expect(sameBits(values, runGraph(g, inputs, false))).toBe(true);
  });

  it('works with a backend that ignores the offers, freeing them', () => {
    const g = mlp();
    const { backend, log } = recording(true);
    const before = cpu.bytesInUse();
    const storages = inputs.map((d, i) => cpu.upload(toTypedArray('float32', d), g.inputs[i].type));
    const outs = executeGraph(g, backend, storages);
    expect(log.accepted).toBe(0);
    const values = outs.map((s) => Array.from(s));
    outs.concat(storages).forEach((s) => cpu.dispose(s));
    expect(cpu.bytesInUse()).toBe(before);
    expect(sameBits(values, runGraph(g, inputs, false))).toBe(true);
  });

  it('frees everything it made when a node fails', () => {
    const g = build({ m: boolT(4), x: f32(4) }, (o, m, x) => [o.where(m, o.exp(o.neg(x)), o.sin(x))]);
    const failing = withRun((op, ...rest) => {
      if (op.name === 'where') throw new Error('device lost');
      return cpu.run(op, ...rest);
    });
    const before = cpu.bytesInUse();
    const storages = [cpu.upload(toTypedArray('bool', [1, 0, 1, 0]), boolT(4)), cpu.upload(toTypedArray('float32', [1, 2, 3, 4]), f32(4))];
    expect(() => executeGraph(g, failing, storages)).toThrowError(GraphExecutionError);
    expect(() => executeGraph(g, failing, storages)).toThrowError(/while executing node 3: where\(bool\[4\], f32\[4\], f32\[4\]\) -> f32\[4\]: device lost/);
    storages.forEach((s) => cpu.dispose(s));
    expect(cpu.bytesInUse()).toBe(before);
  });

  it('plans once per graph and accepts an explicit plan', () => {
    const g = chain();
    expect(memoryPlanFor(g)).toBe(memoryPlanFor(g));
    const { backend, log } = recording(false);
    const x = cpu.upload(toTypedArray('float32', [0, 1, 2, 3]), f32(4));
    cpu.dispose(executeGraph(g, backend, [x], { memoryPlan: planMemory(g) })[0]);
    expect(log.offered).toBe(2);
    cpu.dispose(executeGraph(g, backend, [x], { memoryPlan: false })[0]);
    expect(log.offered).toBe(2);
    expect(() => executeGraph(g, backend, [x], { memoryPlan: planMemory(chain()) })).toThrowError(ArgumentError);
    expect(() => executeGraph(g, backend, [x], { memoryPlan: planMemory(chain()) })).toThrowError('executeGraph: the memory plan was made for another graph (planMemory(graph) plans one graph; passes make new graphs)');
    cpu.dispose(x);
  });
});

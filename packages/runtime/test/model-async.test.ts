/**
 * LoadedModel.runAsync: the results and state updates of `run`, read with `backend.read` — so a
 * backend whose `readSync` throws (WebGPU) runs saved models too. Checked against `run` on CPU.
 */
import type { Backend, Graph, TensorType, TypedArray } from '@kiln/core';
import { createOps, GraphBuilder } from '@kiln/core';
import { getBackend } from '@kiln/eager';
import type { Signature } from '@kiln/serializer';
import { writeModel } from '@kiln/serializer';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/index.js';

const cpu = getBackend('cpu') as Backend<TypedArray>;
const f32 = (shape: number[], f: (i: number) => number) => ({ dtype: 'float32' as const, shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)) });

/** The CPU backend, except that it reads only asynchronously (as WebGPU does); counts reads. */
function asyncOnly(): { backend: Backend<TypedArray>; reads: () => number } {
  let reads = 0;
  const backend = Object.create(cpu) as Backend<TypedArray> & { readSync(s: TypedArray, t: TensorType): TypedArray };
  backend.readSync = () => { throw new Error('readSync on an async-only backend'); };
  backend.read = async (s: TypedArray, t: TensorType) => { reads++; await Promise.resolve(); return cpu.readSync(s, t); };
  return { backend, reads: () => reads };
}

/** y = tanh(x @ w); the step also moves w by -0.5·mean(y), and w's update is the stored w's next value. */
function stepGraph(): { graph: Graph; signature: Signature } {
  const b = new GraphBuilder();
  const x = b.input({ dtype: 'float32', shape: [4, 3] }, 'x');
  const w = b.input({ dtype: 'float32', shape: [3, 2] }, 'w');
  const o = createOps(b);
  const y = o.tanh(o.matmul(x, w));
  return {
    graph: b.build([y, o.sub(w, o.mul(o.mean(y), 0.5))]),
    signature: { inputs: [{ name: 'x', role: 'input' }, { name: 'w', role: 'parameter' }], outputs: [{ name: 'y', role: 'output' }, { name: 'w.next', role: 'stateUpdate', target: 1 }], rngKeysPerRun: 0 },
  };
}

describe('LoadedModel.runAsync', () => {
  const { graph, signature } = stepGraph();
  const bytes = writeModel({ graph, signature, weights: [undefined, f32([3, 2], (i) => (i - 2.5) / 4).data] });
  const x = f32([4, 3], (i) => Math.sin(i));

  it('gives run\'s results and state updates, run after run, on a backend that cannot read synchronously', async () => {
    const reference = loadModel(bytes, { backend: cpu });
    const { backend, reads } = asyncOnly();
    const model = loadModel(bytes, { backend });
    expect(() => model.run(x)).toThrow(/readSync on an async-only backend/);
    for (let k = 0; k < 3; k++) {
      const [want] = reference.run(x);
      const [got] = await model.runAsync(x);
      expect(got.shape).toEqual([4, 2]);
      expect(Array.from(got.data)).toEqual(Array.from(want.data));
    }
    // The weights moved three times, as in the synchronous model (the step changes y each run).
    const [want] = reference.run(x);
    const [got] = await model.runAsync(x);
    expect(Array.from(got.data)).toEqual(Array.from(want.data));
    expect(reads()).toBeGreaterThanOrEqual(4);
    model.dispose();
    reference.dispose();
  });

  it('checks its inputs as run does, and refuses to run a disposed model', async () => {
    const model = loadModel(bytes, { backend: cpu });
    await expect(model.runAsync(f32([4, 2], () => 0))).rejects.toThrow(/shape/);
    model.dispose();
    await expect(model.runAsync(x)).rejects.toThrow(/disposed model/);
  });

  it('frees the run\'s storage when a read fails, and the stored weights stay usable', async () => {
    const failing = Object.create(cpu) as Backend<TypedArray>;
    let fail = true;
    failing.read = async (s: TypedArray, t: TensorType) => {
      if (fail) throw new Error('device lost');
      return cpu.readSync(s, t);
    };
    const model = loadModel(bytes, { backend: failing });
    await expect(model.runAsync(x)).rejects.toThrow(/device lost/);
    fail = false;
    const [got] = await model.runAsync(x);
    const [want] = loadModel(bytes, { backend: cpu }).run(x);
    expect(Array.from(got.data)).toEqual(Array.from(want.data));
  });
});

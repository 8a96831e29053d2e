/** LoadedModel.stateAsync: the same names and values as state(), read through backend.read. */
import type { Backend, TypedArray } from '@kiln/core';
import { createOps, GraphBuilder } from '@kiln/core';
import { getBackend } from '@kiln/eager';
import { writeModel } from '@kiln/serializer';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/index.js';

const cpu = getBackend('cpu') as Backend<TypedArray>;

describe('LoadedModel.stateAsync', () => {
  it('after each run equals state(): the parameter moved by the step (hand-computed) and a gradient output', async () => {
    // y = x·w summed; w.next = w - 0.5·x (the gradient of sum(x·w) is x); w.grad = x, with no input.
    const b = new GraphBuilder();
    const x = b.input({ dtype: 'float32', shape: [3] }, 'x');
    const w = b.input({ dtype: 'float32', shape: [3] }, 'w');
    const o = createOps(b);
    const graph = b.build([o.sum(o.mul(x, w)), o.sub(w, o.mul(x, 0.5)), o.mul(x, 1)]);
    const signature = {
      inputs: [{ name: 'x', role: 'input' as const }, { name: 'w', role: 'parameter' as const }],
      outputs: [{ name: 'y', role: 'output' as const }, { name: 'w.next', role: 'stateUpdate' as const, target: 1 }, { name: 'w.grad', role: 'gradient' as const, target: 1 }],
      rngKeysPerRun: 0,
    };
    const model = loadModel(writeModel({ graph, signature, weights: [undefined, new Float32Array([1, 2, 3])] }), { backend: cpu });
    expect([...(await model.stateAsync()).keys()]).toEqual(['w']);
    const xs = { dtype: 'float32' as const, shape: [3], data: new Float32Array([2, 4, 8]) };
    const [y] = await model.runAsync(xs);
    expect([...y.data]).toEqual([2 + 8 + 24]);
    const state = await model.stateAsync();
    expect(state.get('w')).toEqual({ dtype: 'float32', shape: [3], data: new Float32Array([0, 0, -1]) });
    expect([...state.get('w.grad')!.data]).toEqual([2, 4, 8]);
    expect(state).toEqual(model.state());
    model.run(xs);
    expect([...(await model.stateAsync()).get('w')!.data]).toEqual([-1, -2, -5]);
    model.dispose();
    expect((await model.stateAsync()).size).toBe(0);
  });
});

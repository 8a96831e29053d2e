import type { Backend, Graph, TensorType, Value } from '@kiln/core';
import { createOps, GraphBuilder } from '@kiln/core';
import { executeGraph, ownsOutput } from '@kiln/runtime';
import { describe, expect, it } from 'vitest';
import type { WebGPUStorage } from '../src/index.js';
import { testBackend } from './helpers/device.js';

// The runtime runs a graph's reshape nodes as views of their input's storage
// (docs/design/memory-plan.md): decided from the graph alone, so it must hold on WebGPU buffers
// as on CPU arrays — same values as copying reshapes, every buffer freed once, none leaked.
const gpu = await testBackend;

const f32 = (...shape: number[]): TensorType => ({ dtype: 'float32', shape });

function build(inputs: TensorType[], body: (o: ReturnType<typeof createOps<Value>>, ...xs: Value[]) => Value[]): Graph {
  const b = new GraphBuilder();
  const xs = inputs.map((t, i) => b.input(t, `x${i}`));
  return b.build(body(createOps(b), ...xs));
}

describe.skipIf(!gpu)('executeGraph views on WebGPU', () => {
  const backend = gpu as unknown as Backend<WebGPUStorage>;
  const x6 = [1, -2, 3.5, 0.25, -0.5, 4];

  async function run(g: Graph, views: boolean): Promise<number[][]> {
    const before = backend.bytesInUse();
    const live = new Set<WebGPUStorage>();
    const strict: Backend<WebGPUStorage> = {
      ...backend,
      name: backend.name,
      upload: (d, t) => backend.upload(d, t),
      readSync: (s, t) => backend.readSync(s, t),
      read: (s, t) => backend.read(s, t),
      bytesInUse: () => backend.bytesInUse(),
      hasKernel: (op) => backend.hasKernel(op),
      dispose: (s) => {
        if (!live.delete(s)) throw new Error('a storage freed twice or never made here');
        backend.dispose(s);
      },
      run: (...args) => {
        const outs = backend.run(...args);
        outs.forEach((o) => live.add(o));
        return outs;
      },
    };
    const input = backend.upload(Float32Array.from(x6), g.inputs[0].type);
    const outs = executeGraph(g, strict, [input], { views });
    const owned = outs.filter((_, i) => ownsOutput(g, i));
    expect(new Set(owned).size).toBe(owned.length);
    expect(new Set(live)).toEqual(new Set(owned));
    const values = await Promise.all(outs.map(async (s, i) => [...(await backend.read(s, g.outputs[i].type))]));
    owned.forEach((s) => strict.dispose(s));
    backend.dispose(input);
    expect(backend.bytesInUse()).toBe(before);
    return values;
  }

  it('chains of views, views of the input, outputs sharing one storage: same values as copying', async () => {
    const g = build([f32(6)], (o, x) => {
      const t = o.exp(o.reshape(x, [2, 3]));
      const u = o.neg(o.reshape(o.reshape(t, [3, 2]), [6]));
      return [o.reshape(x, [3, 2]), t, o.reshape(t, [6]), o.mul(u, o.reshape(t, [6])), o.reshape(u, [2, 3])];
    });
    const copied = await run(g, false);
    expect(await run(g, true)).toEqual(copied);
    expect(copied[0]).toEqual(x6);
  });
});

/**
 * A model with state updates run by the runtime on WebGPU: state() cannot read synchronously
 * there; stateAsync() gives what the same model's state() gives on the CPU after the same runs.
 */
import type { Backend } from '@kiln/core';
import { createOps, GraphBuilder } from '@kiln/core';
import { getBackend } from '@kiln/eager';
import { loadModel } from '@kiln/runtime';
import { writeModel } from '@kiln/serializer';
import { describe, expect, it } from 'vitest';
import { SyncReadError } from '../src/index.js';
import { testBackend } from './helpers/device.js';

const gpu = await testBackend;

/** y = tanh(x @ w); a step moves w by -0.1·xᵀ(1 - y²) (the gradient of sum(y)) and keeps that gradient as w.grad. */
function stepModel(): Uint8Array {
  const b = new GraphBuilder();
  const x = b.input({ dtype: 'float32', shape: [5, 4] }, 'x');
  const w = b.input({ dtype: 'float32', shape: [4, 3] }, 'w');
  const o = createOps(b);
  const y = o.tanh(o.matmul(x, w));
  const grad = o.matmul(o.transpose(x, 0, 1), o.sub(1, o.mul(y, y)));
  const graph = b.build([o.sum(y), o.sub(w, o.mul(grad, 0.1)), grad]);
  const w0 = Float32Array.from({ length: 12 }, (_, i) => (i - 5.5) / 8);
  return writeModel({
    graph,
    signature: {
      inputs: [{ name: 'x', role: 'input' }, { name: 'w', role: 'parameter' }],
      outputs: [{ name: 'y', role: 'output' }, { name: 'w.next', role: 'stateUpdate', target: 1 }, { name: 'w.grad', role: 'gradient', target: 1 }],
      rngKeysPerRun: 0,
    },
    weights: [undefined, w0],
  });
}

describe.skipIf(!gpu)('LoadedModel state on WebGPU', () => {
  it('stateAsync() after three steps equals state() on the CPU; state() throws SyncReadError', async () => {
    const bytes = stepModel();
    const x = { dtype: 'float32' as const, shape: [5, 4], data: Float32Array.from({ length: 20 }, (_, i) => Math.sin(i)) };
    const onCpu = loadModel(bytes, { backend: getBackend('cpu') as Backend<unknown> });
    const onGpu = loadModel(bytes, { backend: gpu! as unknown as Backend<unknown> });
    const initial = await onGpu.stateAsync();
    expect([...initial.keys()]).toEqual(['w']);
    expect([...initial.get('w')!.data]).toEqual([...onCpu.state().get('w')!.data]);
    for (let k = 0; k < 3; k++) {
      onCpu.run(x);
      await onGpu.runAsync(x);
    }
    expect(() => onGpu.state()).toThrow(SyncReadError);
    const bytesBefore = gpu!.bytesInUse();
    const want = onCpu.state();
    const got = await onGpu.stateAsync();
    expect(gpu!.bytesInUse()).toBe(bytesBefore); // reading leaves no GPU storage behind
    expect([...got.keys()].sort()).toEqual(['w', 'w.grad']);
    for (const [name, w] of want) {
      const g = got.get(name)!;
      expect(g.shape, name).toEqual(w.shape);
      expect(g.dtype, name).toBe(w.dtype);
      // float32 on both; WGSL's tanh differs from the CPU's in the last bits.
      for (let i = 0; i < w.data.length; i++) expect(Math.abs(Number(g.data[i]) - Number(w.data[i])), `${name}[${i}]`).toBeLessThan(1e-5);
    }
    expect(got.get('w')!.data.some((v, i) => Math.abs(v - initial.get('w')!.data[i]) > 1e-3)).toBe(true); // the steps moved w
    onCpu.dispose();
    onGpu.dispose();
  });
});

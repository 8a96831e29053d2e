import { ArgumentError, DisposedError } from '@kiln/core';
import { getBackend, manualSeed, memory, noGrad, randn, registerBackend, setBackend, tensor, tidy, type Tensor } from '@kiln/eager';
import { afterEach, describe, expect, it } from 'vitest';
import { SyncReadError } from '../src/index.js';
import { testBackend } from './helpers/device.js';

// Eager tensors on WebGPU through the one Backend interface: eager knows nothing of WebGPU.
const gpu = await testBackend;
if (gpu) registerBackend('webgpu', () => gpu);

describe.skipIf(!gpu)('eager tensors on WebGPU', () => {
  afterEach(() => setBackend('cpu'));

  it('tensor(…, { backend }) and await data(): an op chain runs on the GPU', async () => {
    const x = tensor([[1, -2, 3], [-4, 5, -6]], { dtype: 'float32', backend: 'webgpu' });
    const y = x.relu().mul(2).add(tensor([10, 20, 30], { backend: 'webgpu' }));
    expect(y.backend).toBe('webgpu');
    expect([...(await y.data())]).toEqual([12, 20, 36, 10, 30, 30]);
  });

  it('setBackend("webgpu") makes new tensors there; numbers in ops follow the tensor (x.mul(2) with CPU current)', async () => {
    setBackend('webgpu');
    const a = tensor([1, 2, 3]);
    expect(a.backend).toBe('webgpu');
    setBackend('cpu');
    const b = a.mul(2).add(0.5).gt(3);
    expect(b.backend).toBe('webgpu');
    expect([...(await b.data())]).toEqual([0, 1, 1]);
  });

  it('ops with numbers (a scalar upload each) still batch: 30 ops, one submission at the read', async () => {
    const x = tensor([1, 2], { dtype: 'float32', backend: 'webgpu' });
    await x.data();
    const before = gpu!.submissions;
    const y = tidy(() => {
      let t = x;
      for (let i = 0; i < 30; i++) t = t.add(1).mul(1);
      return t;
    });
    expect(gpu!.submissions).toBe(before);
    expect([...(await y.data())]).toEqual([31, 32]);
    expect(gpu!.submissions).toBe(before + 1);
  });

  it('dataSync(), item() and toArray() throw a SyncReadError pointing to await data()', () => {
    const x = tensor([1.5], { backend: 'webgpu' });
    expect(() => x.dataSync()).toThrow(SyncReadError);
    expect(() => x.item()).toThrow(/can't read a WebGPU tensor synchronously.*await t\.data\(\)/);
    expect(() => x.toArray()).toThrow(SyncReadError);
  });

  it('mixing backends in one op names both and suggests .to()', () => {
    const g = tensor([1, 2], { backend: 'webgpu' });
    const c = tensor([3, 4]);
    expect(() => g.add(c)).toThrow(ArgumentError);
    expect(() => g.add(c)).toThrow("add: b is on backend 'cpu' but a is on 'webgpu'; all inputs of an op must be on one backend: move one with .to('webgpu')");
  });

  it('.to() moves CPU → WebGPU; .toAsync() moves back; both keep dtype and shape', async () => {
    const c = tensor([[true, false], [false, true]]);
    const g = c.to('webgpu');
    expect(g.backend).toBe('webgpu');
    expect(g.to('webgpu')).toBe(g);
    const back = await g.logicalNot().toAsync('cpu');
    expect(back.backend).toBe('cpu');
    expect(back.dtype).toBe('bool');
    expect(back.toArray()).toEqual([[false, true], [true, false]]);
    expect(() => g.to('cpu')).toThrow(SyncReadError);
  });

  it('reading a disposed GPU tensor gives the DisposedError', async () => {
    const x = tensor([1, 2], { backend: 'webgpu' });
    x.dispose();
    await expect(x.data()).rejects.toThrow(DisposedError);
  });

  it('float64 on WebGPU is a DTypeError suggesting float32', () => {
    expect(() => tensor([1, 2], { dtype: 'float64', backend: 'webgpu' })).toThrow(/float64 is not available on WebGPU.*float32/);
  });

  it('tidy frees GPU buffers: bytesInUse and memory() return to where they were', async () => {
    const before = gpu!.bytesInUse();
    const kept = tidy(() => {
      const x = tensor([1, 2, 3, 4], { backend: 'webgpu' });
      return x.exp().log().mul(x).sub(1);
    });
    expect(gpu!.bytesInUse()).toBe(before + 16);
    expect(memory().backends.webgpu.numBytes).toBe(before + 16);
    const got = await kept.data();
    [0, 3, 8, 15].forEach((want, i) => expect(got[i]).toBeCloseTo(want, 5));
    kept.dispose();
    expect(gpu!.bytesInUse()).toBe(before);
    expect(getBackend('webgpu')).toBe(gpu);
  });

  it('autograd trains a small MLP on WebGPU exactly as on CPU (losses agree to float32 rounding)', async () => {
    const train = async (backend: string): Promise<number[]> => {
      setBackend(backend);
      manualSeed(1);
      const x = randn([32, 6]);
      const y = x.matmul(randn([6, 1])).tanh();
      const params = [randn([6, 12]).mul(0.4), randn([12]).mul(0.1), randn([12, 1]).mul(0.4), randn([1]).mul(0.1)];
      params.forEach((p) => (p.requiresGrad = true));
      const [w1, b1, w2, b2] = params;
      const losses: number[] = [];
      for (let step = 0; step < 15; step++) {
        const loss = tidy(() => {
          const out = x.matmul(w1).add(b1).relu().matmul(w2).add(b2);
          const d = out.sub(y);
          const l = d.mul(d).mean();
          l.backward();
          noGrad(() => params.forEach((p: Tensor) => p.assign(p.sub(p.grad!.mul(0.2)))));
          params.forEach((p) => (p.grad = null));
          return l;
        });
        losses.push((await loss.data())[0]);
        loss.dispose();
      }
      [x, y, ...params].forEach((t) => t.dispose());
      return losses;
    };
    const onCpu = await train('cpu');
    const onGpu = await train('webgpu');
    expect(onGpu[14]).toBeLessThan(onGpu[0] * 0.7);
    onGpu.forEach((l, i) => expect(Math.abs(l - onCpu[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(onCpu[i]))));
  });
});

import { ArgumentError, DisposedError } from '@kiln/core';
import { getBackend, memory, registerBackend, setBackend, tensor, tidy } from '@kiln/eager';
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
});

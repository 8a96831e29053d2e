import { DTypeError, getOp, KernelError, KernelRegistry, ShapeError, type TensorType } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { bucketSize, createWebGPUBackend, DeviceLostError, SyncReadError, WebGPUBackend, type WebGPUKernel } from '../src/index.js';
import { requestNodeDevice } from '../src/node.js';
import { testBackend } from './helpers/device.js';

const gpu = await testBackend;
const f32 = (shape: number[]): TensorType => ({ dtype: 'float32', shape });

describe('bucketSize', () => {
  it('rounds to powers of two up to 4 MiB, then to whole MiB', () => {
    expect([1, 16, 17, 100, 4096, 4097].map(bucketSize)).toEqual([16, 16, 32, 128, 4096, 8192]);
    expect(bucketSize(4 * 2 ** 20 + 1)).toBe(5 * 2 ** 20);
    expect(bucketSize(10 * 2 ** 20 - 3)).toBe(10 * 2 ** 20);
  });
});

describe.skipIf(!gpu)('WebGPU backend foundation', () => {
  const g = gpu!;

  it('names its adapter: limits and features as the device granted them', () => {
    const a = g.adapter;
    expect(a.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
    expect(a.limits.maxComputeWorkgroupsPerDimension).toBeGreaterThanOrEqual(65535);
    expect(Array.isArray(a.features)).toBe(true);
    expect(typeof a.description).toBe('string');
  });

  it('uploads and reads back every dtype (bool as u32 on the GPU)', async () => {
    const cases: [TensorType, Float32Array | Int32Array | Uint8Array][] = [
      [f32([3]), new Float32Array([1.5, -0, NaN])],
      [{ dtype: 'int32', shape: [2] }, new Int32Array([-2147483648, 7])],
      [{ dtype: 'bool', shape: [3] }, new Uint8Array([1, 0, 1])],
    ];
    for (const [type, data] of cases) {
      const s = g.upload(data, type);
      const back = await g.read(s, type);
      expect(back.constructor).toBe(data.constructor);
      expect([...back]).toEqual([...data]);
      g.dispose(s);
    }
  });

  it('reuses a disposed buffer of the same bucket and keeps bytesInUse exact', async () => {
    const before = g.bytesInUse();
    const a = g.upload(new Float32Array(100), f32([100]));
    expect(g.bytesInUse()).toBe(before + 400);
    const buffer = a.buffer;
    g.dispose(a);
    expect(g.bytesInUse()).toBe(before);
    const b = g.upload(new Float32Array(120).fill(2), f32([120])); // 480 bytes: the same 512-byte bucket
    expect(b.buffer).toBe(buffer);
    expect((await g.read(b, f32([120])))[119]).toBe(2);
    g.dispose(b);
  });

  it('batches: 40 eager ops before a read make one submission', async () => {
    const relu = getOp('relu');
    let x = g.upload(new Float32Array([-1, 2]), f32([2]));
    g.flush();
    const before = g.submissions;
    for (let i = 0; i < 40; i++) {
      const [y] = g.run(relu, [{ storage: x, type: f32([2]) }], {}, [f32([2])]);
      g.dispose(x);
      x = y;
    }
    expect(g.submissions).toBe(before);
    expect([...(await g.read(x, f32([2])))]).toEqual([0, 2]);
    expect(g.submissions).toBe(before + 1);
    g.dispose(x);
  });

  it('readSync is a SyncReadError that says to await data()', () => {
    const s = g.upload(new Float32Array(1), f32([1]));
    expect(() => g.readSync(s, f32([1]))).toThrow(SyncReadError);
    expect(() => g.readSync(s, f32([1]))).toThrow(/use await t\.data\(\)/);
    g.dispose(s);
  });

  it('float64 is a DTypeError suggesting float32', () => {
    expect(() => g.upload(new Float64Array(2), { dtype: 'float64', shape: [2] })).toThrow(DTypeError);
    expect(() => g.upload(new Float64Array(2), { dtype: 'float64', shape: [2] })).toThrow(/cast to float32/);
  });

  it('a tensor larger than maxStorageBufferBindingSize is a ShapeError naming its size and the limit', () => {
    const limit = g.adapter.limits.maxStorageBufferBindingSize;
    const n = limit / 4 + 1;
    expect(() => g.run(getOp('full'), [], { value: 0 }, [f32([n])])).toThrow(ShapeError);
    expect(() => g.run(getOp('full'), [], { value: 0 }, [f32([n])])).toThrow(`needs ${n * 4} bytes of GPU storage, more than this adapter's maxStorageBufferBindingSize of ${limit} bytes`);
  });

  it('writes into storage offered as `out` (the runtime\'s memory plan)', async () => {
    const x = g.upload(new Float32Array([4, 9]), f32([2]));
    const into = g.upload(new Float32Array(2), f32([2]));
    const [y] = g.run(getOp('sqrt'), [{ storage: x, type: f32([2]) }], {}, [f32([2])], [into]);
    expect(y).toBe(into);
    expect([...(await g.read(y, f32([2])))]).toEqual([2, 3]);
    g.dispose(x);
    g.dispose(y);
  });

  it('dispatches more than 65535 workgroups in 2-D', async () => {
    const registry = new KernelRegistry<WebGPUKernel>('webgpu');
    registry.register('full', (ctx, _inputs, _attrs, [out]) => {
      ctx.launch({ op: 'full', body: '  out0[index] = f32(index);', inputs: [], outputs: [out], threads: out.storage.size, workgroupSize: 1 });
    });
    const b = new WebGPUBackend(g.device, registry);
    const n = 70_000;
    const [s] = b.run(getOp('full'), [], { value: 0 }, [f32([n])]);
    const got = await b.read(s, f32([n]));
    expect(got[0]).toBe(0);
    expect(got[65535]).toBe(65535);
    expect(got[n - 1]).toBe(n - 1);
    b.dispose(s);
  });
});

describe.skipIf(!gpu)('WebGPU errors that need their own device', () => {
  it('a WGSL compile error names the op and the generated line, and is thrown again on the next use', async () => {
    const { device } = await requestNodeDevice();
    const registry = new KernelRegistry<WebGPUKernel>('webgpu');
    registry.register('neg', (ctx, inputs, _attrs, [out]) => {
      ctx.launch({ op: 'neg', body: '  out0[index] = -in0[index] + undefined_thing;', inputs, outputs: [out], threads: out.storage.size });
    });
    const b = new WebGPUBackend(device, registry);
    const x = b.upload(new Float32Array(2), f32([2]));
    const [y] = b.run(getOp('neg'), [{ storage: x, type: f32([2]) }], {}, [f32([2])]);
    const failure = await b.read(y, f32([2])).then(() => null, (e: unknown) => e);
    expect(failure).toBeInstanceOf(KernelError);
    expect((failure as Error).message).toMatch(/the WGSL kernel generated for 'neg' does not compile/);
    expect((failure as Error).message).toMatch(/line \d+:\d+: .*undefined_thing[\s\S]*out0\[index\] = -in0\[index\] \+ undefined_thing;/);
    expect(() => b.run(getOp('neg'), [{ storage: x, type: f32([2]) }], {}, [f32([2])])).toThrow(/'neg' does not compile/);
    b.destroy();
  });

  it('a lost device is a DeviceLostError on the next call; reinitialize() starts over on a new device', async () => {
    const first = await requestNodeDevice();
    const b = createWebGPUBackend(first.device, { adapterInfo: first.adapterInfo });
    const old = b.upload(new Float32Array([1]), f32([1]));
    first.device.destroy();
    await first.device.lost;
    expect(() => b.upload(new Float32Array([1]), f32([1]))).toThrow(DeviceLostError);
    expect(() => b.upload(new Float32Array([1]), f32([1]))).toThrow(/device was lost \(destroyed.*reinitialize/);
    await expect(b.read(old, f32([1]))).rejects.toThrow(DeviceLostError);
    const second = await requestNodeDevice();
    b.reinitialize(second.device, second.adapterInfo);
    expect(b.bytesInUse()).toBe(0);
    const fresh = b.upload(new Float32Array([5]), f32([1]));
    expect([...(await b.read(fresh, f32([1])))]).toEqual([5]);
    await expect(b.read(old, f32([1]))).rejects.toThrow(/created on a GPU device that has since been lost or replaced/);
    b.dispose(old); // harmless: storage from the old device is ignored
    b.dispose(fresh);
    b.destroy();
  });
});

import { ArgumentError } from '@kiln/core';
import { compile } from '@kiln/tracer';
import { gather, indexSelect, registerBackend, scatterAdd, take, tensor, tidy, type Tensor } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { testBackend } from './helpers/device.js';

// Out-of-range indices on WebGPU: the kernel flags them, the next read raises the CPU's error.
const gpu = await testBackend;
if (gpu) registerBackend('webgpu', () => gpu);

const g = (v: unknown, dtype: 'float32' | 'int32' = 'float32'): Tensor => tensor(v as number[], { dtype, backend: 'webgpu' });
const c = (v: unknown, dtype: 'float32' | 'int32' = 'float32'): Tensor => tensor(v as number[], { dtype });

/** The CPU backend's message for the same call: WebGPU's must start with it. */
function cpuMessage(fn: () => Tensor): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ArgumentError);
    return (e as Error).message;
  }
  throw new Error('the CPU backend accepted the bad index');
}

async function gpuError(t: Tensor): Promise<Error> {
  try {
    await t.data();
  } catch (e) {
    expect(e).toBeInstanceOf(ArgumentError);
    return e as Error;
  }
  throw new Error('WebGPU read the out-of-range index without an error');
}

/** A read that must succeed right after: the flag was cleared. */
async function stillGood(): Promise<void> {
  const x = g([[1, 2], [3, 4]]);
  expect([...(await gather(x, 1, g([[1, 0], [0, 1]], 'int32')).data())]).toEqual([2, 1, 3, 4]);
}

describe.skipIf(!gpu)('out-of-range indices on WebGPU', () => {
  const x = [[1, 2, 3], [4, 5, 6]];
  const cases: [string, (mk: typeof g) => Tensor, RegExp][] = [
    ['gather', (mk) => gather(mk(x), 1, mk([[0, 3], [1, 0]], 'int32')), /^gather: index 3 is out of range for axis 1 of size 3 \(x has shape \[2, ?3\]; valid indices are 0\.\.2\); found on WebGPU at flat position 1 of the index tensor/],
    ['gather (negative)', (mk) => gather(mk(x), 0, mk([[0, 1], [-1, 0]], 'int32')), /^gather: index -1 is out of range for axis 0 of size 2 .*position 2 of the index/],
    ['indexSelect', (mk) => indexSelect(mk(x), 0, mk([1, 2], 'int32')), /^indexSelect: index 2 is out of range for axis 0 of size 2 .*position 1 of the index/],
    ['take', (mk) => take(mk(x), mk([5, -7], 'int32')), /^take: index -7 is out of range for x of shape \[2, ?3\] with 6 elements \(valid indices are -6\.\.5\).*position 1 of the index/],
    ['scatterAdd', (mk) => scatterAdd(mk(x), 1, mk([[0, 1], [9, 0]], 'int32'), mk([[1, 1], [1, 1]])), /^scatterAdd: index 9 is out of range for axis 1 of size 3 .*position 2 of the index/],
    ['scatterAdd (negative, axis 0)', (mk) => scatterAdd(mk(x), 0, mk([[0, -2, 1]], 'int32'), mk([[1, 1, 1]])), /^scatterAdd: index -2 is out of range for axis 0 of size 2 .*position 1 of the index/],
  ];

  for (const [name, make, pattern] of cases) {
    it(`${name}: the read raises an ArgumentError worded like the CPU's, and later ops are clean`, async () => {
      const cpu = cpuMessage(() => make(c));
      const t = make(g);
      const e = await gpuError(t);
      expect(e.message).toMatch(pattern);
      expect(e.message.startsWith(cpu)).toBe(true);
      t.dispose();
      await stillGood();
    });
  }

  it('the error surfaces at the next read of any tensor, after later good ops in the same batch; then never again', async () => {
    const x = g([1, 2, 3]);
    const bad = take(x, g([7], 'int32'));
    const fine = x.mul(2);
    await expect(fine.data()).rejects.toThrow(/^take: index 7 is out of range/);
    expect([...(await fine.data())]).toEqual([2, 4, 6]);
    expect([...(await bad.data())]).toEqual([0]); // the flagged element reads 0 once the error is reported
  });

  it('two bad ops before a read: the first one to run is reported', async () => {
    const x = g([1, 2, 3]);
    const a = take(x, g([4], 'int32'));
    const b = take(x, g([-9], 'int32'));
    await expect(b.data()).rejects.toThrow(/^take: index 4 /);
    expect([...(await a.data())]).toEqual([0]);
  });

  it('overlapping reads (Promise.all over a bad result and a good one): exactly one rejects with the error, the flag is then clear', async () => {
    const x = g([1, 2, 3]);
    const bad = take(x, g([3], 'int32'));
    const good = x.add(1);
    const settled = await Promise.allSettled([bad.data(), good.data()]);
    const rejected = settled.filter((r) => r.status === 'rejected');
    expect(rejected.length).toBe(1); // the other read saw the same flag but the tag was already reported
    expect(String((rejected[0] as PromiseRejectedResult).reason.message)).toMatch(/^take: index 3 is out of range/);
    await stillGood();
  });

  it('an empty x along the axis: every index is out of range (scatterAdd runs no element)', async () => {
    const make = (mk: typeof g) => scatterAdd(mk([]).reshape([2, 0]), 1, mk([[0], [0]], 'int32'), mk([[1], [1]]));
    const cpu = cpuMessage(() => make(c));
    const e = await gpuError(make(g));
    expect(e.message.startsWith(cpu)).toBe(true);
    expect(e.message).toMatch(/^scatterAdd: index 0 is out of range for axis 1 of size 0 .*the axis is empty/);
    await stillGood();
  });

  it('a compiled function raises it at the read of its result (runAsync-style await)', async () => {
    const f = compile((x: Tensor, i: Tensor) => tidy(() => gather(x, 0, i).add(1)));
    const x = g([10, 20, 30]);
    await expect(f(x, g([0, 2], 'int32')).data()).resolves.toEqual(new Float32Array([11, 31]));
    await expect(f(x, g([0, 3], 'int32')).data()).rejects.toThrow(/^gather: index 3 is out of range for axis 0 of size 3/);
    await expect(f(x, g([2, 1], 'int32')).data()).resolves.toEqual(new Float32Array([31, 21]));
  });
});

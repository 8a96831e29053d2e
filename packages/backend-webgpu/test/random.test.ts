import { getOp, philoxNormal, philoxUniform, type TensorType } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { testBackend } from './helpers/device.js';

const gpu = await testBackend;
const keyType: TensorType = { dtype: 'int32', shape: [2] };

async function sample(op: 'randomUniform' | 'randomNormal', key: [number, number], size: number): Promise<Float32Array> {
  const g = gpu!;
  const k = g.upload(new Int32Array(key), keyType);
  const out: TensorType = { dtype: 'float32', shape: [size] };
  const [s] = g.run(getOp(op), [{ storage: k, type: keyType }], { shape: [size], dtype: 'float32' }, [out]);
  const got = (await g.read(s, out)) as Float32Array;
  g.dispose(k);
  g.dispose(s);
  return got;
}

// Keys include a negative int32 seed (read as uint32) and sizes that end mid-block.
const KEYS: [number, number][] = [[0, 0], [42, 7], [-1, 123456], [2147483647, -2147483648]];

describe.skipIf(!gpu)('WebGPU random ops reproduce the reference Philox streams', () => {
  it('randomUniform: bit-identical to philoxUniform', async () => {
    for (const key of KEYS) {
      for (const size of [1, 7, 4096 + 3]) {
        const got = await sample('randomUniform', key, size);
        expect([...got]).toEqual([...philoxUniform(key, size, 'float32')]);
      }
    }
  });

  it('randomNormal: philoxNormal to within float32 rounding of log, cos and sin (the reference uses float64)', async () => {
    for (const key of KEYS) {
      const size = 10_001;
      const got = await sample('randomNormal', key, size);
      const want = philoxNormal(key, size, 'float32');
      let worst = 0;
      for (let i = 0; i < size; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect(worst).toBeLessThan(2e-5);
      expect(got.length).toBe(size);
    }
  });
});

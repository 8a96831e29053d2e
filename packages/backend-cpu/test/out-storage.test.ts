import type { TensorType, TypedArray } from '@kiln/core';
import { getOp, KernelError } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/index.js';

const t = (dtype: TensorType['dtype'], ...shape: number[]): TensorType => ({ dtype, shape });

describe('Backend.run with storage offered for the outputs', () => {
  const cpu = createCpuBackend();
  const upload = (data: number[], type: TensorType) => cpu.upload(type.dtype === 'int32' ? Int32Array.from(data) : type.dtype === 'bool' ? Uint8Array.from(data) : Float32Array.from(data), type);
  const garbage = (type: TensorType): TypedArray => {
    const n = type.shape.reduce((a, b) => a * b, 1);
    const a = type.dtype === 'int32' ? new Int32Array(n) : type.dtype === 'bool' ? new Uint8Array(n) : new Float32Array(n);
    return a.fill(77);
  };

  const cases: [string, TensorType[], number[][], Record<string, unknown>, TensorType, number[]][] = [
    ['exp', [t('float32', 2)], [[0, 1]], {}, t('float32', 2), [1, Math.fround(Math.E)]],
    ['cast', [t('float32', 3)], [[1.7, -0.5, NaN]], { dtype: 'int32' }, t('int32', 3), [1, 0, -2147483648]],
    ['add', [t('float32', 2, 2), t('float32', 2)], [[1, 2, 3, 4], [10, 20]], {}, t('float32', 2, 2), [11, 22, 13, 24]],
    ['gt', [t('float32', 2), t('float32', 2)], [[1, 5], [2, 2]], {}, t('bool', 2), [0, 1]],
    ['where', [t('bool', 2), t('float32', 2), t('float32', 2)], [[1, 0], [1, 2], [3, 4]], {}, t('float32', 2), [1, 4]],
    ['matmul', [t('float32', 2, 2), t('float32', 2, 2)], [[1, 2, 3, 4], [1, 0, 0, 1]], {}, t('float32', 2, 2), [1, 2, 3, 4]],
    ['matmul', [t('int32', 2, 2), t('int32', 2, 2)], [[1, 2, 3, 4], [5, 6, 7, 8]], {}, t('int32', 2, 2), [19, 22, 43, 50]],
    ['sum', [t('float32', 2, 2)], [[1, 2, 3, 4]], { axes: [1], keepdims: false }, t('float32', 2), [3, 7]],
    ['permute', [t('float32', 2, 2)], [[1, 2, 3, 4]], { axes: [1, 0] }, t('float32', 2, 2), [1, 3, 2, 4]],
    ['reshape', [t('float32', 2, 2)], [[1, 2, 3, 4]], { shape: [4] }, t('float32', 4), [1, 2, 3, 4]],
    // No in-place support in these kernels: the result is copied into the offered array.
    ['slice', [t('float32', 4)], [[1, 2, 3, 4]], { starts: [1], ends: [3], steps: [1] }, t('float32', 2), [2, 3]],
    ['cumsum', [t('int32', 3)], [[1, 2, 3]], { axis: 0 }, t('int32', 3), [1, 3, 6]],
  ];
  for (const [op, types, data, attrs, outType, expected] of cases) {
    it(`${op} ${types.map((x) => `${x.dtype}[${x.shape}]`).join(' ')} writes into it (over garbage) and returns that same array`, () => {
      const inputs = types.map((type, i) => ({ storage: upload(data[i], type), type }));
      const offered = garbage(outType);
      const before = cpu.bytesInUse();
      const [result] = cpu.run(getOp(op), inputs, attrs as never, [outType], [offered]);
      expect(result).toBe(offered);
      expect(Array.from(result)).toEqual(expected);
      expect(cpu.bytesInUse()).toBe(before); // the caller already counted the offered storage
      inputs.forEach((x) => cpu.dispose(x.storage));
    });
  }

  it('rejects storage of the wrong dtype or size, naming op and output', () => {
    const x = { storage: upload([1, 2], t('float32', 2)), type: t('float32', 2) };
    expect(() => cpu.run(getOp('exp'), [x], {}, [t('float32', 2)], [new Float64Array(2)])).toThrowError(KernelError);
    expect(() => cpu.run(getOp('exp'), [x], {}, [t('float32', 2)], [new Float32Array(3)])).toThrowError("cpu: the storage offered for output 0 of 'exp' is not a float32 array of 2 elements");
    cpu.dispose(x.storage);
  });

  it('makes new storage for outputs without an offer', () => {
    const x = { storage: upload([1, 2], t('float32', 2)), type: t('float32', 2) };
    const before = cpu.bytesInUse();
    const [y] = cpu.run(getOp('neg'), [x], {}, [t('float32', 2)], [undefined]);
    expect(Array.from(y)).toEqual([-1, -2]);
    expect(cpu.bytesInUse() - before).toBe(8);
    cpu.dispose(y);
    cpu.dispose(x.storage);
  });
});

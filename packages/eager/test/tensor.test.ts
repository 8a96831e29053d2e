import { ArgumentError, DisposedError, DTypeError, ShapeError } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { add, cast, gelu, memory, mul, ones, relu, reshape, sub, tensor, Tensor, tidy, where } from '../src/index.js';

describe('tensor()', () => {
  it('infers dtype and shape from nested arrays like PyTorch', () => {
    const a = tensor([[1, 2], [3, 4]]);
    expect(a.dtype).toBe('int32');
    expect(a.shape).toEqual([2, 2]);
    expect(tensor([1, 2.5]).dtype).toBe('float32');
    expect(tensor([true, false]).dtype).toBe('bool');
    expect(tensor(3).shape).toEqual([]);
    expect(tensor(new Float64Array([1, 2])).dtype).toBe('float64');
    expect(tensor([[]]).shape).toEqual([1, 0]);
    expect(tensor(new Float32Array(6), { shape: [2, 3] }).shape).toEqual([2, 3]);
  });

  it('rejects ragged arrays, naming the element', () => {
    expect(() => tensor([[1, 2], [3]])).toThrowError(ArgumentError);
    expect(() => tensor([[1, 2], [3]])).toThrowError(/element \[1\] has length 1 but the first array at this depth has length 2/);
    expect(() => tensor([[1, 2], 3] as never)).toThrowError(/ragged nested array: element \[1\] is a scalar/);
    expect(() => tensor([1, 'a'] as never)).toThrowError(/element \[1\] is string; elements must be numbers or booleans/);
  });

  it('rejects unknown dtypes and shapes that do not fit the data', () => {
    expect(() => tensor([1], 'float16' as never)).toThrowError(DTypeError);
    expect(() => tensor([1], 'float16' as never)).toThrowError(/valid dtypes are bool, int32, float32, float64/);
    expect(() => tensor([1, 2, 3], { shape: [2, 2] })).toThrowError(/holds 4 elements but the data has 3/);
    expect(() => tensor([3e9])).toThrowError(/does not fit int32/);
  });

  it('reads back as arrays, typed arrays and items', async () => {
    const a = tensor([[1.5, 2], [3, 4]]);
    expect(a.toArray()).toEqual([[1.5, 2], [3, 4]]);
    expect(Array.from(await a.data())).toEqual([1.5, 2, 3, 4]);
    expect(tensor([true]).toArray()).toEqual([true]);
    expect(tensor(7).item()).toBe(7);
    expect(() => a.item()).toThrowError(/has 4 elements \(shape \[2,2\]\); item\(\) needs exactly one/);
  });
});

describe('ops and methods', () => {
  it('free functions and methods agree', () => {
    const a = tensor([[1, -2], [3, -4]], 'float32');
    expect(a.add(1).toArray()).toEqual(add(a, 1).toArray());
    expect(a.relu().toArray()).toEqual([[1, 0], [3, 0]]);
    expect(relu(a).mul(2).sub(1).toArray()).toEqual([[1, -1], [5, -1]]);
  });

  it('promotes dtypes like PyTorch, with weak scalars', () => {
    const i = tensor([1, 2]);
    expect(add(i, 1).dtype).toBe('int32');
    expect(add(i, 0.5).dtype).toBe('float32');
    expect(add(i, tensor([1], 'float64')).dtype).toBe('float64');
    expect(mul(tensor([1], 'float64'), 2.5).dtype).toBe('float64');
    expect(i.div(2).toArray()).toEqual([0.5, 1]);
    expect(where(tensor([true, false]), 1, 2.5).toArray()).toEqual([1, 2.5]);
  });

  it('throws shape errors that name the op and both shapes', () => {
    expect(() => add(ones([2, 3]), ones([4]))).toThrowError(ShapeError);
    expect(() => add(ones([2, 3]), ones([4]))).toThrowError('add: cannot broadcast shapes [2,3] (a) and [4] (b): dimension -1 is 3 vs 4');
    expect(() => reshape(ones([2, 3]), [4, 2])).toThrowError(/cannot reshape \[2,3\] \(6 elements\) to \[4,2\] \(8 elements\)/);
  });

  it('rejects non-tensors with a hint', () => {
    expect(() => relu([1, 2] as never)).toThrowError(/relu: x must be a tensor, got an array; wrap it with tensor/);
  });

  it('reshape shares storage instead of copying', () => {
    const before = memory().numBytes;
    const a = ones([256]);
    const b = reshape(a, [16, 16]);
    expect(memory().numBytes - before).toBe(256 * 4);
    a.dispose();
    expect(b.toArray()).toHaveLength(16);
    b.dispose();
    expect(memory().numBytes).toBe(before);
  });
});

describe('memory', () => {
  it('a disposed tensor cannot be used again, and the error says where', () => {
    const a = tensor([1, 2]);
    a.dispose();
    a.dispose(); // harmless
    expect(() => add(a, 1)).toThrowError(DisposedError);
    expect(() => add(a, 1)).toThrowError(/add: a: the tensor \(int32\[2\]\) was disposed/);
    expect(() => a.dataSync()).toThrowError(DisposedError);
    expect(String(a)).toBe('tensor(<disposed>, shape=[2], dtype=int32)');
  });

  it('10,000 ops inside tidy leave no live tensors', () => {
    const start = memory();
    tidy(() => {
      let x = ones([8]);
      for (let i = 0; i < 10_000; i++) x = add(x, 1);
      expect(x.toArray()).toEqual(new Array(8).fill(10_001));
    });
    expect(memory().numTensors).toBe(start.numTensors);
    expect(memory().numBytes).toBe(start.numBytes);
  });

  it('ops free their temporaries (casts, scalars, composite insides)', () => {
    const x = tensor([1, 2, 3]);
    const start = memory();
    const y = gelu(x); // int → float cast, several composite steps, scalar operands
    expect(memory().numTensors).toBe(start.numTensors + 1);
    y.dispose();
    x.dispose();
  });

  it('tidy keeps returned tensors (nested) and frees the rest, also on throw', () => {
    const start = memory().numTensors;
    const { a, list } = tidy(() => {
      const t = ones([2]);
      return { a: add(t, 1), list: [sub(t, 1)] };
    });
    expect(memory().numTensors).toBe(start + 2);
    a.dispose();
    list[0].dispose();
    expect(() => tidy(() => { ones([3]); throw new Error('boom'); })).toThrow('boom');
    expect(memory().numTensors).toBe(start);
  });

  it('using declarations free at block end', () => {
    const start = memory().numTensors;
    {
      using a = ones([4]);
      using b = a.mul(3);
      expect(b.toArray()).toEqual([3, 3, 3, 3]);
    }
    expect(memory().numTensors).toBe(start);
  });

  it('memory() reports bytes per backend', () => {
    const before = memory();
    const a = ones([10], 'float64');
    expect(memory().backends.cpu.numBytes - before.backends.cpu.numBytes).toBe(80);
    a.dispose();
  });
});

describe('toString', () => {
  it('prints like PyTorch', () => {
    expect(String(tensor([[1, 2], [3, 4]], 'float32'))).toBe('tensor([[1., 2.],\n        [3., 4.]])');
    expect(String(tensor([1.5, -2.25]))).toBe('tensor([ 1.5000, -2.2500])');
    expect(String(tensor([1, 2]))).toBe('tensor([1, 2])');
    expect(String(tensor([true, false]))).toBe('tensor([ True, False])');
    expect(String(tensor(3.5))).toBe('tensor(3.5000)');
    expect(String(tensor([1], 'float64'))).toBe('tensor([1.], dtype=float64)');
    expect(String(tensor([1e-5, 1]))).toBe('tensor([1.0000e-05, 1.0000e+00])');
    expect(String(tensor([NaN, 1.5, Infinity]))).toBe('tensor([   nan, 1.5000,    inf])');
    expect(String(ones([2000]))).toBe('tensor([1., 1., 1., ..., 1., 1., 1.])');
  });

  it('is an instance of Tensor with generated methods', () => {
    const t = cast(tensor([1]), 'float32');
    expect(t).toBeInstanceOf(Tensor);
    expect(t.dtype).toBe('float32');
  });
});

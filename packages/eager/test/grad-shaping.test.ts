import { ArgumentError, DTypeError } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../src/index.js';
import {
  broadcastTo, concat, flatten, flip, gather, grad, indexSelect, memory, mul, oneHot, pad, permute, pow, reshape, scatterAdd, slice,
  split, squeeze, stack, sum, take, tensor, tidy, transpose, tril, triu, unsqueeze,
} from '../src/index.js';
import { checkGradients, randomTensor } from './helpers/gradcheck.js';

type Fn = (x: Tensor) => Tensor;

/** A scalar that depends nonlinearly on every element of `y`, so second derivatives are not trivially 0. */
const cubic = (y: Tensor): Tensor => sum(mul(pow(y, 3), randomTensor([...y.shape], 11)));

const x = randomTensor([2, 3, 4], 1);
const idx = (values: number[] | number[][], shape?: number[]) => tensor(values.flat(), { dtype: 'int32', shape: shape ?? [values.length] });

describe('shape ops match finite differences (float64)', () => {
  const unary: Record<string, Fn> = {
    reshape: (t) => reshape(t, [4, -1]),
    'reshape to a scalar-free flat vector': (t) => reshape(t, [-1]),
    permute: (t) => permute(t, [2, 0, 1]),
    'permute, negative axes': (t) => permute(t, [-1, -3, -2]),
    transpose: (t) => transpose(t),
    'transpose 0, 2': (t) => transpose(t, 0, 2),
    squeeze: (t) => squeeze(reshape(t, [2, 1, 3, 4, 1])),
    'squeeze one axis': (t) => squeeze(reshape(t, [2, 1, 3, 4, 1]), -1),
    unsqueeze: (t) => unsqueeze(t, 1),
    'unsqueeze -1': (t) => unsqueeze(t, -1),
    flatten: (t) => flatten(t),
    'flatten 1..2': (t) => flatten(t, 1, 2),
    broadcastTo: (t) => broadcastTo(reshape(t, [2, 1, 3, 1, 4]), [5, 2, 2, 3, 3, 4]),
    'broadcastTo, -1 keeps': (t) => broadcastTo(slice(t, [null, [0, 1]]), [3, 2, -1, 4]),
    flip: (t) => flip(t, [0, 2]),
    'flip -1': (t) => flip(t, -1),
    tril: (t) => tril(t),
    'tril diagonal -1': (t) => tril(t, -1),
    triu: (t) => triu(t),
    'triu diagonal 2': (t) => triu(t, 2),
    split: (t) => concat(split(t, 3, 2).map((p, i) => mul(p, i + 1)), 2), // pieces of 3 and 1, weighted differently
    'split, sections': (t) => mul(split(t, [1, 0, 2], 1)[2], 2),
  };
  for (const [name, f] of Object.entries(unary)) {
    it(name, () => checkGradients(f, [x]));
  }

  it('concat along each axis, and of three inputs', () => {
    const b = randomTensor([2, 3, 2], 2);
    const c = randomTensor([2, 3, 1], 3);
    checkGradients((p, q, r) => concat([p, q, r], -1), [x, b, c]);
    checkGradients((p, q) => concat([p, q], 0), [x, randomTensor([1, 3, 4], 4)]);
    checkGradients((p, q) => concat([p, q], 1), [x, randomTensor([2, 2, 4], 5)]);
  });

  it('concat with an empty input, and w.r.t. one input only', () => {
    const empty = tensor([], { dtype: 'float64', shape: [2, 0, 4] });
    checkGradients((p, q) => concat([p, q, p], 1), [x, empty]);
    checkGradients((p, q) => concat([q, p], 2), [x, randomTensor([2, 3, 2], 6)], { argnums: [1] });
  });

  it('stack along a new first, middle and last axis', () => {
    const b = randomTensor([2, 3, 4], 2);
    for (const axis of [0, 2, -1]) checkGradients((p, q) => stack([p, q, p], axis), [x, b]);
  });

  const slices: Record<string, Parameters<typeof slice>[1]> = {
    'a box': [[0, 1], [1, 3], [1, null]],
    'an index (drops the axis)': [1, null, -2],
    'step 2': [null, [null, null, 2], [1, null, 2]],
    'step 3 with a trailing gap': [null, null, [0, 3, 3]],
    'negative step -1': [[null, null, -1], null, [null, null, -1]],
    'negative step -2': [null, [null, null, -2], [3, 0, -2]],
    'negative step -3': [null, null, [-1, null, -3]],
    'empty on one axis': [null, [2, 1], null],
    'one element, negative step': [[1, 0, -1], [0, 1], [3, 2, -5]],
  };
  for (const [name, specs] of Object.entries(slices)) {
    it(`slice: ${name}`, () => checkGradients((t) => slice(t, specs), [x]));
  }

  const paddings: Record<string, number[]> = {
    'positive': [1, 2],
    'two axes': [0, 1, 2, 0],
    'negative (crops)': [-1, -2, 0, -1],
    'mixed signs': [2, -1, -1, 1, 1, 0],
  };
  for (const [name, padding] of Object.entries(paddings)) {
    it(`pad: ${name}`, () => checkGradients((t) => pad(t, padding, 0.5), [x]));
  }
});

describe('index ops match finite differences (float64)', () => {
  const m = randomTensor([3, 4], 1);
  it('gather along each axis, with repeated indices', () => {
    checkGradients((t) => gather(t, 0, idx([[2, 0, 2, 2], [0, 0, 1, 2]], [2, 4])), [m]);
    checkGradients((t) => gather(t, -1, idx([[3, 3], [0, 1], [2, 2]], [3, 2])), [m]);
    checkGradients((t) => gather(t, 1, idx([[1], [1]], [2, 1])), [m]); // index smaller than x on axis 0
  });

  it('indexSelect with repeats, a scalar index and an empty index', () => {
    checkGradients((t) => indexSelect(t, 0, idx([2, 0, 2])), [m]);
    checkGradients((t) => indexSelect(t, -1, idx([1, 1, 3, 0, 1])), [m]);
    checkGradients((t) => indexSelect(t, 1, tensor(2, 'int32')), [m]);
    checkGradients((t) => mul(indexSelect(t, 0, idx([])), 2), [m]);
  });

  it('take with negative and repeated indices, of any shape', () => {
    checkGradients((t) => take(t, idx([[0, -1, 5], [5, 11, -12]], [2, 3])), [m]);
    checkGradients((t) => take(t, tensor(-3, 'int32')), [m]);
  });

  it('scatterAdd w.r.t. x and src, with collisions', () => {
    const target = randomTensor([3, 4], 2);
    const src = randomTensor([2, 4], 3);
    const index = idx([[0, 1, 2, 0], [0, 2, 2, 1]], [2, 4]);
    checkGradients((p, q) => mul(scatterAdd(p, 0, index, q), scatterAdd(p, 0, index, q)), [target, src]);
    checkGradients((p, q) => scatterAdd(p, 1, idx([[3, 3], [0, 1]], [2, 2]), q), [target, randomTensor([2, 2], 4)]);
  });

  it('scatterAdd: src elements outside index\'s shape get 0', () => {
    const g = grad((s: Tensor) => sum(mul(scatterAdd(tensor([0, 0, 0], 'float64'), 0, idx([0, 2]), s), tensor([1, 2, 3], 'float64'))))(tensor([1, 2, 3, 4], 'float64'));
    expect(g.toArray()).toEqual([1, 3, 0, 0]);
    checkGradients((p, q) => scatterAdd(p, 0, idx([[2], [0]], [2, 1]), q), [randomTensor([3, 2], 5), randomTensor([3, 2], 6)]);
  });

  it('gather accumulates repeated reads', () => {
    const g = grad((t: Tensor) => sum(take(t, idx([1, 1, -1, 0, 1]))))(tensor([5, 6, 7], 'float64'));
    expect(g.toArray()).toEqual([1, 3, 1]);
  });
});

describe('second derivatives of shape ops match finite differences', () => {
  const second: Record<string, Fn> = {
    reshape: (t) => cubic(reshape(t, [3, -1])),
    permute: (t) => cubic(permute(t, [1, 2, 0])),
    broadcastTo: (t) => cubic(broadcastTo(slice(t, [null, [0, 1]]), [2, 2, 3, 4])),
    concat: (t) => cubic(concat([t, slice(t, [null, [1, 3]]), t], 1)),
    'slice, steps 2 and -3': (t) => cubic(slice(t, [[null, null, -1], [null, null, 2], [null, null, -3]])),
    pad: (t) => cubic(pad(t, [1, -1, -1, 2])),
    gather: (t) => cubic(gather(t, 2, idx([0, 3, 3, 1, 2, 2], [1, 3, 2]))),
    take: (t) => cubic(take(t, idx([0, -1, 7, 7]))),
    flip: (t) => cubic(flip(t, 1)),
  };
  for (const [name, f] of Object.entries(second)) {
    it(name, () => checkGradients((t) => grad(f)(t), [x]));
  }
});

describe('shape ops: memory', () => {
  it('backward through slice, pad, concat and the index ops inside tidy leaves only the gradient', () => {
    const w = randomTensor([3, 4], 1).requireGrad();
    const start = memory().numTensors;
    for (let step = 0; step < 20; step++) {
      tidy(() => {
        const y = concat([slice(w, [[null, null, -2], [1, null, 2]]), pad(gather(w, 1, idx([[0, 3], [1, 1], [2, 0]], [3, 2])), [0, 0, -1, 0])], 0);
        sum(mul(y, take(w, idx([0, -1])).sum())).backward();
        w.zeroGrad();
      });
    }
    expect(memory().numTensors).toBe(start);
  });
});

describe('shape ops: errors', () => {
  it('the index of a gather cannot be differentiated', () => {
    const f = (t: Tensor, i: Tensor) => sum(gather(t, 0, i));
    expect(() => grad(f, [0, 1])(randomTensor([3], 1), idx([0, 2]))).toThrowError(ArgumentError);
    expect(() => grad(f, [0, 1])(randomTensor([3], 1), idx([0, 2]))).toThrowError(/argument 1 is int32; only float tensors can be differentiated/);
    expect(() => idx([0]).requireGrad()).toThrowError(DTypeError);
  });

  it('indices computed from a tensor (oneHot of a cast) carry no gradient, and backward says where it stopped', () => {
    const w = tensor([1, 2], 'float64').requireGrad();
    const hot = oneHot(reshape(w, [2]).cast('int32'), 3);
    expect(() => sum(hot.cast('float64')).backward()).toThrowError(ArgumentError);
    expect(() => sum(hot.cast('float64')).backward()).toThrowError(/computed through 'cast', whose output is int32 \(only float tensors carry gradients\)/);
  });
});

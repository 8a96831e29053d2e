import { ArgumentError, DTypeError, ShapeError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { mean, mul, noGrad, randn, sum, tensor, variance } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { checkGradients, randomTensor } from '../../eager/test/helpers/gradcheck.js';
import { BatchNorm1d, BatchNorm2d, Embedding, functional as F } from '../src/index.js';

const close = (a: Tensor, b: Tensor, tol = 1e-6) => {
  const x = a.dataSync();
  const y = b.dataSync();
  expect(x.length).toBe(y.length);
  x.forEach((v, i) => expect(Math.abs(v - y[i])).toBeLessThan(tol));
};

describe('BatchNorm', () => {
  it('updates running statistics with momentum and the unbiased variance, outside autograd', () => {
    const bn = new BatchNorm1d(3, { momentum: 0.2 });
    const x1 = randn([6, 3]).requireGrad();
    const x2 = randn([6, 3]);
    bn.forward(x1);
    bn.forward(x2);
    const expectedMean = noGrad(() => mul(mul(mean(x1, 0), 0.2), 0.8).add(mul(mean(x2, 0), 0.2)));
    const expectedVar = noGrad(() => mul(mul(variance(x1, 0), 0.2).add(0.8), 0.8).add(mul(variance(x2, 0), 0.2)));
    close(bn.runningMean!, expectedMean);
    close(bn.runningVar!, expectedVar);
    expect(bn.numBatchesTracked!.item()).toBe(2);
    expect(bn.runningMean!.requiresGrad || bn.runningVar!.requiresGrad).toBe(false);
    expect(bn.runningMean!.isLeaf).toBe(true);
    bn.dispose();
  });

  it('with momentum null keeps the cumulative average of the batch statistics', () => {
    const bn = new BatchNorm1d(2, { momentum: null, affine: false });
    const xs = [randn([4, 2]), randn([4, 2]), randn([4, 2])];
    for (const x of xs) bn.forward(x);
    close(bn.runningMean!, mul(xs.map((x) => mean(x, 0)).reduce((a, b) => a.add(b)), 1 / 3));
    bn.dispose();
  });

  it('uses the running statistics in eval mode (and does not update them); batch statistics without tracking', () => {
    const bn = new BatchNorm2d(2);
    bn.forward(randn([4, 2, 3, 3], 'float32').mul(3).add(1));
    const rm = bn.runningMean!.toArray();
    bn.eval();
    const x = randn([2, 2, 3, 3]);
    const y = bn.forward(x);
    expect(bn.runningMean!.toArray()).toEqual(rm);
    const byHand = x.sub(bn.runningMean!.reshape([1, 2, 1, 1])).div(bn.runningVar!.add(1e-5).sqrt().reshape([1, 2, 1, 1]));
    close(y, byHand, 1e-5);
    const untracked = new BatchNorm2d(2, { trackRunningStats: false }).eval();
    expect(untracked.buffers()).toEqual([]);
    const z = untracked.forward(x);
    expect(Math.abs(mean(z).item() as number)).toBeLessThan(1e-6);
    bn.dispose();
    untracked.dispose();
  });

  it('checks the input rank, channels, and batch size in training, naming what is valid', () => {
    const bn1 = new BatchNorm1d(3);
    expect(() => bn1.forward(randn([2, 3, 4, 5]))).toThrowError('BatchNorm1d: expected 2-D or 3-D input [N, C, L], got shape [2,3,4,5]');
    expect(() => bn1.forward(randn([2, 4]))).toThrowError(/x has shape \[2,4\], with 4 channels on axis 1, but the layer has numFeatures=3/);
    expect(() => bn1.forward(randn([1, 3]))).toThrowError(/expected more than 1 value per channel when training/);
    expect(bn1.eval().forward(randn([1, 3])).shape).toEqual([1, 3]);
    expect(() => new BatchNorm2d(2).forward(randn([2, 2, 3]))).toThrowError(ShapeError);
    expect(() => new BatchNorm2d(0)).toThrowError(ArgumentError);
    expect(() => new BatchNorm2d(2, { momentum: 2 })).toThrowError(/momentum must be a number in \[0, 1\] or null/);
    bn1.dispose();
  });

  it('matches finite differences through the batch statistics (float64)', () => {
    const x = randomTensor([4, 3, 2], 1);
    const w = randomTensor([3], 2, 1, 1);
    const b = randomTensor([3], 3);
    checkGradients((xx, ww, bb) => F.batchNorm(xx, null, null, { weight: ww, bias: bb, training: true }), [x, w, b]);
  });
});

describe('Embedding', () => {
  it('looks up rows for int32 indices of any shape', () => {
    const emb = new Embedding(4, 2);
    const idx = tensor([[3, 0], [1, 3]]);
    const y = emb.forward(idx);
    expect(y.shape).toEqual([2, 2, 2]);
    const rows = emb.weight.toArray() as number[][];
    expect(y.toArray()).toEqual([[rows[3], rows[0]], [rows[1], rows[3]]]);
    expect(emb.forward(tensor(2)).toArray()).toEqual(rows[2]);
    emb.dispose();
  });

  it('gives the padding row no gradient but still returns its values', () => {
    const emb = new Embedding(3, 2, { paddingIdx: -1 });
    expect(emb.paddingIdx).toBe(2);
    noGrad(() => emb.weight.assign(tensor([[1, 2], [3, 4], [5, 6]], 'float32')));
    const y = emb.forward(tensor([2, 0, 2]));
    expect(y.toArray()).toEqual([[5, 6], [1, 2], [5, 6]]);
    sum(mul(y, tensor([[1, 1], [2, 3], [1, 1]], 'float32'))).backward();
    expect(emb.weight.grad!.toArray()).toEqual([[2, 3], [0, 0], [0, 0]]);
    emb.dispose();
  });

  it('accumulates the cotangent rows of repeated indices into the weight gradient (float64)', () => {
    const emb = new Embedding(4, 3, { dtype: 'float64', paddingIdx: 1 });
    emb.loadStateDict({ weight: randomTensor([4, 3], 4) });
    const idx = tensor([0, 2, 2, 1, 3]);
    const cot = randomTensor([5, 3], 9);
    sum(mul(emb.forward(idx), cot)).backward();
    const g = emb.weight.grad!.toArray() as number[][];
    const c = cot.toArray() as number[][];
    expect(g[1]).toEqual([0, 0, 0]); // padding
    g[0].forEach((v, j) => expect(v).toBeCloseTo(c[0][j], 12));
    g[2].forEach((v, j) => expect(v).toBeCloseTo(c[1][j] + c[2][j], 12));
    g[3].forEach((v, j) => expect(v).toBeCloseTo(c[4][j], 12));
    emb.dispose();
  });

  it('rejects non-int32 indices, out-of-range indices and paddingIdx', () => {
    const emb = new Embedding(4, 2);
    expect(() => emb.forward(tensor([1, 2], 'float32'))).toThrowError(DTypeError);
    expect(() => emb.forward(tensor([1, 2], 'float32'))).toThrowError("Embedding: index must be int32, got float32; convert it with index.cast('int32')");
    expect(() => emb.forward(tensor([1, 4]))).toThrowError(/Embedding: an index is out of range for numEmbeddings=4 \(indexSelect: index 4 is out of range/);
    expect(() => new Embedding(4, 2, { paddingIdx: 4 })).toThrowError(/paddingIdx must be an integer in -4..3/);
    expect(String(new Embedding(4, 2, { paddingIdx: 0 }))).toBe('Embedding(4, 2, paddingIdx=0)');
    emb.dispose();
  });
});

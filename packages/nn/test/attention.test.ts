import { ArgumentError, DTypeError, ShapeError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { full, manualSeed, randn, sum, tensor, transpose, triu, zeros } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { checkGradients, randomTensor } from '../../eager/test/helpers/gradcheck.js';
import { GELU, MultiheadAttention, TransformerEncoderLayer } from '../src/index.js';

const maxDiff = (a: Tensor, b: Tensor) => {
  const x = Array.from(a.dataSync());
  const y = b.dataSync();
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
};

describe('MultiheadAttention', () => {
  it('returns attention weights that sum to 1 over keys, averaged or per head', () => {
    const mha = new MultiheadAttention(8, 2, { batchFirst: true });
    const x = randn([3, 4, 8]);
    const [out, w] = mha.forward(x, x, x);
    expect(out.shape).toEqual([3, 4, 8]);
    expect(w!.shape).toEqual([3, 4, 4]);
    for (const v of sum(w!, -1).dataSync()) expect(v).toBeCloseTo(1, 6);
    const [, perHead] = mha.forward(x, x, x, { averageAttnWeights: false });
    expect(perHead!.shape).toEqual([3, 2, 4, 4]);
    const [, none] = mha.forward(x, x, x, { needWeights: false });
    expect(none).toBeNull();
    mha.dispose();
  });

  it('batchFirst only transposes the layout; a bool mask equals a float -Infinity mask', () => {
    const seqFirst = new MultiheadAttention(6, 3);
    const batchFirst = new MultiheadAttention(6, 3, { batchFirst: true });
    batchFirst.loadStateDict(seqFirst.stateDict());
    const x = randn([5, 2, 6]);
    const [a] = seqFirst.forward(x, x, x);
    const [b] = batchFirst.forward(transpose(x, 0, 1), transpose(x, 0, 1), transpose(x, 0, 1));
    expect(maxDiff(a, transpose(b, 0, 1))).toBeLessThan(1e-6);
    const boolMask = triu(full([5, 5], true, 'bool'), 1);
    const floatMask = triu(full([5, 5], -Infinity), 1);
    const [c, wc] = seqFirst.forward(x, x, x, { attnMask: boolMask });
    const [d] = seqFirst.forward(x, x, x, { attnMask: floatMask });
    expect(maxDiff(c, d)).toBe(0);
    expect((wc!.toArray() as number[][][])[0][0].slice(1)).toEqual([0, 0, 0, 0]); // causal: the first query sees only the first key
    const kpm = tensor([[false, false, false, true, true], [false, false, false, false, false]]);
    const [, wk] = seqFirst.forward(x, x, x, { keyPaddingMask: kpm });
    expect((wk!.toArray() as number[][][])[0].every((row) => row[3] === 0 && row[4] === 0)).toBe(true);
    seqFirst.dispose();
    batchFirst.dispose();
  });

  it('applies dropout to the weights in training only, from the seeded generator', () => {
    const mha = new MultiheadAttention(4, 1, { dropout: 0.5 });
    const x = randn([6, 1, 4]);
    manualSeed(1);
    const [a, wa] = mha.forward(x, x, x);
    manualSeed(1);
    const [b] = mha.forward(x, x, x);
    expect(a.toArray()).toEqual(b.toArray());
    expect(Array.from(wa!.dataSync()).some((v) => v === 0)).toBe(true);
    mha.eval();
    const [c, wc] = mha.forward(x, x, x);
    const [d] = mha.forward(x, x, x);
    expect(c.toArray()).toEqual(d.toArray());
    expect(Array.from(wc!.dataSync()).every((v) => v > 0)).toBe(true);
    mha.dispose();
  });

  it('matches finite differences for query, key and value, with masks (float64)', () => {
    manualSeed(4);
    const mha = new MultiheadAttention(4, 2, { kdim: 3, vdim: 2, dtype: 'float64' });
    const q = randomTensor([3, 2, 4], 1);
    const k = randomTensor([2, 2, 3], 2);
    const v = randomTensor([2, 2, 2], 3);
    const attnMask = tensor([[0, -1], [0.5, 0], [0, 0]], 'float64');
    const keyPaddingMask = tensor([[false, false], [false, true]]);
    checkGradients((qq, kk, vv) => mha.forward(qq, kk, vv, { attnMask, keyPaddingMask })[0], [q, k, v]);
    mha.dispose();
  });

  it('checks shapes, dtypes and arguments, naming what is valid', () => {
    expect(() => new MultiheadAttention(10, 3)).toThrowError('MultiheadAttention: embedDim (10) must be divisible by numHeads (3)');
    expect(() => new MultiheadAttention(8, 2, { dropout: 2 })).toThrowError(ArgumentError);
    const mha = new MultiheadAttention(8, 2);
    const x = zeros([4, 2, 8]);
    expect(() => mha.forward(zeros([2, 2, 2, 8]), x, x)).toThrowError(/query must be 3-D \[L, N, E\] \(batched\) or 2-D \[L, E\]/);
    expect(() => mha.forward(zeros([4, 2, 6]), x, x)).toThrowError('MultiheadAttention: query has shape [4,2,6] but the layer expects 8 features in its last dimension');
    expect(() => mha.forward(x, zeros([4, 3, 8]), zeros([4, 3, 8]))).toThrowError(/key has batch size 3 but query has 2/);
    expect(() => mha.forward(x, zeros([4, 2, 8]), zeros([5, 2, 8]))).toThrowError(/must have the same sequence length/);
    expect(() => mha.forward(x, zeros([4, 8]), x)).toThrowError(ShapeError);
    expect(() => mha.forward(x, x, x, { attnMask: zeros([4, 5]) })).toThrowError('MultiheadAttention: attnMask has shape [4,5]; expected [4,4] or [4,4,4]');
    expect(() => mha.forward(x, x, x, { keyPaddingMask: zeros([4, 2], 'bool') })).toThrowError(/keyPaddingMask has shape \[4,2\]; expected \[2,4\]/);
    expect(() => mha.forward(x, x, x, { attnMask: zeros([4, 4], 'int32') })).toThrowError(DTypeError);
    expect(() => mha.forward(zeros([4, 2, 8], 'int32'), x, x)).toThrowError(DTypeError);
    expect(() => mha.forward(x, x, x, { needWeight: false } as never)).toThrowError(/unknown option 'needWeight'/);
    mha.dispose();
  });
});

describe('TransformerEncoderLayer', () => {
  it("has PyTorch's defaults and submodule names", () => {
    const layer = new TransformerEncoderLayer(8, 2);
    expect(layer.linear1.weight.shape).toEqual([2048, 8]);
    expect([layer.dropout.p, layer.dropout1.p, layer.dropout2.p, layer.selfAttn.dropout]).toEqual([0.1, 0.1, 0.1, 0.1]);
    expect([layer.normFirst, layer.selfAttn.batchFirst]).toEqual([false, false]);
    expect(layer.namedChildren().map(([n]) => n)).toEqual(['selfAttn', 'linear1', 'dropout', 'linear2', 'norm1', 'norm2', 'dropout1', 'dropout2']);
    layer.dispose();
  });

  it('is deterministic in eval mode and stochastic (seeded) in training mode', () => {
    const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true });
    const x = randn([2, 5, 8]);
    manualSeed(3);
    const a = layer.forward(x);
    manualSeed(3);
    expect(layer.forward(x).toArray()).toEqual(a.toArray());
    layer.eval();
    const c = layer.forward(x);
    expect(maxDiff(a, c)).toBeGreaterThan(1e-3);
    expect(layer.forward(x).toArray()).toEqual(c.toArray());
    layer.dispose();
  });

  it('takes a function or a module as the activation (a module is registered)', () => {
    const gelu = new GELU({ approximate: 'tanh' });
    const withModule = new TransformerEncoderLayer(4, 1, { dimFeedforward: 8, dropout: 0, activation: gelu });
    expect(withModule.namedChildren().map(([n]) => n)).toContain('activation');
    let calls = 0;
    const withFn = new TransformerEncoderLayer(4, 1, { dimFeedforward: 8, dropout: 0, activation: (x) => (calls++, x.tanh()) });
    withFn.forward(randn([3, 2, 4]));
    expect(calls).toBe(1);
    expect(() => new TransformerEncoderLayer(4, 1, { activation: 'swish' as 'relu' })).toThrowError(/activation must be 'relu', 'gelu', a function or a module/);
    expect(() => new TransformerEncoderLayer(4, 3)).toThrowError(ArgumentError);
    withModule.dispose();
    withFn.dispose();
  });

  it('matches finite differences for the input with normFirst and a padding mask (float64)', () => {
    manualSeed(8);
    const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, normFirst: true, activation: 'gelu', dtype: 'float64', batchFirst: true });
    const mask = tensor([[false, false, true], [false, false, false]]);
    checkGradients((x) => layer.forward(x, { srcKeyPaddingMask: mask }), [randomTensor([2, 3, 4], 5)]);
    layer.dispose();
  });
});

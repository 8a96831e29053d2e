import { ArgumentError, DTypeError, ShapeError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { tensor } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { checkGradients, randomTensor } from '../../eager/test/helpers/gradcheck.js';
import { binaryCrossEntropyWithLogits, crossEntropy, l1Loss, mseLoss, nllLoss } from '../src/index.js';

const logits = () => tensor([[2, 0.5, -1], [0, 1, 0]], 'float32');

describe('crossEntropy: bad input', () => {
  it('names a label out of range and the valid range', () => {
    expect(() => crossEntropy(logits(), tensor([0, 3], 'int32'))).toThrowError(ArgumentError);
    expect(() => crossEntropy(logits(), tensor([0, 3], 'int32'))).toThrowError(/target holds label 3 \(at flat position 1\), but the input has 3 classes: labels must be in 0\.\.2 \(or equal ignoreIndex, -100\)/);
    expect(() => crossEntropy(logits(), tensor([-1, 0], 'int32'))).toThrowError(/label -1/);
    expect(() => nllLoss(logits(), tensor([5, 0], 'int32'), { ignoreIndex: 7 })).toThrowError(/nllLoss: target holds label 5 .*\(or equal ignoreIndex, 7\)/);
  });

  it('accepts ignoreIndex labels outside the classes', () => {
    expect(() => crossEntropy(logits(), tensor([-100, 1], 'int32'))).not.toThrow();
    expect(() => crossEntropy(logits(), tensor([9, 1], 'int32'), { ignoreIndex: 9 })).not.toThrow();
  });

  it('rejects target shapes that fit neither form', () => {
    expect(() => crossEntropy(logits(), tensor([0, 1, 2], 'int32'))).toThrowError(ShapeError);
    expect(() => crossEntropy(logits(), tensor([0, 1, 2], 'int32'))).toThrowError(/target has shape \[3\] but input has shape \[2,3\]; class-index targets must have shape \[2\]/);
    expect(() => crossEntropy(logits(), tensor([[0.5, 0.5]], 'float32'))).toThrowError(/a float target holds class probabilities and must have the input's shape \[2,3\], got \[1,2\]/);
    expect(() => crossEntropy(tensor(1, 'float32'), tensor(0, 'int32'))).toThrowError(/input must have a class dimension/);
  });

  it('rejects wrong dtypes', () => {
    expect(() => crossEntropy(tensor([[1, 2]], 'int32'), tensor([0], 'int32'))).toThrowError(DTypeError);
    expect(() => crossEntropy(logits(), tensor([true, false]))).toThrowError(/target must be int32 class indices or float class probabilities, got bool/);
    expect(() => nllLoss(logits(), tensor([[0.2, 0.3, 0.5], [1, 0, 0]], 'float32'))).toThrowError(/nllLoss: target must be int32 class indices, got float32/);
  });

  it('checks weight, labelSmoothing, reduction and non-tensors', () => {
    const y = tensor([0, 1], 'int32');
    expect(() => crossEntropy(logits(), y, { weight: tensor([1, 2], 'float32') })).toThrowError(/weight must have shape \[3\] \(one weight per class\), got \[2\]/);
    expect(() => crossEntropy(logits(), y, { labelSmoothing: 1.5 })).toThrowError(/labelSmoothing must be a number in \[0, 1\], got 1.5/);
    expect(() => crossEntropy(logits(), y, { reduction: 'avg' as never })).toThrowError(/reduction must be 'mean', 'sum' or 'none', got "avg"/);
    expect(() => crossEntropy([[1, 2]] as never, y)).toThrowError(/input must be a Tensor, got an array/);
    expect(() => crossEntropy(logits(), y, { ignoreIndex: 0.5 })).toThrowError(/ignoreIndex must be an integer/);
  });
});

describe('elementwise losses: bad input', () => {
  it('requires equal shapes (no silent broadcasting)', () => {
    const a = tensor([[1, 2, 3]], 'float32');
    for (const loss of [mseLoss, l1Loss, binaryCrossEntropyWithLogits]) {
      expect(() => loss(a, tensor([1, 2, 3], 'float32'))).toThrowError(ShapeError);
      expect(() => loss(a, tensor([1, 2, 3], 'float32'))).toThrowError(/target has shape \[3\] but input has shape \[1,3\]; they must be equal/);
    }
  });

  it('checks weight and posWeight broadcast to the input', () => {
    const x = tensor([[1, 2, 3]], 'float32');
    const t = tensor([[1, 0, 1]], 'float32');
    expect(() => binaryCrossEntropyWithLogits(x, t, { posWeight: tensor([1, 2], 'float32') })).toThrowError(/posWeight has shape \[2\], which does not broadcast to the input's shape \[1,3\]/);
    expect(() => binaryCrossEntropyWithLogits(x, t, { weight: tensor([[1], [2]], 'float32') })).toThrowError(ShapeError);
    expect(() => binaryCrossEntropyWithLogits(x, tensor([[1, 0, 1]], 'int32'))).toThrowError(/target must be float32 or float64, got int32/);
    expect(() => mseLoss(tensor([1, 2], 'int32'), tensor([1, 2], 'int32'))).toThrowError(/mseLoss: input must be float32 or float64, got int32/);
  });
});

describe('loss gradients agree with finite differences (float64)', () => {
  const y = tensor([2, 0, 1, 2], 'int32');
  const w = tensor([0.5, 2, 1.5], 'float64');

  it('crossEntropy with weight, smoothing and an ignored target', () => {
    const yi = tensor([2, -100, 1, 0], 'int32');
    checkGradients((x) => crossEntropy(x, yi, { weight: w, labelSmoothing: 0.2 }), [randomTensor([4, 3], 1, 2)]);
    checkGradients((x) => crossEntropy(x, y, { reduction: 'none' }), [randomTensor([4, 3], 2, 2)]);
  });

  it('crossEntropy with probability targets, w.r.t. both inputs', () => {
    const p = tensor([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]], 'float64');
    checkGradients((x: Tensor, t: Tensor) => crossEntropy(x, t, { labelSmoothing: 0.1, weight: w }), [randomTensor([2, 3], 3, 2), p]);
  });

  it('nllLoss over a spatial [N, C, d] input', () => {
    checkGradients((x) => nllLoss(x, tensor([[0, 2], [1, 1]], 'int32'), { weight: w }), [randomTensor([2, 3, 2], 4)]);
  });

  it('binaryCrossEntropyWithLogits, including at x = 0 exactly', () => {
    const x = tensor([[0, 1.5, -2], [4, -0.3, 0]], 'float64');
    const t = tensor([[1, 0.25, 0], [0.5, 1, 0]], 'float64');
    checkGradients((a: Tensor, b: Tensor) => binaryCrossEntropyWithLogits(a, b, { posWeight: tensor([2, 0.5, 1], 'float64'), weight: tensor([1, 3, 0.5], 'float64') }), [x, t]);
  });

  it('mseLoss and l1Loss w.r.t. input and target', () => {
    checkGradients((a: Tensor, b: Tensor) => mseLoss(a, b, { reduction: 'sum' }), [randomTensor([3, 2], 5), randomTensor([3, 2], 6)]);
    checkGradients((a: Tensor, b: Tensor) => l1Loss(a, b), [randomTensor([3, 2], 7), randomTensor([3, 2], 8)]);
  });
});

describe('numerical stability', () => {
  it('binaryCrossEntropyWithLogits stays finite for huge logits, with the exact limits', () => {
    const x = tensor([1e4, -1e4, 1e4, -1e4, 0], 'float32').requireGrad();
    const t = tensor([1, 0, 0, 1, 1], 'float32');
    const loss = binaryCrossEntropyWithLogits(x, t, { reduction: 'none' });
    expect(loss.toArray()).toEqual([0, 0, 1e4, 1e4, Math.fround(Math.LN2)]);
    loss.sum().backward();
    expect(x.grad!.toArray()).toEqual([0, 0, 1, -1, -0.5]);
  });

  it('crossEntropy of huge logits stays finite', () => {
    const x = tensor([[1e4, -1e4, 0]], 'float32').requireGrad();
    const loss = crossEntropy(x, tensor([1], 'int32'));
    expect(loss.item()).toBe(2e4);
    loss.backward();
    expect(x.grad!.toArray()).toEqual([[1, -1, 0]]);
  });

  it('the mean over all-ignored targets is NaN, as PyTorch', () => {
    expect(crossEntropy(logits(), tensor([-100, -100], 'int32')).item()).toBeNaN();
    expect(crossEntropy(logits(), tensor([-100, -100], 'int32'), { reduction: 'sum' }).item()).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import type { Tensor } from '../src/index.js';
import {
  avgPool2d, avgPool2dGrad, conv2d, conv2dTranspose, conv2dWeightGrad, gelu, grad, layerNorm, logSoftmax, matmul, maxPool2d,
  maxPool2dIndices, memory, mul, softmax, sum, tanh, tensor, tidy,
} from '../src/index.js';
import { checkGradients, randomTensor } from './helpers/gradcheck.js';

type P = [number, number];

describe('conv2d gradients match finite differences', () => {
  // Every combination of stride, padding, dilation and groups, on a non-square kernel.
  for (const stride of [1, 2]) {
    for (const padding of [0, 1]) {
      for (const dilation of [1, 2]) {
        for (const groups of [1, 2]) {
          const options = { stride, padding, dilation, groups };
          it(JSON.stringify(options), () => {
            const x = randomTensor([2, 4, 6, 5], 3);
            const w = randomTensor([4, 4 / groups, 2, 3], 5);
            checkGradients((a, b) => conv2d(a, b, null, options), [x, w]);
          });
        }
      }
    }
  }

  it('asymmetric stride, padding and dilation, with bias', () => {
    const options = { stride: [2, 1] as P, padding: [0, 2] as P, dilation: [1, 3] as P };
    checkGradients((a, b, c) => conv2d(a, b, c, options), [randomTensor([1, 3, 7, 4], 2), randomTensor([2, 3, 3, 2], 4), randomTensor([2], 6)]);
  });

  it('stride that skips the last rows and columns (they get zero gradient)', () => {
    const x = randomTensor([1, 2, 6, 6], 7);
    checkGradients((a, b) => conv2d(a, b, null, { stride: 3 }), [x, randomTensor([2, 2, 2, 2], 8)]);
    const dx = grad((a: Tensor) => sum(conv2d(a, randomTensor([2, 2, 2, 2], 8), null, { stride: 3 })))(x);
    expect((dx.toArray() as number[][][][])[0][0][2]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('depthwise (groups = channels), unbatched input', () => {
    checkGradients((a, b) => conv2d(a, b, null, { groups: 3, padding: 1 }), [randomTensor([3, 4, 5], 9), randomTensor([6, 1, 3, 3], 10)]);
  });

  it('only the weight when x is int32', () => {
    const x = tensor([[[[1, 2, 0], [3, -1, 2], [0, 1, 1]]]], 'int32');
    const dw = grad((w: Tensor) => sum(conv2d(x, w)))(tensor([[[[0.5, 1], [1, 2]]]], 'float64'));
    expect(dw.toArray()).toEqual([[[[5, 3], [3, 3]]]]); // each tap sums the 2x2 block of x it visits
  });
});

describe('conv2dTranspose and conv2dWeightGrad gradients match finite differences', () => {
  it('conv2dTranspose with stride, padding, outputPadding, groups and bias', () => {
    const options = { stride: 2, padding: 1, outputPadding: 1, groups: 2 };
    checkGradients((a, b, c) => conv2dTranspose(a, b, c, options), [randomTensor([2, 4, 3, 3], 11), randomTensor([4, 1, 3, 3], 12), randomTensor([2], 13)]);
  });

  it('conv2dTranspose with outputPadding ≥ stride (allowed below the dilation)', () => {
    checkGradients((a, b) => conv2dTranspose(a, b, null, { dilation: 3, outputPadding: [2, 1] }), [randomTensor([1, 2, 3, 3], 14), randomTensor([2, 2, 2, 2], 15)]);
  });

  it('conv2dTranspose unbatched, with dilation', () => {
    checkGradients((a, b) => conv2dTranspose(a, b, null, { stride: [1, 2], dilation: 2 }), [randomTensor([2, 3, 3], 16), randomTensor([2, 3, 2, 2], 17)]);
  });

  it('conv2dWeightGrad with respect to x and gradOutput', () => {
    const options = { stride: 2, padding: 1, dilation: [1, 2] as P, groups: 2 };
    checkGradients((a, g) => conv2dWeightGrad(a, g, [3, 2], options), [randomTensor([2, 4, 6, 6], 18), randomTensor([2, 2, 3, 3], 19)]);
  });
});

describe('second derivatives of conv2d (grad of grad)', () => {
  const f = (x: Tensor, w: Tensor) => sum(tanh(conv2d(x, w, null, { stride: 2, padding: 1, groups: 2 })));
  const x = randomTensor([1, 4, 5, 5], 20);
  const w = randomTensor([4, 2, 3, 3], 21, 0.5);
  it('d(df/dx)', () => checkGradients((a, b) => grad(f, 0)(a, b), [x, w]));
  it('d(df/dw)', () => checkGradients((a, b) => grad(f, 1)(a, b), [x, w]));
});

describe('maxPool2d gradients', () => {
  // Distinct random values, so no window has a tie within the finite-difference step.
  const cases: [string, number[], number | P, object][] = [
    ['k2', [2, 2, 4, 6], 2, {}],
    ['k3 s2 p1', [1, 2, 7, 6], 3, { stride: 2, padding: 1 }],
    ['k [2,3] stride [1,2], overlapping', [1, 1, 5, 7], [2, 3], { stride: [1, 2] }],
    ['dilation 2 padding 1', [1, 2, 7, 7], 3, { dilation: 2, padding: 1 }],
    ['k3 s2 ceilMode', [1, 1, 6, 6], 3, { stride: 2, ceilMode: true }],
    ['unbatched, dilation [2,1] ceilMode', [2, 7, 6], 2, { dilation: [2, 1], stride: 2, ceilMode: true }],
  ];
  for (const [name, shape, k, options] of cases) {
    it(`match finite differences: ${name}`, () => checkGradients((a) => maxPool2d(a, k, options), [randomTensor(shape, 22)]));
  }

  it('route each window to its first maximum, as PyTorch', () => {
    const dx = grad((x: Tensor) => sum(maxPool2d(x, [1, 4])))(tensor([[[[1, 3, 3, 2]]]], 'float64'));
    expect(dx.toArray()).toEqual([[[[0, 1, 0, 0]]]]);
    // Overlapping windows over a constant input: each window's top-left element, accumulated.
    const d2 = grad((x: Tensor) => sum(maxPool2d(x, 2, { stride: 1 })))(tensor([[[[1, 1, 1], [1, 1, 1], [1, 1, 1]]]], 'float64'));
    expect(d2.toArray()).toEqual([[[[1, 1, 0], [1, 1, 0], [0, 0, 0]]]]);
  });

  it('route a window with NaN to its last NaN, as PyTorch', () => {
    const dx = grad((x: Tensor) => sum(maxPool2d(x, [1, 4])))(tensor([[[[1, NaN, 1, NaN]]]], 'float64'));
    expect(dx.toArray()).toEqual([[[[0, 0, 0, 1]]]]);
  });

  it('have second derivatives (through the scatter of the cotangent)', () => {
    const f = (x: Tensor) => sum(tanh(maxPool2d(mul(x, x), 3, { stride: 2, padding: 1 })));
    checkGradients((a) => grad(f)(a), [randomTensor([1, 2, 5, 5], 23)]);
  });

  it('maxPool2dIndices has no gradient, and says so', () => {
    const x = randomTensor([1, 1, 4, 4], 24).requireGrad();
    expect(() => sum(maxPool2dIndices(x, 2).cast('float64')).backward()).toThrowError(/computed through 'maxPool2dIndices', which has no gradient/);
  });
});

describe('avgPool2d gradients match finite differences', () => {
  const cases: [string, number[], number | P, object][] = [
    ['k2', [2, 2, 4, 6], 2, {}],
    ['k3 s2 p1 (countIncludePad)', [1, 2, 7, 6], 3, { stride: 2, padding: 1 }],
    ['k3 s2 p1 countIncludePad false', [1, 2, 7, 6], 3, { stride: 2, padding: 1, countIncludePad: false }],
    ['k3 s2 ceilMode', [1, 1, 6, 6], 3, { stride: 2, ceilMode: true }],
    ['k2 s2 p1 ceilMode countIncludePad false', [1, 1, 5, 5], 2, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }],
    ['k [2,3] stride [1,2], unbatched', [2, 5, 7], [2, 3], { stride: [1, 2] }],
  ];
  for (const [name, shape, k, options] of cases) {
    it(name, () => checkGradients((a) => avgPool2d(a, k, options), [randomTensor(shape, 25)]));
  }

  it('avgPool2dGrad with respect to gradOutput, and second derivatives', () => {
    const options = { stride: 2, padding: 1, ceilMode: true, countIncludePad: false };
    checkGradients((g) => avgPool2dGrad(g, [1, 2, 5, 6], 3, options), [randomTensor([1, 2, 3, 4], 26)]);
    const f = (x: Tensor) => sum(tanh(avgPool2d(mul(x, x), 3, options)));
    checkGradients((a) => grad(f)(a), [randomTensor([1, 2, 5, 6], 27)]);
  });
});

describe('nn composites: gradients match finite differences', () => {
  const x3 = randomTensor([2, 3, 4], 30, 2);
  it('softmax, default and other axes', () => {
    checkGradients((a) => softmax(a), [x3]);
    checkGradients((a) => softmax(a, 1), [x3]);
    checkGradients((a) => softmax(a, 0), [randomTensor([3, 2], 31, 3)]);
  });
  it('logSoftmax, default and other axes', () => {
    checkGradients((a) => logSoftmax(a), [x3]);
    checkGradients((a) => logSoftmax(a, -3), [x3]);
  });
  for (const [name, hasWeight, hasBias] of [['plain', false, false], ['weight', true, false], ['bias', false, true], ['weight and bias', true, true]] as const) {
    it(`layerNorm (${name}) over the last axis and the last two`, () => {
      checkGradients(
        (a, w, b) => layerNorm(a, [4], hasWeight ? w : null, hasBias ? b : null),
        [x3, randomTensor([4], 32), randomTensor([4], 33)],
        { argnums: [0, ...(hasWeight ? [1] : []), ...(hasBias ? [2] : [])] },
      );
      checkGradients(
        (a, w, b) => layerNorm(a, [3, 4], hasWeight ? w : null, hasBias ? b : null, 1e-3),
        [x3, randomTensor([3, 4], 34), randomTensor([3, 4], 35)],
        { argnums: [0, ...(hasWeight ? [1] : []), ...(hasBias ? [2] : [])] },
      );
    });
  }
  it('gelu, exact and tanh forms', () => {
    const x = randomTensor([7], 36, 3);
    checkGradients((a) => gelu(a), [x]);
    checkGradients((a) => gelu(a, 'tanh'), [x]);
  });
});

describe('second derivatives of matmul (grad of grad)', () => {
  const f = (a: Tensor, b: Tensor) => sum(tanh(matmul(a, b)));
  const shapes: [string, number[], number[]][] = [
    ['batched', [2, 3, 4], [2, 4, 2]],
    ['broadcast batch dimensions', [2, 1, 3, 4], [3, 4, 2]],
    ['1-D times batched', [4], [2, 4, 3]],
  ];
  for (const [name, sa, sb] of shapes) {
    const a = randomTensor(sa, 40, 0.7);
    const b = randomTensor(sb, 41, 0.7);
    it(`${name}: d(df/da)`, () => checkGradients((p, q) => grad(f, 0)(p, q), [a, b]));
    it(`${name}: d(df/db)`, () => checkGradients((p, q) => grad(f, 1)(p, q), [a, b]));
  }
});

describe('memory', () => {
  it('conv and pool forward + backward inside tidy leave only the gradients', () => {
    const w = randomTensor([2, 1, 3, 3], 50).requireGrad();
    const x = randomTensor([1, 1, 6, 6], 51);
    const step = () => tidy(() => {
      sum(avgPool2d(maxPool2d(conv2d(x, w, null, { padding: 1 }), 2), 2, { ceilMode: true })).backward();
      w.zeroGrad();
    });
    step();
    const start = memory();
    for (let i = 0; i < 20; i++) step();
    expect(memory().numTensors).toBe(start.numTensors);
    expect(memory().numBytes).toBe(start.numBytes);
  });
});

/**
 * ONNX export cases for shaping, indexing, creation, convolution, pooling and zero-size
 * tensors (see onnx-cases-elementwise.ts for how cases run).
 */
import { ops, tensor } from '@kiln/eager';
import { values } from './onnx-cases-elementwise.js';
import type { OpCase } from './onnx-runner.js';

const ints = (list: number[], shape?: number[]) => (shape ? tensor(list, 'int32').reshape(shape) : tensor(list, 'int32'));

export const SHAPE_CASES: OpCase[] = [
  { name: 'reshape, permute, broadcastTo', covers: ['reshape', 'permute', 'broadcastTo'], fn: (x) => [ops.reshape(x, [4, 6]), ops.permute(x, [2, 0, 1]), ops.broadcastTo(ops.reshape(x, [2, 1, 3, 4]), [2, 5, 3, 4])], inputs: () => [values([2, 3, 4])] },
  { name: 'concat, stack, split', covers: ['concat', 'slice'], fn: (a, b) => [ops.concat([a, b, a], 1), ops.stack([a, a], 0), ...ops.split(b, [1, 2], 1)], inputs: () => [values([2, 2]), values([2, 3], 1)] },
  {
    name: 'slice: steps, backwards through index 0, integer index', covers: ['slice'],
    fn: (x) => [ops.slice(x, [[null, null, -1]]), ops.slice(x, [[1, null, 2], [null, null, -2]]), ops.slice(x, [-1, [4, 0, -1]]), ops.flip(x, [0, 1])],
    inputs: () => [values([5, 6])],
  },
  { name: 'pad with a value, and negative padding that crops', covers: ['pad'], fn: (x, i) => [ops.pad(x, [1, 2, 0, 1], 0.5), ops.pad(x, [-1, 1, 1, -2]), ops.pad(i, [2, 0], 7)], inputs: () => [values([3, 4]), ints([1, 2, 3])] },
  { name: 'tril and triu', covers: ['where'], fn: (x) => [ops.tril(x), ops.triu(x, 1)], inputs: () => [values([4, 4])] },
  {
    name: 'gather, indexSelect, take (negative index), scatterAdd', covers: ['gather', 'indexSelect', 'take', 'scatterAdd'],
    fn: (x, i, j) => [ops.gather(x, 1, i), ops.indexSelect(x, 0, j), ops.take(x, ints([0, 5, -1, 3], [2, 2])), ops.scatterAdd(x, 1, i, ops.ones([3, 2]))],
    inputs: () => [values([3, 4]), ints([0, 3, 1, 1, 2, 0], [3, 2]), ints([2, 0, 2])],
  },
  { name: 'oneHot and eye', covers: ['eq'], fn: (i) => [ops.oneHot(i, 5), ops.eye(3, 4)], inputs: () => [ints([0, 4, 2, 7])] },
  {
    name: 'full (scalar and large), constants made while tracing, arange, linspace', covers: ['full', 'constant', 'arange', 'linspace'],
    fn: (x) => [ops.add(x, ops.full([3, 10], 0.1)), ops.mul(x, tensor([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]])), ops.arange(0.1, 1.3, 0.1), ops.arange(-3, 10, 2, 'int32'), ops.linspace(0, 1, 7), ops.linspace(-5, 5, 4, 'int32'), ops.full([2], true)],
    inputs: () => [values([3, 10])],
  },
  { name: 'matmul with batch broadcasting, int32 matmul', covers: ['matmul'], fn: (a, b, i) => [ops.matmul(a, b), ops.matmul(i, i)], inputs: () => [values([2, 1, 3, 4]), values([3, 4, 5], 1), ints([1, 2, 3, 4], [2, 2])] },
  {
    name: 'conv2d: bias, stride, padding, dilation, groups', covers: ['conv2d'],
    fn: (x, w, b, wg) => [ops.conv2d(x, w, b, { stride: 2, padding: 1 }), ops.conv2d(x, wg, null, { groups: 2, dilation: [2, 1], padding: [2, 0] })],
    inputs: () => [values([2, 4, 7, 6]), values([3, 4, 3, 3], 0.5), values([3], 1), values([6, 2, 3, 2], 0.5)],
    tol: { rtol: 1e-5, atol: 1e-5 },
  },
  {
    name: 'conv2dTranspose: stride, padding, output padding, groups', covers: ['conv2dTranspose'],
    fn: (x, w) => [ops.conv2dTranspose(x, w, null, { stride: 2, padding: 1, outputPadding: 1, groups: 2 })],
    inputs: () => [values([1, 4, 3, 3]), values([4, 3, 3, 3], 0.5)],
    tol: { rtol: 1e-5, atol: 1e-5 },
  },
  {
    name: 'maxPool2d: stride, padding, dilation, ceil mode', covers: ['maxPool2d'],
    fn: (x) => [ops.maxPool2d(x, 2), ops.maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }), ops.maxPool2d(x, [2, 3], { stride: [3, 1], dilation: [2, 1] }), ops.maxPool2d(x, 2, { stride: 3, padding: 1, ceilMode: true })],
    inputs: () => [values([2, 3, 7, 8])],
  },
  {
    name: 'avgPool2d: padding counted or not, ceil mode', covers: ['avgPool2d'],
    fn: (x) => [
      ops.avgPool2d(x, 2), ops.avgPool2d(x, 3, { stride: 2, padding: 1 }), ops.avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }),
      ops.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }), ops.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
      ops.avgPool2d(x, 2, { stride: 3, padding: 1, ceilMode: true }),
    ],
    inputs: () => [values([2, 3, 8, 7])],
  },
  {
    name: 'layerNorm, gelu (erf and tanh), clamp', covers: ['erf', 'tanh', 'rsqrt'],
    fn: (x, w, b) => [ops.layerNorm(x, [4], w, b), ops.gelu(x), ops.gelu(x, 'tanh'), ops.clamp(x, -1, 0.5)],
    inputs: () => [values([3, 4]), values([4], 1), values([4], 0.1)],
  },
  { name: 'zero-size tensors', covers: ['add', 'sum', 'matmul'], fn: (x, w) => [ops.add(x, 1), ops.sum(x, 1), ops.matmul(x, w), ops.concat([x, x], 0)], inputs: () => [ops.zeros([0, 3]), values([3, 2])] },
];

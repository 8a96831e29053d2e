/**
 * ONNX export cases for elementwise ops and reductions: each is a small function over tensors,
 * compiled, exported, run in onnxruntime and compared with the same function run eagerly.
 * Inputs include NaN, ±Infinity, ±0, ties at .5 and values near 0 where the lowering spells
 * Kiln's semantics out (log1p, expm1, sign, Python's remainder).
 */
import type { Tensor } from '@kiln/eager';
import { ops, tensor } from '@kiln/eager';
import type { OpCase } from './onnx-runner.js';

const SPECIAL = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, 1e-10, -1e-10, 0.5, -0.5, 1.5, 2.5, -2.5, 3.7, -3.7, 1e-30, 88, -100, 1];

/** A float32 [3, 6] tensor of the special values. */
export const special = (): Tensor => tensor(SPECIAL, 'float32').reshape([3, 6]);
/** Deterministic "random" values in (-scale, scale). */
export const values = (shape: number[], scale = 3, dtype: 'float32' | 'float64' = 'float32'): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Array.from({ length: n }, (_, i) => scale * Math.sin(1.7 * i + 0.3)), dtype).reshape(shape);
};
const ints = (list: number[], shape?: number[]) => (shape ? tensor(list, 'int32').reshape(shape) : tensor(list, 'int32'));
const bools = (list: boolean[]) => tensor(list);

const unary = (op: string, fn: (x: Tensor) => Tensor, input: () => Tensor = special, tol?: OpCase['tol']): OpCase => ({
  name: `${op} ${input === special ? 'special values' : ''}`.trim(), covers: [op], fn, inputs: () => [input()], ...(tol ? { tol } : {}),
});

const positive = () => tensor([0, 1e-10, 1e-3, 0.5, 1, 2, 1e10, Number.POSITIVE_INFINITY, Number.NaN, -1]);
const nearZero = () => tensor([-1, 3e38, -0.999, -0.5, -1e-5, -1e-12, 0, -0, 1e-12, 1e-7, 1e-5, 0.5, 1, 20, 100, 1e30, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, -2]);
const nearZeroExp = () => tensor([-1000, -50, -1, -1e-5, -1e-12, 0, -0, 1e-12, 1e-7, 1e-5, 0.5, 1, 20, 88, 89, 1000, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN]);

export const ELEMENTWISE_CASES: OpCase[] = [
  unary('neg', (x) => ops.neg(x)),
  unary('abs', (x) => ops.abs(x)),
  unary('sign', (x) => ops.sign(x)),
  { name: 'neg, abs, sign, relu of int32', covers: ['neg', 'abs', 'sign', 'relu'], fn: (x) => [ops.neg(x), ops.abs(x), ops.sign(x), ops.relu(x)], inputs: () => [ints([-3, 0, 5, -2147483647, 7])] },
  unary('exp', (x) => ops.exp(x)),
  unary('log', (x) => ops.log(x), positive),
  unary('log1p', (x) => ops.log1p(x), nearZero, { rtol: 2e-6, atol: 0 }),
  unary('expm1', (x) => ops.expm1(x), nearZeroExp, { rtol: 2e-6, atol: 0 }),
  unary('sqrt', (x) => ops.sqrt(x), positive),
  unary('rsqrt', (x) => ops.rsqrt(x), positive),
  unary('reciprocal', (x) => ops.reciprocal(x)),
  unary('sin', (x) => ops.sin(x), () => values([4, 5], 10)),
  unary('cos', (x) => ops.cos(x), () => values([4, 5], 10)),
  unary('tanh', (x) => ops.tanh(x)),
  unary('sigmoid', (x) => ops.sigmoid(x)),
  unary('relu', (x) => ops.relu(x)),
  unary('erf', (x) => ops.erf(x)),
  unary('floor', (x) => ops.floor(x)),
  unary('ceil', (x) => ops.ceil(x)),
  unary('round', (x) => ops.round(x)),
  { name: 'float64 unary chain', covers: ['exp', 'tanh', 'sqrt'], fn: (x) => ops.sqrt(ops.add(ops.exp(ops.tanh(x)), 1)), inputs: () => [values([3, 4], 3, 'float64')], tol: { rtol: 1e-12 } },
  { name: 'logicalNot of bool, float and int32', covers: ['logicalNot'], fn: (b, x, i) => [ops.logicalNot(b), ops.logicalNot(x), ops.logicalNot(i)], inputs: () => [bools([true, false, true]), special(), ints([0, 3, -1])] },
  { name: 'isNaN of float and int32', covers: ['isNaN'], fn: (x, i) => [ops.isNaN(x), ops.isNaN(i)], inputs: () => [special(), ints([0, 3, -1])] },
  {
    name: 'cast between every dtype', covers: ['cast'],
    fn: (x, i, b) => [ops.cast(ops.clamp(x, -1e9, 1e9), 'int32'), ops.cast(x, 'bool'), ops.cast(x, 'float64'), ops.cast(i, 'float32'), ops.cast(i, 'bool'), ops.cast(b, 'float32'), ops.cast(b, 'int32')],
    inputs: () => [special(), ints([0, 3, -7]), bools([true, false])],
  },
  { name: 'add, sub, mul, div with broadcasting', covers: ['add', 'sub', 'mul', 'div'], fn: (a, b) => [ops.add(a, b), ops.sub(a, b), ops.mul(a, b), ops.div(a, b)], inputs: () => [values([2, 3, 4]), values([3, 1], 2)] },
  { name: 'int32 arithmetic wraps around', covers: ['add', 'sub', 'mul'], fn: (a, b) => [ops.add(a, b), ops.sub(a, b), ops.mul(a, b)], inputs: () => [ints([2147483647, -5, 7, 100000]), ints([1, 3, -2, 100000])] },
  { name: 'pow', covers: ['pow'], fn: (a, b) => ops.pow(a, b), inputs: () => [tensor([2, -2, 0, 0.5, Number.NaN, 4, -8]), tensor([3, 2, 0, -1, 0, 0.5, 1 / 3])] },
  { name: 'maximum and minimum propagate NaN', covers: ['maximum', 'minimum'], fn: (a, b) => [ops.maximum(a, b), ops.minimum(a, b)], inputs: () => [special(), values([3, 6])] },
  { name: 'mod: the sign of the divisor, floats', covers: ['mod'], fn: (a, b) => ops.mod(a, b), inputs: () => [tensor([5.5, -5.5, 5.5, -5.5, 3, -3, 0, 7, Number.NaN]), tensor([2, 2, -2, -2, 3, 3, 5, 0, 1])] },
  { name: 'mod: the sign of the divisor, int32', covers: ['mod'], fn: (a, b) => ops.mod(a, b), inputs: () => [ints([7, -7, 7, -7, 6, 0]), ints([3, 3, -3, -3, 3, 5])] },
  {
    name: 'comparisons of floats with NaN', covers: ['eq', 'ne', 'lt', 'le', 'gt', 'ge'],
    fn: (a, b) => [ops.eq(a, b), ops.ne(a, b), ops.lt(a, b), ops.le(a, b), ops.gt(a, b), ops.ge(a, b)],
    inputs: () => [special(), tensor([0, 1, Number.NaN, -0, 0, 0.5]).reshape([1, 6])],
  },
  {
    name: 'comparisons of bools', covers: ['eq', 'ne', 'lt', 'le', 'gt', 'ge'],
    fn: (a, b) => [ops.eq(a, b), ops.ne(a, b), ops.lt(a, b), ops.le(a, b), ops.gt(a, b), ops.ge(a, b)],
    inputs: () => [bools([true, true, false, false]), bools([true, false, true, false])],
  },
  {
    name: 'logicalAnd, logicalOr, where', covers: ['logicalAnd', 'logicalOr', 'where'],
    fn: (a, b, x) => [ops.logicalAnd(a, b), ops.logicalOr(a, b), ops.where(a, x, ops.neg(x))],
    inputs: () => [bools([true, true, false, false]), bools([true, false, true, false]), values([3, 4])],
  },
];

export const REDUCTION_CASES: OpCase[] = [
  {
    name: 'sum, prod, max, min over axes', covers: ['sum', 'prod', 'max', 'min'],
    fn: (x) => [ops.sum(x, 1), ops.sum(x, [0, 2], true), ops.prod(x, 2), ops.max(x, [0, 1]), ops.min(x, -1, true), ops.sum(x)],
    inputs: () => [values([2, 3, 4])],
  },
  { name: 'max and min propagate NaN', covers: ['max', 'min'], fn: (x) => [ops.max(x, 1), ops.min(x, 1), ops.max(x)], inputs: () => [special()] },
  { name: 'reductions of int32 and bool', covers: ['sum', 'max', 'min'], fn: (i, b) => [ops.sum(i, 0), ops.max(i, 1), ops.max(b, 0), ops.min(b, 0)], inputs: () => [ints([1, -2, 3, 4, 5, -6], [2, 3]), tensor([[true, false], [false, false]])] },
  {
    name: 'argmax and argmin: first of ties, flattened, keepdims', covers: ['argmax', 'argmin'],
    fn: (x) => [ops.argmax(x, 1), ops.argmin(x, 0, true), ops.argmax(x), ops.argmin(x, null, true)],
    inputs: () => [tensor([[1, 5, 5, 0], [7, 7, -1, -1], [2, 0, 3, 3]])],
  },
  { name: 'cumsum', covers: ['cumsum'], fn: (x, i) => [ops.cumsum(x, 1), ops.cumsum(x, 0), ops.cumsum(i, 0)], inputs: () => [values([3, 4]), ints([1, 2, 3, 2147483647])] },
  {
    name: 'composites: mean, var, logsumexp, softmax, logSoftmax', covers: ['sum', 'max', 'exp', 'log'],
    fn: (x) => [ops.mean(x, 1), ops.var(x, [0, 1]), ops.logsumexp(x, 1), ops.softmax(x, 0), ops.logSoftmax(x, 1)],
    inputs: () => [values([4, 5], 20)],
  },
];

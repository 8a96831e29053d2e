import { ops } from './ops.js';

// Every op as a free function, bound to the current interpreter. A test checks that this list
// covers the whole op surface; see @kiln/core's op interfaces for each function's documentation.
export const {
  neg, abs, sign, relu, exp, log, log1p, expm1, sqrt, rsqrt, reciprocal, sin, cos,
  tanh, sigmoid, erf, floor, ceil, round, logicalNot, isNaN, cast, gelu,
  add, sub, mul, div, pow, maximum, minimum, mod, eq, ne, lt, le, gt, ge,
  logicalAnd, logicalOr, where, clamp,
  sum, prod, max, min, mean, logsumexp, argmax, argmin, var: variance, cumsum,
  reshape, permute, transpose, broadcastTo, squeeze, unsqueeze, flatten, concat, stack,
  split, slice, pad, flip, tril, triu, gather, indexSelect, take, scatterAdd, oneHot,
  matmul, softmax, logSoftmax, layerNorm, conv2d, maxPool2d, avgPool2d,
  conv2dTranspose, conv2dWeightGrad, maxPool2dIndices, avgPool2dGrad,
  full, zeros, ones, arange, linspace, eye, zerosLike, onesLike, fullLike, rand, randn,
  randint, uniform, normal, randomUniform, randomNormal,
} = ops;

// `var` is a reserved word, so it cannot be a binding; it is exported under both names.
export { variance as var };

import { ops } from './ops.js';

// Every op as a free function, bound to the current interpreter. A test checks that this list
// covers the whole op surface; see @kiln/core's op interfaces for each function's documentation.
export const {
  neg, abs, sign, exp, log, log1p, expm1, sqrt, rsqrt, reciprocal, sin, cos, tanh, sigmoid, relu, erf,
  floor, ceil, round, logicalNot, isNaN, cast, gelu,
  add, sub, mul, div, pow, maximum, minimum, mod, eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, where, clamp,
  reshape, permute,
  full, zeros, ones,
} = ops;

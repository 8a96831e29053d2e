import type { Ops } from '@kiln/core';
import type { Tensor } from './tensor.js';

/**
 * Ops that are also Tensor methods: every op whose first argument is a tensor
 * (`x.add(y)` ≡ `add(x, y)`). Creation and random ops, `concat`/`stack` (a list first) and
 * `where` (the condition first) are free functions only. A test checks this list against the
 * op surface.
 */
export const TENSOR_METHODS = [
  // unary
  'neg', 'abs', 'sign', 'relu', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'reciprocal', 'sin', 'cos',
  'tanh', 'sigmoid', 'erf', 'floor', 'ceil', 'round', 'logicalNot', 'isNaN', 'cast', 'gelu',
  // binary
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod', 'eq', 'ne', 'lt', 'le', 'gt', 'ge',
  'logicalAnd', 'logicalOr', 'clamp',
  // reduce
  'sum', 'prod', 'max', 'min', 'mean', 'logsumexp', 'argmax', 'argmin', 'var', 'cumsum',
  // shaping
  'reshape', 'permute', 'transpose', 'broadcastTo', 'squeeze', 'unsqueeze', 'flatten', 'split', 'slice',
  'pad', 'flip', 'tril', 'triu', 'gather', 'indexSelect', 'take', 'scatterAdd', 'oneHot',
  // nn
  'matmul', 'softmax', 'logSoftmax', 'layerNorm', 'conv2d', 'maxPool2d', 'avgPool2d',
  'conv2dTranspose', 'conv2dWeightGrad', 'maxPool2dIndices', 'avgPool2dGrad',
  // creation
  'zerosLike', 'onesLike', 'fullLike',
] as const satisfies readonly (keyof Ops<Tensor>)[];

/** Op names that are deliberately not methods. */
export const NOT_METHODS: readonly string[] = [
  'where', 'concat', 'stack', 'full', 'zeros', 'ones', 'arange', 'linspace', 'eye', 'rand', 'randn',
  'randint', 'uniform', 'normal', 'randomUniform', 'randomNormal',
];

type MethodOf<F> = F extends (x: any, ...rest: infer R) => infer Ret ? (...rest: R) => Ret : never;

/** The method form of each op in TENSOR_METHODS, typed from the op surface. */
export type TensorMethods = { [K in (typeof TENSOR_METHODS)[number]]: MethodOf<Ops<Tensor>[K]> };

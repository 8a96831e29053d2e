import type { Ops } from '@kiln/core';
import type { Tensor } from './tensor.js';

/**
 * Ops that are also Tensor methods: every op whose first argument is a tensor
 * (`x.add(y)` ≡ `add(x, y)`). Creation ops, `concat`/`stack` (a list first) and `where`
 * (the condition first) are free functions only. A test checks this list against the op table.
 */
export const TENSOR_METHODS = [
  // unary
  'neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'reciprocal', 'sin', 'cos', 'tanh',
  'sigmoid', 'relu', 'erf', 'floor', 'ceil', 'round', 'logicalNot', 'isNaN', 'cast', 'gelu',
  // binary
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod', 'eq', 'ne', 'lt', 'le', 'gt', 'ge',
  'logicalAnd', 'logicalOr', 'clamp',
  // shaping
  'reshape', 'permute',
] as const satisfies readonly (keyof Ops<Tensor>)[];

/** Op names that are deliberately not methods. */
export const NOT_METHODS: readonly string[] = ['full', 'zeros', 'ones', 'where', 'concat', 'stack'];

type MethodOf<F> = F extends (x: any, ...rest: infer R) => infer Ret ? (...rest: R) => Ret : never;

/** The method form of each op in TENSOR_METHODS, typed from the op surface. */
export type TensorMethods = { [K in (typeof TENSOR_METHODS)[number]]: MethodOf<Ops<Tensor>[K]> };

import type { BinaryOps } from './binary.js';
import { binaryOps } from './binary.js';
import type { CreationOps } from './creation.js';
import { creationOps } from './creation.js';
import type { Interpreter } from './interpreter.js';
import type { NNOps } from './nn.js';
import { nnOps } from './nn.js';
import type { ReduceOps } from './reduce.js';
import { reduceOps } from './reduce.js';
import type { ShapingOps } from './shaping.js';
import { shapingOps } from './shaping.js';
import type { UnaryOps } from './unary.js';
import { unaryOps } from './unary.js';

/** The whole public op surface, generic in the value type (Tensor in eager code). */
export interface Ops<V> extends UnaryOps<V>, BinaryOps<V>, ReduceOps<V>, ShapingOps<V>, NNOps<V>, CreationOps<V> {}

/**
 * Builds the op surface over an interpreter: every public op, written once. Eager code gets it
 * bound to the eager interpreter (see `@kiln/eager`); the tracer binds it to the tracing one.
 *
 * @example
 * ```ts
 * const ops = createOps(typeInterpreter);
 * ops.matmul({ dtype: 'float32', shape: [2, 3] }, { dtype: 'float32', shape: [3, 4] }); // f32[2,4]
 * ```
 */
export function createOps<V>(I: Interpreter<V>): Ops<V> {
  const ops = {} as Ops<V>;
  Object.assign(ops, unaryOps(I, ops), binaryOps(I, ops), reduceOps(I, ops), shapingOps(I, ops), nnOps(I, ops), creationOps(I, ops));
  return ops;
}

import type { DType } from '../dtype.js';
import type { Attrs, OpDef, TensorType } from './op.js';

/**
 * What the op surface binds to. The eager interpreter runs a kernel now; the tracing
 * interpreter records a node; the type interpreter only computes types. Every public op
 * function is written once against this interface (see `createOps`).
 */
export interface Interpreter<V> {
  /** Applies `op` to `inputs` and returns its outputs. Inputs are already values of this interpreter. */
  bind(op: OpDef, inputs: readonly V[], attrs: Attrs): V[];
  /** The dtype and shape of a value. */
  typeOf(value: V): TensorType;
  /** A rank-0 constant holding `value` as `dtype`. */
  scalar(value: number, dtype: DType): V;
  /** Whether `x` is a value of this interpreter (a tensor, a tracer…). */
  isValue(x: unknown): x is V;
  /**
   * A fresh key for the random ops: an int32[2] value `[seed, stream]` from the interpreter's
   * seeded generator, which advances by one stream per call (eager and compiled code alike).
   */
  randomKey(): V;
}

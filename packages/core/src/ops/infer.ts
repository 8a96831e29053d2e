import type { DType } from '../dtype.js';
import { ArgumentError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { shapeToString } from '../shape.js';
import type { Interpreter } from './interpreter.js';
import type { Attrs, OpDef, TensorType } from './op.js';
import { checkAttrs } from './op.js';
import { createOps } from './surface.js';

/** Renders a type as `f32[2,3]`-like text (long dtype names) for messages. */
export function typeToString(t: TensorType): string {
  return `${t.dtype}${shapeToString(t.shape)}`;
}

function checkArity(op: OpDef, inputs: readonly TensorType[]): void {
  const variadic = op.inputs.length > 0 && op.inputs[op.inputs.length - 1].startsWith('...');
  const ok = variadic ? inputs.length >= op.inputs.length - 1 && inputs.length > 0 : inputs.length === op.inputs.length;
  if (!ok) {
    throw new ArgumentError(`${op.name}: expects ${variadic ? 'one or more' : op.inputs.length} input(s) (${op.inputs.join(', ')}), got ${inputs.length}`);
  }
}

/**
 * The output types of `op` applied to inputs of the given types: checks arity and attrs, then
 * runs the shape and dtype rules (composites: expands over types; ops with bodies, such as fused
 * kernels: their `bodyTypes` over `bodies`). Throws the rules' typed errors.
 *
 * @example
 * ```ts
 * inferTypes(getOp('add'), [{ dtype: 'float32', shape: [2, 1] }, { dtype: 'float32', shape: [3] }], {});
 * // [{ dtype: 'float32', shape: [2, 3] }]
 * ```
 */
export function inferTypes(op: OpDef, inputs: readonly TensorType[], attrs: Attrs, bodies?: readonly Graph[]): TensorType[] {
  checkArity(op, inputs);
  checkAttrs(op, attrs);
  if (op.kind === 'composite') return op.expand(typeOps, inputs, attrs, (t) => t);
  // Ops with bodies (fused kernels) take their types from the bodies.
  if (op.bodyTypes) return op.bodyTypes(inputs, attrs, bodies ?? []);
  const shapes = op.shape(inputs, attrs);
  const dtypes = op.dtype(inputs, attrs);
  return shapes.map((shape, i) => ({ shape, dtype: dtypes[i] }));
}

/** An interpreter over types only: binding computes output types. Used for composites and checks. */
export const typeInterpreter: Interpreter<TensorType> = {
  bind: (op, inputs, attrs) => inferTypes(op, inputs, attrs),
  typeOf: (t) => t,
  scalar: (_value: number, dtype: DType) => ({ dtype, shape: [] }),
  randomKey: () => ({ dtype: 'int32', shape: [2] }),
  isValue: (x: unknown): x is TensorType =>
    typeof x === 'object' && x !== null && 'dtype' in x && 'shape' in x && Array.isArray((x as TensorType).shape),
};

const typeOps = createOps(typeInterpreter);

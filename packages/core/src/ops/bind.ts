import type { DType } from '../dtype.js';
import { dtypeOfScalar, promoteTypes, promoteWithScalar } from '../dtype.js';
import { ArgumentError } from '../errors.js';
import type { Interpreter } from './interpreter.js';
import type { Attrs, OpDef } from './op.js';
import type { Ops } from './surface.js';

/** Binds a single-output op. */
export function apply1<V>(I: Interpreter<V>, op: OpDef<any>, inputs: readonly V[], attrs: Attrs = {}): V {
  return I.bind(op as OpDef, inputs, attrs)[0];
}

/** Throws unless `x` is a value of the interpreter (a Tensor in eager code). */
export function expectValue<V>(I: Interpreter<V>, x: unknown, op: string, arg: string): V {
  if (I.isValue(x)) return x;
  const got = x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x;
  throw new ArgumentError(`${op}: ${arg} must be a tensor, got ${got}${Array.isArray(x) ? '; wrap it with tensor(...)' : ''}`);
}

export type Operand<V> = V | number | boolean;

/**
 * Turns tensor-or-number operands into values of one dtype, promoting like PyTorch: tensors by
 * `promoteTypes`, numbers as weak scalars (`promoteWithScalar`). Inserts casts where needed.
 */
export function promoteOperands<V>(I: Interpreter<V>, ops: Ops<V>, operands: readonly Operand<V>[], op: string, names: readonly string[]): { values: V[]; dtype: DType } {
  // The common case — two tensors of one dtype — needs no promotion and no casts.
  if (operands.length === 2 && I.isValue(operands[0]) && I.isValue(operands[1])) {
    const d = I.typeOf(operands[0]).dtype;
    if (I.typeOf(operands[1]).dtype === d) return { values: [operands[0], operands[1]], dtype: d };
  }
  let dtype: DType | undefined;
  operands.forEach((x, i) => {
    if (I.isValue(x)) dtype = dtype ? promoteTypes(dtype, I.typeOf(x).dtype) : I.typeOf(x).dtype;
    else if (typeof x !== 'number' && typeof x !== 'boolean') expectValue(I, x, op, names[i] ?? `input ${i}`);
  });
  for (const x of operands) {
    if (!I.isValue(x)) dtype = dtype === undefined ? dtypeOfScalar(x as number | boolean) : promoteWithScalar(dtype, x as number | boolean);
  }
  const target = dtype as DType;
  const values = operands.map((x) => (I.isValue(x) ? ops.cast(x, target) : I.scalar(Number(x), target)));
  return { values, dtype: target };
}


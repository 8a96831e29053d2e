import type { DType } from '../dtype.js';
import { isFloating } from '../dtype.js';
import { DTypeError } from '../errors.js';
import type { Shape } from '../shape.js';
import { broadcastShapes } from '../shape.js';
import type { Attrs, TensorType } from './op.js';

/** Shape/dtype rule building blocks shared by op definitions. */

export const sameShape = (inputs: readonly TensorType[]): Shape[] => [inputs[0].shape];
export const sameDType = (inputs: readonly TensorType[]): DType[] => [inputs[0].dtype];

export function broadcastRule(names: readonly string[]) {
  return (op: string) => (inputs: readonly TensorType[]): Shape[] => [broadcastShapes(inputs.map((t) => t.shape), op, names)];
}

export type DTypeClass = 'float' | 'numeric' | 'int' | 'bool' | 'any';

const CLASS_TEXT: Record<DTypeClass, string> = {
  float: 'float32 or float64',
  numeric: 'int32, float32 or float64',
  int: 'int32',
  bool: 'bool',
  any: 'any dtype',
};

export function dtypeIn(cls: DTypeClass, dtype: DType): boolean {
  switch (cls) {
    case 'float': return isFloating(dtype);
    case 'numeric': return dtype !== 'bool';
    case 'int': return dtype === 'int32';
    case 'bool': return dtype === 'bool';
    case 'any': return true;
  }
}

/** Throws a DTypeError unless `t.dtype` is in `cls`. */
export function requireDType(op: string, arg: string, t: TensorType, cls: DTypeClass): void {
  if (!dtypeIn(cls, t.dtype)) {
    throw new DTypeError(`${op}: ${arg} must be ${CLASS_TEXT[cls]}, got ${t.dtype}`);
  }
}

/** Throws unless all inputs share one dtype (the op surface inserts casts; a hand-built graph may not). */
export function requireSameDType(op: string, names: readonly string[], inputs: readonly TensorType[]): void {
  const first = inputs[0].dtype;
  inputs.forEach((t, i) => {
    if (t.dtype !== first) {
      throw new DTypeError(
        `${op}: inputs must have one dtype, got ${first} (${names[0]}) and ${t.dtype} (${names[i] ?? `input ${i}`}); cast one of them with cast(x, dtype)`,
      );
    }
  });
}

/** A dtype rule: every input must be in `cls`, output keeps the first input's dtype (or `out`). */
export function elementwiseDType(op: string, names: readonly string[], cls: DTypeClass, out?: DType) {
  return (inputs: readonly TensorType[], _attrs?: Attrs): DType[] => {
    inputs.forEach((t, i) => requireDType(op, names[i] ?? `input ${i}`, t, cls));
    if (inputs.length > 1) requireSameDType(op, names, inputs);
    return [out ?? inputs[0].dtype];
  };
}

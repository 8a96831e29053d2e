import type { DType } from '../dtype.js';
import { checkDType, dtypeOfScalar } from '../dtype.js';
import type { Shape } from '../shape.js';
import { checkShape } from '../shape.js';
import { apply1 } from './bind.js';
import type { Interpreter } from './interpreter.js';
import type { OpDef, PrimitiveDef } from './op.js';
import type { Ops } from './surface.js';

export const FULL: PrimitiveDef<{ shape: readonly number[]; value: number; dtype: DType }> = {
  kind: 'primitive', name: 'full', inputs: [], attrs: { shape: 'ints', value: 'float', dtype: 'dtype' },
  doc: 'A tensor of `shape` filled with `value`.',
  shape: (_inputs, { shape }) => [checkShape(shape, 'full')],
  dtype: (_inputs, { dtype }) => [dtype],
  differentiable: false,
};

export const creationDefs: readonly OpDef<any>[] = [FULL];

/** Ops that create tensors from attributes alone. */
export interface CreationOps<V> {
  /**
   * A tensor of `shape` filled with `value`; the dtype defaults to the value's (int32 for
   * integers, float32 otherwise, bool for booleans).
   * @example `full([2, 2], 7)` → `[[7, 7], [7, 7]]` (int32)
   */
  full(shape: Shape, value: number | boolean, dtype?: DType): V;
  /** Zeros. @example `zeros([2, 3])` → f32[2,3] of 0 */
  zeros(shape: Shape, dtype?: DType): V;
  /** Ones. @example `ones([3], 'int32')` → `[1, 1, 1]` */
  ones(shape: Shape, dtype?: DType): V;
}

export function creationOps<V>(I: Interpreter<V>, _ops: Ops<V>): CreationOps<V> {
  const full = (shape: Shape, value: number | boolean, dtype?: DType): V =>
    apply1(I, FULL, [], { shape: [...checkShape(shape, 'full')], value: Number(value), dtype: dtype === undefined ? dtypeOfScalar(value) : checkDType(dtype, 'full') });
  return {
    full,
    zeros: (shape, dtype = 'float32') => full(shape, 0, dtype),
    ones: (shape, dtype = 'float32') => full(shape, 1, dtype),
  };
}

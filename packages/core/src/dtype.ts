import { DTypeError } from './errors.js';

/** The element types Kiln supports. `float32` is the default. */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';

/** All dtypes, from lowest to highest in the promotion order. */
export const DTYPES: readonly DType[] = ['bool', 'int32', 'float32', 'float64'];

/** The dtype used when none is given (as in PyTorch). */
export const DEFAULT_FLOAT: DType = 'float32';

/** The typed array that stores each dtype (bool is one byte per element, 0 or 1). */
export interface TypedArrayFor {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  bool: Uint8Array;
}
export type TypedArray = TypedArrayFor[DType];

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };
const SHORT: Record<DType, string> = { float32: 'f32', float64: 'f64', int32: 'i32', bool: 'bool' };
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

export function isDType(name: unknown): name is DType {
  return typeof name === 'string' && Object.hasOwn(RANK, name);
}

/** Returns `name` as a DType, or throws a DTypeError listing the valid names. */
export function checkDType(name: unknown, where = 'dtype'): DType {
  if (isDType(name)) return name;
  throw new DTypeError(`${where}: unknown dtype ${JSON.stringify(name)}; valid dtypes are ${DTYPES.join(', ')}`);
}

export function isFloating(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

export function isIntegral(dtype: DType, includeBool = false): boolean {
  return dtype === 'int32' || (includeBool && dtype === 'bool');
}

/** Short name used in printed graphs: f32, f64, i32, bool. */
export function dtypeShortName(dtype: DType): string {
  return SHORT[dtype];
}

export function itemSize(dtype: DType): number {
  return BYTES[dtype];
}

/**
 * The dtype two tensor operands are promoted to, as in PyTorch: bool < int32 < float32 < float64.
 *
 * @example
 * ```ts
 * promoteTypes('int32', 'float32'); // 'float32'
 * promoteTypes('bool', 'int32');    // 'int32'
 * ```
 */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * The dtype of `tensor ⊕ scalar` when the scalar is a JavaScript number. Like PyTorch, a
 * number is "weak": it only lifts the result to a higher category (bool → integer → float),
 * never to a wider type within a category. `int32 + 2` is int32, `int32 + 2.5` is float32,
 * `float64 + 2` stays float64, `bool + 1` is int32.
 */
export function promoteWithScalar(tensorDType: DType, scalar: number | boolean): DType {
  if (typeof scalar === 'boolean') return tensorDType;
  if (isFloating(tensorDType)) return tensorDType;
  if (!Number.isInteger(scalar)) return DEFAULT_FLOAT;
  return tensorDType === 'bool' ? 'int32' : tensorDType;
}

/** The dtype inferred for a bare number: integers are int32, others float32 (PyTorch's rule). */
export function dtypeOfScalar(value: number | boolean): DType {
  if (typeof value === 'boolean') return 'bool';
  return Number.isInteger(value) ? 'int32' : DEFAULT_FLOAT;
}

type TypedArrayConstructor = { new (n: number): TypedArray; new (src: ArrayLike<number>): TypedArray };
const CTORS: Record<DType, TypedArrayConstructor> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  bool: Uint8Array,
};

/** Allocates a zero-filled typed array of `size` elements for `dtype`. */
export function allocTypedArray<D extends DType>(dtype: D, size: number): TypedArrayFor[D] {
  return new CTORS[dtype](size) as TypedArrayFor[D];
}

/** Copies numbers into a typed array of `dtype` (bool: nonzero → 1, int32: truncation toward zero). */
export function toTypedArray<D extends DType>(dtype: D, values: ArrayLike<number>): TypedArrayFor[D] {
  if (dtype === 'bool') {
    const out = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = values[i] ? 1 : 0;
    return out as TypedArrayFor[D];
  }
  return new CTORS[dtype](values) as TypedArrayFor[D];
}

/** The dtype a typed array stores, or undefined for arrays Kiln does not store directly. */
export function dtypeOfTypedArray(array: ArrayBufferView): DType | undefined {
  if (array instanceof Float32Array) return 'float32';
  if (array instanceof Float64Array) return 'float64';
  if (array instanceof Int32Array) return 'int32';
  if (array instanceof Uint8Array) return 'bool';
  return undefined;
}

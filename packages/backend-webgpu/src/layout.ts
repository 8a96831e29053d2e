import type { DType, TypedArray } from '@kiln/core';
import { DTypeError } from '@kiln/core';

/**
 * How each dtype is laid out in GPU storage: float32 as `f32`, int32 as `i32`, bool as one
 * `u32` per element (0 or 1; WGSL has no 8-bit storage type). float64 has no WGSL type.
 */
export const WGSL_TYPE = { float32: 'f32', int32: 'i32', bool: 'u32' } as const;
export type GpuDType = keyof typeof WGSL_TYPE;

/** Bytes per element in GPU storage (4 for every supported dtype). */
export const GPU_ITEM_BYTES = 4;

/** `dtype` if WebGPU can store it, else a DTypeError that says what to do. */
export function checkGpuDType(dtype: DType, where: string): GpuDType {
  if (dtype === 'float64') {
    throw new DTypeError(`${where}: float64 is not available on WebGPU (WGSL has no 64-bit floats); cast to float32 first (x.cast('float32')) or keep the tensor on the 'cpu' backend`);
  }
  return dtype;
}

/** Host data → the bytes GPU storage holds (bool widens to u32). */
export function toGpuBytes(data: TypedArray, dtype: GpuDType): Float32Array | Int32Array | Uint32Array {
  if (dtype === 'bool') return Uint32Array.from(data as Uint8Array);
  return data as Float32Array | Int32Array;
}

/** GPU bytes → the typed array the host API uses for `dtype` (u32 narrows to Uint8Array for bool). */
export function fromGpuBytes(bytes: ArrayBuffer, size: number, dtype: GpuDType): TypedArray {
  if (dtype === 'float32') return new Float32Array(bytes, 0, size).slice();
  if (dtype === 'int32') return new Int32Array(bytes, 0, size).slice();
  return Uint8Array.from(new Uint32Array(bytes, 0, size));
}

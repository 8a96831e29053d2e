import type { DType, Shape, TypedArray } from '@kiln/core';
import type { NestedArray } from './tensor.js';

/** Flat data → nested arrays (booleans for bool). A scalar gives a bare number. */
export function readValue(data: TypedArray, shape: Shape, dtype: DType): NestedArray {
  const conv = dtype === 'bool' ? (v: number) => v !== 0 : (v: number) => v;
  let pos = 0;
  const build = (axis: number): NestedArray => {
    if (axis === shape.length) return conv(data[pos++]);
    const out: NestedArray[] = new Array(shape[axis]);
    for (let i = 0; i < shape[axis]; i++) out[i] = build(axis + 1);
    return out;
  };
  return build(0);
}

import type { DType, Shape } from '@kiln/core';
import { ArgumentError, checkDType, dtypeOfTypedArray, sizeOf } from '@kiln/core';
import { getBackend } from './backends.js';
import { fromHost } from './dispatch.js';
import type { Tensor } from './tensor.js';

/** What `tensor()` accepts: a number or boolean, nested arrays of them, or a typed array. */
export type TensorLike = number | boolean | TensorLikeArray | ArrayBufferView;
export interface TensorLikeArray extends ReadonlyArray<number | boolean | TensorLikeArray> {}

export interface TensorOptions {
  dtype?: DType;
  /** The shape for flat data (a typed array or a flat array); defaults to its length. */
  shape?: Shape;
  /** The backend to create it on ('cpu', 'webgpu', …); defaults to the one `setBackend` chose. */
  backend?: string;
}

/**
 * Makes a tensor from data. The dtype is inferred like PyTorch's (booleans → bool, integers →
 * int32, anything else → float32; a Float64Array → float64) unless given.
 *
 * @example
 * ```ts
 * tensor([[1, 2], [3, 4]]);              // int32[2,2]
 * tensor([0.5, 1], 'float64');           // float64[2]
 * tensor(new Float32Array(6), { shape: [2, 3] });
 * tensor([1, 2], { backend: 'webgpu' });  // after registerBackend('webgpu', …)
 * ```
 */
export function tensor(data: TensorLike, options: DType | TensorOptions = {}): Tensor {
  const opts: TensorOptions = typeof options === 'string' ? { dtype: options } : options;
  const requested = opts.dtype === undefined ? undefined : checkDType(opts.dtype, 'tensor');
  let flat: ArrayLike<number>;
  let shape: number[];
  let inferred: DType;
  if (ArrayBuffer.isView(data)) {
    if (data instanceof DataView) throw new ArgumentError('tensor: a DataView is not supported; pass a typed array');
    const arr = data as unknown as ArrayLike<number>;
    flat = arr;
    shape = [arr.length];
    inferred = dtypeOfTypedArray(data) ?? (data instanceof Float32Array || data instanceof Float64Array ? 'float32' : 'int32');
    if (data instanceof Uint8Array && requested !== 'bool') inferred = 'int32';
    if (typeof (arr as ArrayLike<number | bigint>)[0] === 'bigint') throw new ArgumentError('tensor: BigInt typed arrays are not supported; Kiln has no int64');
  } else {
    const parsed = flatten(data);
    flat = parsed.values;
    shape = parsed.shape;
    inferred = parsed.kind === 'bool' ? 'bool' : parsed.kind === 'int' ? 'int32' : 'float32';
  }
  if (opts.shape !== undefined) {
    if (sizeOf(opts.shape) !== flat.length) {
      throw new ArgumentError(`tensor: shape [${opts.shape.join(',')}] holds ${sizeOf(opts.shape)} elements but the data has ${flat.length}`);
    }
    shape = [...opts.shape];
  }
  const dtype = requested ?? inferred;
  if (dtype === 'int32' && requested === undefined) checkInt32Range(flat);
  return fromHost(flat, shape, dtype, opts.backend === undefined ? undefined : getBackend(opts.backend));
}

function checkInt32Range(values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v > 2147483647 || v < -2147483648) {
      throw new ArgumentError(`tensor: ${v} does not fit int32 (Kiln's integer dtype); pass dtype 'float64' to keep it exactly, or 'float32'`);
    }
  }
}

type Kind = 'bool' | 'int' | 'float';

/** Nested arrays → flat values + shape; throws on ragged arrays or non-numeric elements. */
function flatten(data: number | boolean | TensorLikeArray): { values: number[]; shape: number[]; kind: Kind } {
  const shape: number[] = [];
  for (let d: unknown = data; Array.isArray(d); d = d[0]) shape.push(d.length);
  const values: number[] = [];
  let kind: Kind | undefined;
  const visit = (node: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (Array.isArray(node)) {
        throw new ArgumentError(`tensor: ragged nested array: element ${path} is an array but the elements before it at this depth are scalars; every sub-array at one depth must have the same length`);
      }
      if (typeof node === 'boolean') {
        kind = kind ?? 'bool';
        values.push(node ? 1 : 0);
      } else if (typeof node === 'number') {
        const k: Kind = Number.isInteger(node) ? 'int' : 'float';
        kind = kind === undefined || kind === 'bool' ? k : kind === 'int' ? k : 'float';
        values.push(node);
      } else {
        throw new ArgumentError(`tensor: element ${path || '(root)'} is ${node === null ? 'null' : typeof node}; elements must be numbers or booleans`);
      }
      return;
    }
    if (!Array.isArray(node)) {
      throw new ArgumentError(`tensor: ragged nested array: element ${path} is a scalar but shape [${shape.join(',')}] expects an array of length ${shape[depth]} there`);
    }
    if (node.length !== shape[depth]) {
      throw new ArgumentError(`tensor: ragged nested array: element ${path || '(root)'} has length ${node.length} but the first array at this depth has length ${shape[depth]}; every sub-array at one depth must have the same length`);
    }
    node.forEach((child, i) => visit(child, depth + 1, `${path}[${i}]`));
  };
  visit(data, 0, '');
  return { values, shape, kind: kind ?? 'float' };
}

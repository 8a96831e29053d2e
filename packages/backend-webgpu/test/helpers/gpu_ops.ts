import type { DType, Interpreter, Ops, TypedArray } from '@kiln/core';
import { createOps, inferTypes, toTypedArray } from '@kiln/core';
import type { WebGPUBackend, WebGPUStorage } from '../../src/index.js';

/** A value for running the op surface straight on a WebGPU backend, without eager tensors. */
export interface GpuValue {
  readonly storage: WebGPUStorage;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** The op surface bound to `backend`: each primitive runs its WebGPU kernel, composites expand unless the backend has a fused kernel. */
export function gpuOps(backend: WebGPUBackend, made: (v: GpuValue) => void = () => {}): { ops: Ops<GpuValue>; upload(data: ArrayLike<number>, shape: readonly number[], dtype: DType): GpuValue; read(v: GpuValue): Promise<TypedArray> } {
  let stream = 0;
  const upload = (data: ArrayLike<number>, shape: readonly number[], dtype: DType): GpuValue => {
    const v = { storage: backend.upload(toTypedArray(dtype, data), { shape, dtype }), shape, dtype };
    made(v);
    return v;
  };
  const interpreter: Interpreter<GpuValue> = {
    bind(op, inputs, attrs) {
      if (op.kind === 'composite' && !backend.hasKernel(op.name)) return op.expand(ops, inputs, attrs, (v) => v);
      const types = inferTypes(op, inputs, attrs);
      const out = backend.run(op, inputs.map((x) => ({ storage: x.storage, type: x })), attrs, types);
      return out.map((storage, i) => {
        const v = { storage, ...types[i] };
        made(v);
        return v;
      });
    },
    typeOf: (v) => v,
    scalar: (value, dtype) => upload([value], [], dtype),
    randomKey: () => upload([0, stream++], [2], 'int32'),
    isValue: (x): x is GpuValue => typeof x === 'object' && x !== null && 'storage' in x && 'dtype' in x,
  };
  const ops = createOps(interpreter);
  return { ops, upload, read: (v) => backend.read(v.storage, v) };
}

import type { Attrs, Backend, Graph, KernelInput, OpDef, TensorType, TypedArray } from '@kiln/core';
import { dtypeOfTypedArray, KernelError, KernelRegistry, sizeOf } from '@kiln/core';
import { registerFusedKernels } from './codegen/kernels.js';
import type { CpuKernel, CpuTensor } from './cpu_tensor.js';
import { registerBinaryKernels } from './kernels/binary.js';
import { registerCreationKernels } from './kernels/creation.js';
import { registerNNKernels } from './kernels/nn.js';
import { registerReduceKernels } from './kernels/reduce.js';
import { registerShapingKernels } from './kernels/shaping.js';
import { registerUnaryKernels } from './kernels/unary.js';

/**
 * The CPU backend: typed-array storage and a reference kernel for every primitive op.
 *
 * @example
 * ```ts
 * const cpu = createCpuBackend();
 * const a = cpu.upload(new Float32Array([1, -2]), { dtype: 'float32', shape: [2] });
 * const [b] = cpu.run(getOp('relu'), [{ storage: a, type: { dtype: 'float32', shape: [2] } }], {}, [{ dtype: 'float32', shape: [2] }]);
 * cpu.readSync(b, { dtype: 'float32', shape: [2] }); // Float32Array [1, 0]
 * ```
 */
export class CpuBackend implements Backend<TypedArray> {
  readonly name = 'cpu';
  private bytes = 0;
  constructor(readonly kernels: KernelRegistry<CpuKernel>) {}

  upload(data: TypedArray, _type: TensorType): TypedArray {
    const copy = data.slice();
    this.bytes += copy.byteLength;
    return copy;
  }

  readSync(storage: TypedArray): TypedArray {
    return storage.slice();
  }

  read(storage: TypedArray): Promise<TypedArray> {
    return Promise.resolve(storage.slice());
  }

  dispose(storage: TypedArray): void {
    this.bytes -= storage.byteLength;
  }

  bytesInUse(): number {
    return this.bytes;
  }

  hasKernel(op: string): boolean {
    return this.kernels.has(op);
  }

  /** Writes into the arrays offered in `out` (see Backend.run): in place where the kernel supports it, else by a copy. */
  run(op: OpDef, inputs: readonly KernelInput<TypedArray>[], attrs: Attrs, outputs: readonly TensorType[], out?: readonly (TypedArray | undefined)[], subgraphs?: readonly Graph[]): TypedArray[] {
    const kernel = this.kernels.get(op.name);
    if (out) {
      for (let i = 0; i < out.length; i++) {
        const o = out[i];
        if (o && (dtypeOfTypedArray(o) !== outputs[i].dtype || o.length !== sizeOf(outputs[i].shape))) {
          throw new KernelError(`cpu: the storage offered for output ${i} of '${op.name}' is not a ${outputs[i].dtype} array of ${sizeOf(outputs[i].shape)} elements`);
        }
      }
    }
    const tensors = new Array<CpuTensor>(inputs.length);
    for (let i = 0; i < inputs.length; i++) tensors[i] = { data: inputs[i].storage, shape: inputs[i].type.shape, dtype: inputs[i].type.dtype };
    const results = kernel(tensors, attrs, outputs, out, subgraphs);
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      if (r.length !== sizeOf(outputs[i].shape)) {
        throw new Error(`cpu kernel '${op.name}' returned ${r.length} elements for output ${i}, expected ${sizeOf(outputs[i].shape)} (a kernel bug)`);
      }
      const offered = out?.[i];
      if (r === offered) continue;
      if (offered) {
        offered.set(r);
        results[i] = offered;
        continue;
      }
      this.bytes += r.byteLength;
    }
    return results;
  }
}

/** All CPU kernels, registered explicitly (no side-effect imports). */
export function createCpuKernels(): KernelRegistry<CpuKernel> {
  const registry = new KernelRegistry<CpuKernel>('cpu');
  registerUnaryKernels(registry);
  registerBinaryKernels(registry);
  registerReduceKernels(registry);
  registerShapingKernels(registry);
  registerNNKernels(registry);
  registerCreationKernels(registry);
  registerFusedKernels(registry);
  return registry;
}

export function createCpuBackend(): CpuBackend {
  return new CpuBackend(createCpuKernels());
}

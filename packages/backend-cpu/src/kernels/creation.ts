import type { KernelRegistry } from '@kiln/core';
import { allocTypedArray, sizeOf } from '@kiln/core';
import type { CpuKernel } from '../cpu_tensor.js';

const full: CpuKernel<{ value: number }> = (_inputs, { value }, [out]) => {
  const data = allocTypedArray(out.dtype, sizeOf(out.shape));
  data.fill(out.dtype === 'bool' ? (value ? 1 : 0) : value);
  return [data];
};

export function registerCreationKernels(registry: KernelRegistry<CpuKernel>): void {
  registry.register('full', full);
}

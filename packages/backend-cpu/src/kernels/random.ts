import type { KernelRegistry, RandomFloatDType } from '@kiln/core';
import { philoxNormal, philoxUniform, sizeOf } from '@kiln/core';
import type { CpuKernel } from '../cpu_tensor.js';

// The reference generator in @kiln/core is the kernel: every backend must reproduce it.
const randomUniform: CpuKernel = ([key], _attrs, [out]) => [philoxUniform(key.data, sizeOf(out.shape), out.dtype as RandomFloatDType)];
const randomNormal: CpuKernel = ([key], _attrs, [out]) => [philoxNormal(key.data, sizeOf(out.shape), out.dtype as RandomFloatDType)];

/** Called from registerCreationKernels: the random ops belong to the creation group. */
export function registerRandomKernels(registry: KernelRegistry<CpuKernel>): void {
  registry.register('randomUniform', randomUniform);
  registry.register('randomNormal', randomNormal);
}

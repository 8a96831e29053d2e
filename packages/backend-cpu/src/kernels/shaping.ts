import type { KernelRegistry } from '@kiln/core';
import type { CpuKernel } from '../cpu_tensor.js';

export function registerShapingKernels(_registry: KernelRegistry<CpuKernel>): void {}

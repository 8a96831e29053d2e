import type { KernelRegistry } from '@kiln/core';
import type { CpuKernel } from '../cpu_tensor.js';

export function registerNNKernels(_registry: KernelRegistry<CpuKernel>): void {}

import type { KernelRegistry } from '@kiln/core';
import type { CpuKernel } from '../cpu_tensor.js';

export function registerReduceKernels(_registry: KernelRegistry<CpuKernel>): void {}

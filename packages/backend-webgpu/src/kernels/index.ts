import type { KernelRegistry } from '@kiln/core';
import type { WebGPUKernel } from '../kernel.js';
import { registerCreationKernels } from './creation.js';
import { registerMathKernels } from './math_ops.js';

/** Every WebGPU kernel, registered explicitly (no side-effect imports). */
export function registerWebGPUKernels(registry: KernelRegistry<WebGPUKernel>): void {
  registerMathKernels(registry);
  registerCreationKernels(registry);
}

import type { KernelRegistry } from '@kiln/core';
import type { CpuKernel } from '../cpu_tensor.js';
import { conv2d } from './conv.js';
import { matmul } from './matmul.js';
import { avgPool2d, maxPool2d } from './pool.js';

/** Kernels for the primitive linear-algebra and NN ops; softmax, logSoftmax and layerNorm are composites. */
export function registerNNKernels(registry: KernelRegistry<CpuKernel>): void {
  registry.register('matmul', matmul);
  registry.register('conv2d', conv2d);
  registry.register('maxPool2d', maxPool2d);
  registry.register('avgPool2d', avgPool2d);
}

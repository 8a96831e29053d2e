import type { KernelRegistry } from '@kiln/core';
import type { CpuKernel } from '../cpu_tensor.js';
import { conv2d } from './conv.js';
import { conv2dTranspose, conv2dWeightGrad } from './conv_grad.js';
import { matmul } from './matmul.js';
import { avgPool2d, maxPool2d } from './pool.js';
import { avgPool2dGrad, maxPool2dIndices } from './pool_grad.js';

/** Kernels for the primitive linear-algebra and NN ops; softmax, logSoftmax and layerNorm are composites. */
export function registerNNKernels(registry: KernelRegistry<CpuKernel>): void {
  registry.register('matmul', matmul);
  registry.register('conv2d', conv2d);
  registry.register('maxPool2d', maxPool2d);
  registry.register('avgPool2d', avgPool2d);
  registry.register('conv2dTranspose', conv2dTranspose);
  registry.register('conv2dWeightGrad', conv2dWeightGrad);
  registry.register('maxPool2dIndices', maxPool2dIndices);
  registry.register('avgPool2dGrad', avgPool2dGrad);
}

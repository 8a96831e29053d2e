import type { KernelRegistry } from '@kiln/core';
import type { WebGPUKernel } from '../kernel.js';
import { registerConvKernels } from './conv.js';
import { registerConvGradKernels } from './conv_grad.js';
import { registerCreationKernels } from './creation.js';
import { registerFusedKernels } from './fused.js';
import { registerIndexingKernels } from './indexing.js';
import { registerMathKernels } from './math_ops.js';
import { registerMatmulKernels } from './matmul.js';
import { registerRandomKernels } from './random.js';
import { registerReduceKernels } from './reduce.js';
import { registerShapingKernels } from './shaping.js';

/** Every WebGPU kernel, registered explicitly (no side-effect imports). */
export function registerWebGPUKernels(registry: KernelRegistry<WebGPUKernel>): void {
  registerMathKernels(registry);
  registerCreationKernels(registry);
  registerReduceKernels(registry);
  registerShapingKernels(registry);
  registerIndexingKernels(registry);
  registerMatmulKernels(registry);
  registerRandomKernels(registry);
  registerConvKernels(registry);
  registerConvGradKernels(registry);
  registerFusedKernels(registry);
}

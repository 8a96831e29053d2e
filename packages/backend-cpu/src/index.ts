export { CpuBackend, createCpuBackend, createCpuKernels } from './backend.js';
export type { CpuKernel, CpuTensor } from './cpu_tensor.js';

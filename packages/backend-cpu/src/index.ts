export { CpuBackend, createCpuBackend, createCpuKernels } from './backend.js';
export type { CpuKernel, CpuTensor } from './cpu_tensor.js';
export { compileFused, codegenStats, type CompiledKernel, type FusedFunction } from './codegen/kernel.js';
export { getNumThreads, setNumThreads, usableThreads, parallelFor, kernelMemory, kernelExports, type KernelMemory, type WasmModule } from './threads/pool.js';

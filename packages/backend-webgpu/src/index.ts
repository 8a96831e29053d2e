/// <reference types="@webgpu/types" preserve="true" />
/**
 * `@kiln/backend-webgpu` — WGSL kernels, a buffer pool, batched command submission and async
 * readback, on any `GPUDevice`: `navigator.gpu` in browsers, Dawn in Node (`./node`).
 *
 * @example
 * ```ts
 * import { createWebGPUBackend, requestWebGPUDevice } from '@kiln/backend-webgpu';
 * const { device, adapterInfo } = await requestWebGPUDevice(); // navigator.gpu
 * const backend = createWebGPUBackend(device, { adapterInfo });
 * ```
 */
export { WebGPUBackend, createWebGPUBackend, createWebGPUKernels, type AdapterSummary, type WebGPUBackendOptions } from './backend.js';
export { requestWebGPUDevice, type AcquiredDevice, type DeviceRequest } from './device.js';
export { WebGPUUnavailableError, DeviceLostError, SyncReadError } from './errors.js';
export { WGSL_TYPE, type GpuDType } from './layout.js';
export { bucketSize, type PoolStats } from './pool.js';
export type { WebGPUStorage, GpuTensor } from './storage.js';
export type { WebGPUKernel, KernelContext, Launch } from './kernel.js';

/**
 * What this package is and how far along. `backend` is the name it registers under, the one
 * kernel errors name. `status` is `'working'`: every primitive has a WebGPU kernel
 * (test/coverage.test.ts checks it).
 */
export const PACKAGE_INFO = Object.freeze({
  name: '@kiln/backend-webgpu',
  backend: 'webgpu',
  status: 'working',
} as const);

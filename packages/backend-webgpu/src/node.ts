/// <reference types="@webgpu/types" preserve="true" />
/**
 * `@kiln/backend-webgpu/node`: WebGPU in Node through Dawn (the `webgpu` package). A separate
 * entry so that browser bundles never reach the native module.
 */
import { create, globals } from 'webgpu';
import { type AcquiredDevice, type DeviceRequest, requestWebGPUDevice } from './device.js';
import { WebGPUUnavailableError } from './errors.js';

// Dawn aborts or hangs when the object `create()` returned is collected while its devices live:
// hold it until the device is lost or destroyed, then let go so Node can exit.
const held = new Set<GPU>();

/**
 * A WebGPU device in Node via Dawn (Vulkan on Linux: a GPU driver or Mesa's lavapipe).
 *
 * @example
 * ```ts
 * import { createWebGPUBackend } from '@kiln/backend-webgpu';
 * import { requestNodeDevice } from '@kiln/backend-webgpu/node';
 * const { device, adapterInfo } = await requestNodeDevice();
 * registerBackend('webgpu', () => createWebGPUBackend(device, { adapterInfo }));
 * ```
 */
export async function requestNodeDevice(request: DeviceRequest = {}): Promise<AcquiredDevice> {
  // Dawn's GPU* classes (GPUBufferUsage, GPUMapMode…) are globals in browsers; make them so here.
  for (const [k, v] of Object.entries(globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  let gpu: GPU;
  try {
    gpu = create([]);
  } catch (e) {
    throw new WebGPUUnavailableError(`WebGPU: Dawn (the 'webgpu' package) failed to start: ${(e as Error).message}`);
  }
  held.add(gpu);
  try {
    const acquired = await requestWebGPUDevice(gpu, request);
    void acquired.device.lost.then(() => held.delete(gpu));
    return acquired;
  } catch (e) {
    held.delete(gpu);
    throw e;
  }
}

export { requestWebGPUDevice, type AcquiredDevice, type DeviceRequest };

/// <reference types="@webgpu/types" />
import { WebGPUUnavailableError } from './errors.js';

/** A device with the adapter it came from. */
export interface AcquiredDevice {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  readonly adapterInfo: GPUAdapterInfo;
}

export interface DeviceRequest {
  powerPreference?: GPUPowerPreference;
  /** Ask for `shader-f16` when the adapter has it (default true). */
  f16?: boolean;
}

// Limits Kiln's kernels use: request the adapter's values, not the spec's defaults.
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxStorageBuffersPerShaderStage',
] as const;

/**
 * Requests an adapter and a device from `gpu` (`navigator.gpu` by default, so it works in
 * browsers as is), with the adapter's own limits for what kernels use and `shader-f16` where
 * available. No adapter is a WebGPUUnavailableError that says what to install.
 *
 * @example
 * ```ts
 * const { device, adapterInfo } = await requestWebGPUDevice();
 * const backend = createWebGPUBackend(device, { adapterInfo });
 * ```
 */
export async function requestWebGPUDevice(gpu?: GPU, request: DeviceRequest = {}): Promise<AcquiredDevice> {
  const g = gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!g) {
    throw new WebGPUUnavailableError("WebGPU is not available: there is no navigator.gpu here. In Node, use requestNodeDevice() from '@kiln/backend-webgpu/node'; in a browser, use one with WebGPU enabled");
  }
  const adapter = await g.requestAdapter(request.powerPreference ? { powerPreference: request.powerPreference } : undefined);
  if (!adapter) {
    throw new WebGPUUnavailableError('WebGPU: no adapter was found. Without a GPU on Linux, install a software Vulkan driver (Mesa >= 24 lavapipe: on Debian bookworm `apt-get install -t bookworm-backports mesa-vulkan-drivers`, as scripts/lib/setup.sh does); in a browser, enable WebGPU');
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const requiredFeatures: GPUFeatureName[] = [];
  if (request.f16 !== false && adapter.features.has('shader-f16')) requiredFeatures.push('shader-f16');
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  } catch (e) {
    throw new WebGPUUnavailableError(`WebGPU: the adapter refused a device: ${(e as Error).message}`);
  }
  return { device, adapter, adapterInfo: adapter.info };
}

import { KilnError } from '@kiln/core';

/**
 * No WebGPU adapter could be had: no `navigator.gpu`, no Vulkan/Metal/D3D driver (on Linux
 * without a GPU install Mesa's lavapipe), or the adapter refused a device.
 */
export class WebGPUUnavailableError extends KilnError {}

/** The GPU device was lost (driver reset, `device.destroy()`, out of memory). */
export class DeviceLostError extends KilnError {}

/**
 * A WebGPU tensor read synchronously (`dataSync()`, `item()`, `toArray()`, printing): GPU
 * readback is asynchronous; `await t.data()` instead.
 */
export class SyncReadError extends KilnError {}

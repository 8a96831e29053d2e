/// <reference types="@webgpu/types" />
import type { Shape } from '@kiln/core';
import type { GpuDType } from './layout.js';

/**
 * The storage of one WebGPU tensor: a pooled GPU buffer (its bucket may be larger than
 * `bytes`), contiguous row-major, 4 bytes per element (see layout.ts).
 */
export interface WebGPUStorage {
  readonly buffer: GPUBuffer;
  /** Bytes the tensor uses (4 × size). */
  readonly bytes: number;
  readonly size: number;
  readonly dtype: GpuDType;
  /** The device generation it was made on: storage from before a device loss is dead. */
  readonly generation: number;
}

/** A tensor as WebGPU kernels see it. */
export interface GpuTensor {
  readonly storage: WebGPUStorage;
  readonly shape: Shape;
  readonly dtype: GpuDType;
  /**
   * Set on an output that is storage the caller offered (`out`): it may still be read by passes
   * encoded but not yet submitted, so host writes into it must wait for them.
   */
  readonly offered?: boolean;
}

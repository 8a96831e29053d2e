/// <reference types="@webgpu/types" />
import { ArgumentError } from '@kiln/core';

/** Bytes of the device's error-flag buffer: [tag, index value (i32 bits), position, unused]. */
export const INDEX_ERROR_BYTES = 16;

/** What a launch that checks indices tells the host, to word the error if the GPU flags one. */
export interface IndexCheck {
  /** The message for offending index `k` at flat position `position` of the index tensor. */
  readonly message: (k: number, position: number) => string;
}

/**
 * GPU kernels cannot throw, so indexing kernels record their first out-of-range index in a
 * small storage buffer: word 0 takes the launch's tag by compare-and-swap from 0 (so the first
 * launch to fail wins, and within it one offending invocation), words 1–2 the index value and
 * its position. Every read copies the buffer beside the tensor it reads; a set tag becomes an
 * ArgumentError worded like the CPU backend's, the buffer is cleared, and later ops run clean.
 */
export class IndexErrorLog {
  readonly buffer: GPUBuffer;
  private readonly checks = new Map<number, IndexCheck>();
  private next = 1;

  constructor(private readonly device: GPUDevice) {
    this.buffer = device.createBuffer({ size: INDEX_ERROR_BYTES, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  }

  /** A tag for one launch (0 is 'no error', so tags start at 1). */
  tag(check: IndexCheck): number {
    const t = this.next;
    this.next = this.next >= 0xfffffff0 ? 1 : this.next + 1;
    this.checks.set(t, check);
    return t;
  }

  /** The last tag handed out: every launch with a tag up to it is submitted once the batch is flushed. */
  get last(): number {
    return this.next - 1;
  }

  /**
   * Reads the words a read copied; forgets the checks of launches up to `upTo` (they have run).
   * Returns the error to raise, or null. Clears the flag when it was set.
   */
  consume(words: Uint32Array, upTo: number): ArgumentError | null {
    const [tag, bits, position] = words;
    const check = tag !== 0 ? this.checks.get(tag) : undefined;
    for (const t of this.checks.keys()) if (t <= upTo) this.checks.delete(t);
    // No tag, or one a read that finished first (an overlapping read) reported and cleared.
    if (!check) return null;
    this.device.queue.writeBuffer(this.buffer, 0, new Uint32Array(INDEX_ERROR_BYTES / 4));
    return new ArgumentError(check.message(bits | 0, position));
  }

  destroy(): void {
    this.buffer.destroy();
  }
}

/**
 * The WGSL the shader of a checking launch gets: the flag buffer at `binding` and
 * `index_error(k, position)`, which records the first violation under the tag in `param(tagParam)`.
 */
export function indexErrorWgsl(binding: number, tagParam: number): string {
  return [
    `@group(0) @binding(${binding}) var<storage, read_write> kiln_index_error: array<atomic<u32>, 4>;`,
    'fn index_error(k: i32, position: u32) {',
    '  loop {',
    `    let r = atomicCompareExchangeWeak(&kiln_index_error[0], 0u, param(${tagParam}u));`,
    '    if (r.exchanged) {',
    '      atomicStore(&kiln_index_error[1], bitcast<u32>(k));',
    '      atomicStore(&kiln_index_error[2], position);',
    '      return;',
    '    }',
    '    if (r.old_value != 0u) { return; }',
    '  }',
    '}',
  ].join('\n');
}

/// <reference types="@webgpu/types" />
import type { BufferPool } from './pool.js';

/** A uniform block placed in the batch's arena: bind `{ buffer, offset, size }`. */
export interface UniformSlice {
  readonly buffer: GPUBuffer;
  readonly offset: number;
  readonly size: number;
}

const ARENA_BYTES = 64 * 1024;

/**
 * Encodes compute passes into one command encoder and submits them together: when a read
 * needs the results, when `maxPasses` passes are queued, or at the end of the current job
 * (a microtask), whichever comes first. Kernel parameters (shapes, strides) go into a uniform
 * arena written once per submission: `writeBuffer` runs on the queue timeline before the
 * submission it precedes, so one arena buffer serves every batch.
 */
export class CommandBatcher {
  private encoder: GPUCommandEncoder | null = null;
  private passes = 0;
  private readonly arena = new Uint8Array(ARENA_BYTES);
  private arenaUsed = 0;
  private readonly arenaBuffer: GPUBuffer;
  private readonly align: number;
  private flushScheduled = false;
  private ops: string[] = [];
  /** Open `hold()`s: while any is, only a full uniform arena or a read submits (see `hold`). */
  private holds = 0;
  /** Submissions so far (tests and benchmarks read it to see batching work). */
  submissions = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly pool: BufferPool,
    private readonly maxPasses: number,
    /** Told of a validation or out-of-memory error in a batch, with the ops it encoded. */
    private readonly onError: (message: string, ops: readonly string[]) => void,
  ) {
    this.arenaBuffer = device.createBuffer({ size: ARENA_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.align = Math.max(16, device.limits.minUniformBufferOffsetAlignment);
  }

  /** Whether commands are encoded but not yet submitted. */
  get pending(): boolean {
    return this.encoder !== null;
  }

  /** The open encoder (opened on demand, inside an error scope that the flush closes). */
  open(): GPUCommandEncoder {
    if (this.encoder) return this.encoder;
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    this.encoder = this.device.createCommandEncoder();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // A microtask (queueMicrotask is not in the ES library this package compiles against).
      void Promise.resolve().then(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
    return this.encoder;
  }

  /** Places `words` (u32) in the arena; flushes first when it is full. */
  uniform(words: Uint32Array): UniformSlice {
    const size = Math.max(16, Math.ceil(words.byteLength / 16) * 16);
    if (size > ARENA_BYTES) throw new RangeError(`webgpu: ${words.byteLength} bytes of kernel parameters exceed the ${ARENA_BYTES}-byte arena`);
    let offset = Math.ceil(this.arenaUsed / this.align) * this.align;
    if (offset + size > ARENA_BYTES) {
      this.flush();
      offset = 0;
    }
    this.open();
    this.arena.set(new Uint8Array(words.buffer, words.byteOffset, words.byteLength), offset);
    this.arenaUsed = offset + size;
    return { buffer: this.arenaBuffer, offset, size };
  }

  /**
   * Keeps what is encoded from now on in one command buffer until the matching `release()`:
   * `maxPasses` no longer forces a submission (a compiled call is one submission however many
   * passes it has). A full uniform arena or a read still submits. The outermost `release()`
   * submits. Nests.
   */
  hold(): void {
    this.holds++;
  }

  release(): void {
    if (this.holds === 0) throw new RangeError('webgpu: CommandBatcher.release() without hold() (a Kiln bug)');
    if (--this.holds === 0) this.flush();
  }

  /** Encodes one compute pass; flushes when `maxPasses` are queued (unless held). */
  dispatch(op: string, pipeline: GPUComputePipeline, bindGroup: GPUBindGroup, x: number, y: number): void {
    const pass = this.open().beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
    pass.end();
    this.ops.push(op);
    if (++this.passes >= this.maxPasses && this.holds === 0) this.flush();
  }

  /** Submits everything encoded so far (a no-op when nothing is). */
  flush(): void {
    const encoder = this.encoder;
    if (!encoder) return;
    this.encoder = null;
    if (this.arenaUsed > 0) this.device.queue.writeBuffer(this.arenaBuffer, 0, this.arena, 0, this.arenaUsed);
    this.device.queue.submit([encoder.finish()]);
    this.submissions++;
    const ops = this.ops;
    this.ops = [];
    this.passes = 0;
    this.arenaUsed = 0;
    this.pool.commit();
    const report = (e: GPUError | null): void => {
      if (e) this.onError(e.message, ops);
    };
    void this.device.popErrorScope().then(report, () => {});
    void this.device.popErrorScope().then(report, () => {});
  }

  destroy(): void {
    this.arenaBuffer.destroy();
  }
}

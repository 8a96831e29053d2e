/// <reference types="@webgpu/types" />

const MIN_BYTES = 16;
const POW2_UP_TO = 4 * 1024 * 1024;
const LARGE_STEP = 1024 * 1024;

/**
 * The bucket a request of `bytes` is served from: the next power of two up to 4 MiB (small
 * tensors come in many sizes), then the next multiple of 1 MiB (at most 1 MiB wasted).
 */
export function bucketSize(bytes: number): number {
  if (bytes <= MIN_BYTES) return MIN_BYTES;
  if (bytes <= POW2_UP_TO) return 2 ** Math.ceil(Math.log2(bytes));
  return Math.ceil(bytes / LARGE_STEP) * LARGE_STEP;
}

/** What the pool holds, in bytes of GPU buffers. */
export interface PoolStats {
  /** Buffers handed out and not yet released. */
  readonly usedBytes: number;
  /** Buffers kept for reuse. */
  readonly freeBytes: number;
  /** Buffers created since the pool was made (a reuse rate is `1 - created / acquired`). */
  readonly created: number;
  readonly acquired: number;
}

/**
 * GPU storage buffers by size bucket. A released buffer is reusable only after the commands
 * queued before its release have been submitted (`commit()`): a `writeBuffer` into it runs on
 * the queue timeline, ahead of passes still being encoded that read its old contents.
 */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private released: GPUBuffer[] = [];
  private used = 0;
  private freeBytes = 0;
  private created = 0;
  private acquired = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: number = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  ) {}

  /** A buffer of at least `bytes` (its bucket's size). */
  acquire(bytes: number): GPUBuffer {
    const size = bucketSize(bytes);
    this.acquired++;
    this.used += size;
    const list = this.free.get(size);
    const reused = list?.pop();
    if (reused) {
      this.freeBytes -= size;
      return reused;
    }
    this.created++;
    return this.device.createBuffer({ size, usage: this.usage });
  }

  /** Gives a buffer back; it becomes reusable at the next `commit()`. */
  release(buffer: GPUBuffer): void {
    this.used -= buffer.size;
    this.released.push(buffer);
  }

  /** Makes buffers released before the latest queue submission reusable. */
  commit(): void {
    for (const b of this.released) {
      let list = this.free.get(b.size);
      if (!list) this.free.set(b.size, (list = []));
      list.push(b);
      this.freeBytes += b.size;
    }
    this.released = [];
  }

  /** Destroys the buffers kept for reuse (live ones stay). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.freeBytes = 0;
  }

  stats(): PoolStats {
    return { usedBytes: this.used, freeBytes: this.freeBytes, created: this.created, acquired: this.acquired };
  }
}

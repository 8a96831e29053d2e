/// <reference types="@webgpu/types" />
import type { Attrs, Backend, Graph, KernelInput, OpDef, TensorType, TypedArray, Value } from '@kiln/core';
import { getOp, KernelError, KernelRegistry, ShapeError, sizeOf } from '@kiln/core';
import { CommandBatcher } from './batcher.js';
import { DeviceLostError, SyncReadError } from './errors.js';
import { INDEX_ERROR_BYTES, IndexErrorLog } from './index_errors.js';
import { type Bodies, KernelContext, type WebGPUKernel } from './kernel.js';
import { registerWebGPUKernels } from './kernels/index.js';
import { checkGpuDType, fromGpuBytes, GPU_ITEM_BYTES, type GpuDType } from './layout.js';
import { PipelineCache } from './pipelines.js';
import { BufferPool, type PoolStats } from './pool.js';
import type { GpuTensor, WebGPUStorage } from './storage.js';

/** What the adapter is, for reports and benchmarks. */
export interface AdapterSummary {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** The limits Kiln reads, as the device granted them. */
  readonly limits: Readonly<Record<string, number>>;
  readonly features: readonly string[];
}

export interface WebGPUBackendOptions {
  /** The adapter's info (requestWebGPUDevice supplies it); shown by `adapter`. */
  adapterInfo?: GPUAdapterInfo;
  /** Compute passes queued before a submission is forced (default 64). */
  maxPassesPerSubmit?: number;
}

const LIMIT_NAMES = [
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage', 'minUniformBufferOffsetAlignment',
] as const;

interface DeviceState {
  readonly device: GPUDevice;
  readonly pool: BufferPool;
  readonly batcher: CommandBatcher;
  readonly pipelines: PipelineCache;
  readonly ctx: KernelContext;
  readonly indexErrors: IndexErrorLog;
  readonly generation: number;
  lost: GPUDeviceLostInfo | null;
}

/**
 * The WebGPU backend: pooled GPU buffers, kernels encoded into batched command buffers,
 * asynchronous readback. Reading synchronously (`dataSync()`) is an error: use `await data()`.
 *
 * @example
 * ```ts
 * import { requestNodeDevice } from '@kiln/backend-webgpu/node';
 * const gpu = createWebGPUBackend((await requestNodeDevice()).device);
 * const a = gpu.upload(new Float32Array([1, -2]), { dtype: 'float32', shape: [2] });
 * const [b] = gpu.run(getOp('relu'), [{ storage: a, type: { dtype: 'float32', shape: [2] } }], {}, [{ dtype: 'float32', shape: [2] }]);
 * await gpu.read(b, { dtype: 'float32', shape: [2] }); // Float32Array [1, 0]
 * ```
 */
export class WebGPUBackend implements Backend<WebGPUStorage> {
  readonly name = 'webgpu';
  private state!: DeviceState;
  private generation = 0;
  private bytes = 0;
  private pendingError: KernelError | null = null;
  private readonly maxPasses: number;
  private adapterInfo: GPUAdapterInfo | undefined;

  constructor(device: GPUDevice, readonly kernels: KernelRegistry<WebGPUKernel>, options: WebGPUBackendOptions = {}) {
    this.maxPasses = options.maxPassesPerSubmit ?? 64;
    this.adapterInfo = options.adapterInfo;
    this.attach(device);
  }

  /**
   * Starts over on a new device after a loss (or to move to another adapter). Tensors made on
   * the old device are dead: using them throws a DeviceLostError.
   */
  reinitialize(device: GPUDevice, adapterInfo?: GPUAdapterInfo): void {
    if (adapterInfo) this.adapterInfo = adapterInfo;
    if (!this.state.lost) {
      this.state.batcher.flush();
      this.state.pool.trim();
    }
    this.attach(device);
  }

  private attach(device: GPUDevice): void {
    const pool = new BufferPool(device);
    const batcher = new CommandBatcher(device, pool, this.maxPasses, (message, ops) => {
      this.fail(new KernelError(`webgpu: the device reported an error in a batch running ${[...new Set(ops)].join(', ')}: ${message}`));
    });
    const pipelines = new PipelineCache(device, (e) => this.fail(e));
    const indexErrors = new IndexErrorLog(device);
    const ctx = new KernelContext(device, batcher, pipelines, indexErrors);
    const state: DeviceState = { device, pool, batcher, pipelines, ctx, indexErrors, generation: ++this.generation, lost: null };
    void device.lost.then((info) => {
      state.lost = info;
    });
    this.state = state;
    this.bytes = 0;
    this.pendingError = null;
  }

  private fail(e: KernelError): void {
    // A compile error explains more than the validation errors it causes: keep it over them.
    if (!this.pendingError || (e.message.includes('does not compile') && !this.pendingError.message.includes('does not compile'))) this.pendingError = e;
  }

  /** The device in use (for code that encodes its own work, such as compiled graphs later). */
  get device(): GPUDevice {
    return this.state.device;
  }

  /** The adapter: vendor and description where the platform tells them, the limits Kiln reads, features. */
  get adapter(): AdapterSummary {
    const d = this.state.device;
    const info = this.adapterInfo;
    const limits: Record<string, number> = {};
    for (const n of LIMIT_NAMES) limits[n] = d.limits[n];
    return { vendor: info?.vendor ?? '', architecture: info?.architecture ?? '', device: info?.device ?? '', description: info?.description ?? '', limits, features: [...d.features].sort() };
  }

  /** Buffers held by the pool and how often it reused one. */
  poolStats(): PoolStats {
    return this.state.pool.stats();
  }

  /** Queue submissions so far (batching makes this far smaller than the number of ops). */
  get submissions(): number {
    return this.state.batcher.submissions;
  }

  /**
   * Runs `fn` with its kernels encoded into one command buffer, submitted when it returns
   * (compiled calls run this way through the runtime's `runBatched`). Nested calls join the
   * outermost; only a full parameter arena or a read inside `fn` submits early.
   *
   * @example
   * ```ts
   * const [y] = gpu.batch(() => executeGraph(graph, gpu, [x]));
   * ```
   */
  batch<T>(fn: () => T): T {
    const s = this.check('batch');
    s.batcher.hold();
    try {
      return fn();
    } finally {
      if (!s.lost) s.batcher.release();
    }
  }

  /** Submits everything encoded so far. Reads do this themselves; call it to start GPU work early. */
  flush(): void {
    this.check('flush');
    this.state.batcher.flush();
  }

  private check(where: string): DeviceState {
    const s = this.state;
    if (s.lost) {
      throw new DeviceLostError(`webgpu ${where}: the GPU device was lost (${s.lost.reason}: ${s.lost.message || 'no message'}); tensors on it are gone. Get a new device and call backend.reinitialize(device), then recreate the tensors`);
    }
    const e = this.pendingError;
    if (e) {
      this.pendingError = null;
      throw e;
    }
    return s;
  }

  private live(storage: WebGPUStorage, where: string): DeviceState {
    const s = this.check(where);
    if (storage.generation !== s.generation) {
      throw new DeviceLostError(`webgpu ${where}: the tensor was created on a GPU device that has since been lost or replaced; recreate it`);
    }
    return s;
  }

  private allocate(s: DeviceState, type: TensorType, where: string): WebGPUStorage {
    const dtype = checkGpuDType(type.dtype, where);
    const size = sizeOf(type.shape);
    const bytes = size * GPU_ITEM_BYTES;
    const limit = s.device.limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      throw new ShapeError(`${where}: a ${type.dtype}[${type.shape.join(',')}] tensor needs ${bytes} bytes of GPU storage, more than this adapter's maxStorageBufferBindingSize of ${limit} bytes; split it into smaller tensors or use the 'cpu' backend`);
    }
    this.bytes += bytes;
    return { buffer: s.pool.acquire(bytes), bytes, size, dtype, generation: s.generation };
  }

  upload(data: TypedArray, type: TensorType): WebGPUStorage {
    const s = this.check('upload');
    const storage = this.allocate(s, type, 'upload');
    s.ctx.writeHost({ storage, shape: type.shape, dtype: storage.dtype }, data);
    return storage;
  }

  readSync(_storage: WebGPUStorage, type: TensorType): TypedArray {
    throw new SyncReadError(`dataSync()/item()/toArray() can't read a WebGPU tensor synchronously (${type.dtype}[${type.shape.join(',')}]): GPU readback is asynchronous; use await t.data()`);
  }

  async read(storage: WebGPUStorage, type: TensorType): Promise<TypedArray> {
    const s = this.live(storage, 'read');
    const bytes = Math.max(4, storage.bytes);
    s.batcher.flush();
    // Every launch tagged so far is submitted now; the index-error flag is copied after them.
    const upTo = s.indexErrors.last;
    const flagAt = Math.ceil(bytes / 8) * 8; // getMappedRange offsets are multiples of 8
    const staging = s.device.createBuffer({ size: flagAt + INDEX_ERROR_BYTES, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const encoder = s.device.createCommandEncoder();
      encoder.copyBufferToBuffer(storage.buffer, 0, staging, 0, bytes);
      encoder.copyBufferToBuffer(s.indexErrors.buffer, 0, staging, flagAt, INDEX_ERROR_BYTES);
      s.device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const result = fromGpuBytes(staging.getMappedRange(0, bytes), storage.size, storage.dtype);
      const flag = new Uint32Array(staging.getMappedRange(flagAt, INDEX_ERROR_BYTES).slice(0));
      staging.unmap();
      await Promise.all(s.pipelines.checks);
      this.check('read');
      const indexError = s.indexErrors.consume(flag, upTo);
      if (indexError) throw indexError;
      void type;
      return result;
    } catch (e) {
      if (s.lost) this.check('read');
      throw e;
    } finally {
      staging.destroy();
    }
  }

  dispose(storage: WebGPUStorage): void {
    if (storage.generation !== this.state.generation) return;
    this.bytes -= storage.bytes;
    this.state.pool.release(storage.buffer);
    if (!this.state.batcher.pending) this.state.pool.commit();
  }

  /** Bytes of live tensors (4 per element: bool is stored as u32). */
  bytesInUse(): number {
    return this.bytes;
  }

  hasKernel(op: string): boolean {
    return this.kernels.has(op);
  }

  run(op: OpDef, inputs: readonly KernelInput<WebGPUStorage>[], attrs: Attrs, outputs: readonly TensorType[], out?: readonly (WebGPUStorage | undefined)[], subgraphs?: readonly Graph[]): WebGPUStorage[] {
    const kernel = this.kernels.get(op.name);
    const s = this.check(op.name);
    const ins = new Array<GpuTensor>(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const { storage, type } = inputs[i];
      if (storage.generation !== s.generation) this.live(storage, op.name);
      ins[i] = { storage, shape: type.shape, dtype: storage.dtype };
    }
    const outs = new Array<GpuTensor>(outputs.length);
    for (let i = 0; i < outputs.length; i++) {
      const t = outputs[i];
      const offered = out?.[i];
      let storage: WebGPUStorage;
      const isOffered = offered !== undefined;
      if (offered) {
        if (offered.dtype !== t.dtype || offered.size !== sizeOf(t.shape) || offered.generation !== s.generation) {
          throw new KernelError(`webgpu: the storage offered for output ${i} of '${op.name}' is not a live ${t.dtype} buffer of ${sizeOf(t.shape)} elements`);
        }
        storage = offered;
      } else {
        storage = this.allocate(s, t, op.name);
      }
      outs[i] = { storage, shape: t.shape, dtype: storage.dtype, offered: isOffered };
    }
    kernel(s.ctx, ins, attrs, outs, subgraphs ? this.bodies(subgraphs) : undefined);
    return outs.map((o) => o.storage);
  }

  private bodies(graphs: readonly Graph[]): Bodies {
    return {
      graphs,
      run: (body, inputs) => {
        const values = new Map<Value, GpuTensor>();
        body.inputs.forEach((v, i) => values.set(v, inputs[i]));
        const made: GpuTensor[] = [];
        for (const node of body.nodes) {
          const types = node.outputs.map((v) => v.type);
          const storages = this.run(getOp(node.op), node.inputs.map((v) => ({ storage: values.get(v)!.storage, type: v.type })), node.attrs, types, undefined, node.subgraphs);
          storages.forEach((storage, i) => {
            const t = { storage, shape: types[i].shape, dtype: storage.dtype };
            values.set(node.outputs[i], t);
            made.push(t);
          });
        }
        const results = body.outputs.map((v) => values.get(v)!);
        for (const t of made) if (!results.includes(t)) this.dispose(t.storage);
        return results;
      },
      free: (t) => this.dispose(t.storage),
    };
  }

  /** Frees the pool and the device's own resources. The backend cannot be used after, until `reinitialize`. */
  destroy(): void {
    const s = this.state;
    if (!s.lost) s.batcher.flush();
    s.pool.trim();
    s.batcher.destroy();
    s.indexErrors.destroy();
    s.device.destroy();
  }
}

/** All WebGPU kernels, registered explicitly. */
export function createWebGPUKernels(): KernelRegistry<WebGPUKernel> {
  const registry = new KernelRegistry<WebGPUKernel>('webgpu');
  registerWebGPUKernels(registry);
  return registry;
}

/**
 * The WebGPU backend on `device` (from `requestWebGPUDevice` in browsers or `requestNodeDevice`
 * from `@kiln/backend-webgpu/node`).
 *
 * @example
 * ```ts
 * registerBackend('webgpu', () => createWebGPUBackend(device));
 * setBackend('webgpu');
 * ```
 */
export function createWebGPUBackend(device: GPUDevice, options: WebGPUBackendOptions = {}): WebGPUBackend {
  return new WebGPUBackend(device, createWebGPUKernels(), options);
}

export type { GpuDType };

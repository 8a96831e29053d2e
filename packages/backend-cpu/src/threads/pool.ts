import { ArgumentError, KernelError } from '@kiln/core';
import type { MemoryType } from '../wasm/emitter.js';
import { CMD_RUN, CMD_YIELD, CONTROL_BYTES, CTL, MAX_ARGS, MAX_TASKS, workerSource } from './worker_source.js';

/**
 * One worker pool for every WebAssembly kernel of the CPU backend: the kernels import one
 * memory (shared when threads are possible), and `parallelFor` runs one exported function of a
 * kernel module as several tasks at once — task 0 on the calling thread, the others on workers
 * that instantiated the same compiled module over the same memory. Synchronisation is
 * Atomics.wait/notify on a control block at the start of the memory, not a message per call.
 * Where shared memory or workers are missing, everything runs on the calling thread.
 * See docs/design/cpu-wasm.md, "Threads".
 */

/** The WebAssembly surface the pool uses (the package builds without DOM or WebAssembly types). */
export interface WasmMemory { readonly buffer: ArrayBufferLike; grow(pages: number): number }
/** A compiled WebAssembly module (`WebAssembly.Module`). */
export type WasmModule = object;
type WasmFn = (...args: number[]) => unknown;
interface WasmApi {
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: { new (bytes: Uint8Array): WasmModule; exports(m: WasmModule): { name: string; kind: string }[] };
  Instance: new (m: WasmModule, imports: object) => { exports: Record<string, unknown> };
}
interface WorkerLike { postMessage(msg: unknown): void; terminate(): unknown; unref?(): void; on?(ev: string, fn: (e: unknown) => void): void }
type WorkerFactory = (code: string) => WorkerLike;

/** Largest memory kernels may grow to: 65536 pages = 4 GiB, all of wasm32. */
export const MAX_MEMORY_PAGES = 65536;

/** The memory every pooled kernel imports as `env.memory`, and how to grow it. */
export interface KernelMemory {
  readonly memory: WasmMemory;
  /** What modules must declare for their memory import (pass to `encodeModule`). */
  readonly type: MemoryType;
  /** First byte kernels may use; below it is the pool's control block. */
  readonly base: number;
  /** Grows the memory to at least `bytes` bytes (from 0) and returns a float32 view of all of it. */
  reserve(bytes: number): Float32Array;
}

const wasmApi = (): WasmApi | undefined => (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

interface NodeProcess {
  versions?: { node?: string };
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}
const nodeProcess = (): NodeProcess | undefined => {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node ? p : undefined;
};

/** A Node built-in, reached without a static import so browser bundles never see `node:*`. */
export function nodeBuiltin<T>(id: string): T | undefined {
  try {
    return nodeProcess()?.getBuiltinModule?.(id) as T | undefined;
  } catch {
    return undefined;
  }
}

function defaultThreads(): number {
  const env = nodeProcess()?.env?.KILN_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 1) return Math.min(n, MAX_TASKS);
  }
  const os = nodeBuiltin<{ availableParallelism?: () => number; cpus(): unknown[] }>('node:os');
  const cores = os ? (os.availableParallelism?.() ?? os.cpus().length) : (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(cores, MAX_TASKS));
}

function workerFactory(): WorkerFactory | undefined {
  const wt = nodeBuiltin<{ Worker: new (code: string, o: { eval: boolean }) => WorkerLike }>('node:worker_threads');
  if (wt) return (code) => new wt.Worker(code, { eval: true });
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: new (url: string) => WorkerLike; Blob?: new (parts: string[], o: object) => object; URL?: { createObjectURL(b: object): string } };
  if (g.crossOriginIsolated && g.Worker && g.Blob && g.URL) {
    const url = g.URL.createObjectURL(new g.Blob([workerSource()], { type: 'text/javascript' }));
    const W = g.Worker;
    return () => new W(url);
  }
  return undefined;
}

class Pool {
  readonly kernel: KernelMemory;
  private f32: Float32Array;
  private readonly ctl: Int32Array | undefined;
  private readonly workers: WorkerLike[] = [];
  private readonly modules = new Map<WasmModule, { id: number; fns: WasmFn[]; names: string[] }>();
  private threads = defaultThreads();
  private readonly factory: WorkerFactory | undefined;
  /** Whether Atomics.wait may block this thread (not on a browser's main thread). */
  private readonly canBlock = canAtomicsWait();
  /** Acks (one per message posted to a worker) expected so far; jobs wait until all have come. */
  private ackTarget = 0;
  /** Modules instantiated here but not yet posted to the running workers. */
  private readonly unsent: { id: number; module: WasmModule }[] = [];
  private broken = false;

  constructor(private readonly wasm: WasmApi) {
    let memory: WasmMemory;
    let shared = false;
    try {
      if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') throw new Error('no shared memory');
      memory = new wasm.Memory({ initial: 1, maximum: MAX_MEMORY_PAGES, shared: true });
      shared = memory.buffer instanceof SharedArrayBuffer;
    } catch {
      memory = new wasm.Memory({ initial: 1, maximum: MAX_MEMORY_PAGES });
    }
    this.f32 = new Float32Array(memory.buffer);
    this.ctl = shared ? new Int32Array(memory.buffer, 0, CONTROL_BYTES / 4) : undefined;
    this.factory = shared ? workerFactory() : undefined;
    const type: MemoryType = { shared, maxPages: MAX_MEMORY_PAGES };
    this.kernel = { memory, type, base: CONTROL_BYTES, reserve: (bytes) => this.reserve(bytes) };
  }

  private reserve(bytes: number): Float32Array {
    const { memory } = this.kernel;
    const have = memory.buffer.byteLength;
    if (bytes > have) {
      if (bytes > MAX_MEMORY_PAGES * 65536) throw new KernelError(`WebAssembly kernels need ${bytes} bytes of memory, more than the 4 GiB a wasm32 memory can hold; split the work into smaller tensors`);
      memory.grow(Math.ceil((bytes - have) / 65536));
    }
    if (this.f32.length * 4 !== memory.buffer.byteLength) this.f32 = new Float32Array(memory.buffer);
    return this.f32;
  }

  get numThreads(): number { return this.threads; }

  /** The threads jobs actually get: 1 without shared memory and workers. */
  get usableThreads(): number { return this.factory && !this.broken ? this.threads : 1; }

  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > MAX_TASKS) throw new ArgumentError(`setNumThreads: expected an integer from 1 to ${MAX_TASKS}, got ${n}`);
    this.threads = n;
    if (this.workers.length <= n - 1) return;
    if (this.ctl && Atomics.load(this.ctl, CTL.ACK) < this.ackTarget) {
      // Workers still starting or loading (a browser's main thread does not wait): start over.
      while (this.workers.length > 0) this.workers.pop()!.terminate();
      this.unsent.length = 0;
      this.ackTarget = Atomics.load(this.ctl, CTL.ACK);
      Atomics.store(this.ctl, CTL.CMD, CMD_RUN);
      return;
    }
    while (this.workers.length > n - 1) this.workers.pop()!.terminate();
  }

  /** The module's functions instantiated on this thread over the kernel memory (cached). */
  instantiate(module: WasmModule): { id: number; fns: WasmFn[]; names: string[] } {
    let entry = this.modules.get(module);
    if (!entry) {
      const inst = new this.wasm.Instance(module, { env: { memory: this.kernel.memory } });
      const names = this.wasm.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
      entry = { id: this.modules.size, fns: names.map((nm) => inst.exports[nm] as WasmFn), names };
      this.modules.set(module, entry);
      if (this.workers.length > 0) this.unsent.push({ id: entry.id, module });
    }
    return entry;
  }

  /**
   * Brings the workers up to date — every module loaded, `threads − 1` of them started — one
   * step at a time: a step posts messages, wakes the workers to receive them (CMD = YIELD) and
   * expects one ack per message. Where this thread may block, it waits for the acks and returns
   * true; on a browser's main thread it returns false until they have come (the job then runs
   * here), since workers cannot start while it spins.
   */
  private sync(): boolean {
    const ctl = this.ctl!;
    for (;;) {
      if (Atomics.load(ctl, CTL.ACK) < this.ackTarget) {
        if (!this.canBlock) return false;
        this.waitAcks(this.ackTarget);
      }
      Atomics.store(ctl, CTL.CMD, CMD_RUN);
      if (this.unsent.length > 0) {
        // Exactly one message per worker: a worker re-enters its wait loop after each message, and
        // a yield must find a message waiting at every worker.
        const modules = this.unsent.splice(0);
        for (const w of this.workers) w.postMessage({ type: 'load', modules });
        this.ackTarget += this.workers.length;
        Atomics.store(ctl, CTL.CMD, CMD_YIELD);
        Atomics.add(ctl, CTL.SEQ, 1);
        Atomics.notify(ctl, CTL.SEQ);
        continue;
      }
      if (this.workers.length < this.threads - 1) {
        const modules = [...this.modules].map(([module, e]) => ({ id: e.id, module }));
        const started = this.threads - 1 - this.workers.length;
        for (let i = 0; i < started; i++) {
          const w = this.factory!(workerSource());
          w.unref?.();
          w.on?.('error', () => { this.broken = true; });
          w.postMessage({ type: 'init', memory: this.kernel.memory, slot: this.workers.length, modules });
          this.workers.push(w);
        }
        this.ackTarget += started;
        continue;
      }
      return true;
    }
  }

  private waitAcks(target: number): void {
    const ctl = this.ctl!;
    const deadline = Date.now() + 30_000;
    for (let seen = Atomics.load(ctl, CTL.ACK); seen < target; seen = Atomics.load(ctl, CTL.ACK)) {
      if (this.broken || Date.now() > deadline) {
        this.broken = true;
        throw new KernelError('CPU worker pool: a worker did not start; run single-threaded with setNumThreads(1) or KILN_THREADS=1');
      }
      Atomics.wait(ctl, CTL.ACK, seen, 50);
    }
  }

  run(module: WasmModule, exportName: string, tasks: number, argsFor: (task: number) => readonly number[]): void {
    const entry = this.instantiate(module);
    const fn = entry.names.indexOf(exportName);
    if (fn < 0) throw new ArgumentError(`parallelFor: the module has no exported function '${exportName}' (it has ${entry.names.join(', ')})`);
    if (!Number.isInteger(tasks) || tasks < 1 || tasks > MAX_TASKS) throw new ArgumentError(`parallelFor: tasks must be an integer from 1 to ${MAX_TASKS}, got ${tasks}`);
    const threads = Math.min(tasks, this.usableThreads);
    if (threads <= 1) {
      for (let t = 0; t < tasks; t++) entry.fns[fn](...argsFor(t));
      return;
    }
    if (tasks > threads) throw new ArgumentError(`parallelFor: ${tasks} tasks for ${threads} threads; ask for at most numThreads() tasks`);
    if (!this.sync()) {
      for (let t = 0; t < tasks; t++) entry.fns[fn](...argsFor(t)); // workers still starting
      return;
    }
    const ctl = this.ctl!;
    const args0 = argsFor(0);
    for (let t = 1; t < tasks; t++) {
      const args = argsFor(t);
      if (args.length > MAX_ARGS) throw new ArgumentError(`parallelFor: at most ${MAX_ARGS} arguments per task, got ${args.length}`);
      const at = CTL.ARGS + t * MAX_ARGS;
      for (let i = 0; i < args.length; i++) ctl[at + i] = args[i];
    }
    ctl[CTL.MODULE] = entry.id;
    ctl[CTL.FUNC] = fn;
    ctl[CTL.ERROR] = 0;
    Atomics.store(ctl, CTL.TASKS, tasks);
    Atomics.store(ctl, CTL.PENDING, tasks - 1);
    Atomics.add(ctl, CTL.SEQ, 1);
    Atomics.notify(ctl, CTL.SEQ);
    let error: unknown;
    try {
      entry.fns[fn](...args0);
    } catch (e) {
      error = e;
    }
    for (let left = Atomics.load(ctl, CTL.PENDING); left !== 0; left = Atomics.load(ctl, CTL.PENDING)) {
      if (this.canBlock) Atomics.wait(ctl, CTL.PENDING, left, 1000); // else spin: a browser's main thread
    }
    if (error !== undefined) throw error;
    const failed = Atomics.load(ctl, CTL.ERROR);
    if (failed !== 0) throw new KernelError(`parallelFor: task ${failed} of '${exportName}' trapped in a worker`);
  }
}

/** Whether Atomics.wait may block the calling thread (it throws on a browser's main thread). */
function canAtomicsWait(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

let pool: Pool | null | undefined;

function getPool(): Pool | null {
  if (pool === undefined) {
    const wasm = wasmApi();
    try {
      pool = wasm ? new Pool(wasm) : null;
    } catch {
      pool = null;
    }
  }
  return pool;
}

/**
 * The memory every pooled WebAssembly kernel imports as `env.memory` (shared when threads are
 * possible), or null where there is no WebAssembly. Kernels use bytes from `base` on, as scratch
 * for the duration of one call (calls never overlap: JavaScript is single-threaded).
 *
 * @example
 * const km = kernelMemory()!;
 * const module = new WebAssembly.Module(encodeModule([...], 1, km.type));
 * const f32 = km.reserve(km.base + bytes);
 */
export function kernelMemory(): KernelMemory | null {
  return getPool()?.kernel ?? null;
}

/**
 * Runs `exportName(...argsFor(t))` of `module` (compiled against `kernelMemory().type`) for each
 * task t in [0, tasks), at once: task 0 on this thread, task t on worker t − 1. Arguments are i32
 * (byte addresses, sizes); at most 16 per task. Returns when every task is done; tasks must
 * write disjoint memory. `tasks` must not exceed `usableThreads()`; where that is 1 (no shared
 * memory or workers, or `setNumThreads(1)`), all tasks run here, in order.
 *
 * @example
 * const tasks = Math.min(usableThreads(), rows);
 * parallelFor(module, 'scaleRows', tasks, (t) => [src, dst, Math.floor(rows * t / tasks), Math.floor(rows * (t + 1) / tasks)]);
 */
export function parallelFor(module: WasmModule, exportName: string, tasks: number, argsFor: (task: number) => readonly number[]): void {
  const p = getPool();
  if (!p) throw new KernelError('parallelFor: WebAssembly is not available in this engine');
  p.run(module, exportName, tasks, argsFor);
}

/** The exported functions of `module`, instantiated on this thread over the kernel memory (cached per module). */
export function kernelExports(module: WasmModule): Record<string, WasmFn> {
  const p = getPool();
  if (!p) throw new KernelError('kernelExports: WebAssembly is not available in this engine');
  const { names, fns } = p.instantiate(module);
  return Object.fromEntries(names.map((n, i) => [n, fns[i]]));
}

/**
 * Threads the CPU backend's WebAssembly kernels may use (the calling thread included). Defaults
 * to the environment variable `KILN_THREADS`, else the machine's cores.
 *
 * @example
 * getNumThreads(); // 2 on a 2-core machine
 */
export function getNumThreads(): number {
  return getPool()?.numThreads ?? 1;
}

/**
 * Sets how many threads (the calling thread included) the CPU backend's WebAssembly kernels use,
 * from 1 to 64. Results do not depend on it: work is split so every output element is computed
 * the same way. Workers start on the next large kernel and never keep Node from exiting.
 *
 * @example
 * setNumThreads(1); // single-threaded, e.g. when the application runs its own workers
 */
export function setNumThreads(n: number): void {
  const p = getPool();
  if (!p) {
    if (!Number.isInteger(n) || n < 1 || n > MAX_TASKS) throw new ArgumentError(`setNumThreads: expected an integer from 1 to ${MAX_TASKS}, got ${n}`);
    return;
  }
  p.setThreads(n);
}

/** Threads a job gets now: `getNumThreads()` where shared memory and workers exist, else 1. */
export function usableThreads(): number {
  return getPool()?.usableThreads ?? 1;
}

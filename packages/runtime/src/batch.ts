import type { Backend } from '@kiln/core';

/**
 * What a backend with a command queue adds to `Backend` so that many kernel launches are
 * submitted together: `batch(fn)` runs `fn` (many `run` calls: a whole compiled graph) and
 * submits its work when `fn` returns — WebGPU encodes it into one command buffer. Nested calls
 * join the outermost. Backends that run kernels at once (the CPU) do not have it; the core
 * `Backend` interface is unchanged.
 */
export interface BatchingBackend {
  batch<T>(fn: () => T): T;
}

/** Whether `backend` has `batch` (see {@link BatchingBackend}). */
export function isBatching(backend: object): backend is BatchingBackend {
  return typeof (backend as Partial<BatchingBackend>).batch === 'function';
}

/**
 * Runs `fn` (many kernel launches on `backend`, such as one compiled call) inside the backend's
 * `batch` where it has one, so that a queued backend (WebGPU) submits them as one command
 * buffer; elsewhere just calls `fn`.
 *
 * @example
 * ```ts
 * const outs = runBatched(backend, () => executeGraph(graph, backend, inputs));
 * ```
 */
export function runBatched<T>(backend: Backend<unknown>, fn: () => T): T {
  return isBatching(backend) ? backend.batch(fn) : fn();
}

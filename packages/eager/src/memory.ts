import type { Buffer } from './buffer.js';
import { activeBackends } from './backends.js';

/** What the memory module needs of a tensor (avoids an import cycle with tensor.ts). */
export interface Tracked {
  readonly isDisposed: boolean;
  dispose(): void;
}

let liveTensors = 0;
const scopes: Set<Tracked>[] = [];

// Safety net: a tensor collected without dispose() releases its buffer. Deterministic freeing
// (dispose, using, tidy) is the documented way; this only stops leaks from becoming permanent.
const finalizer = new FinalizationRegistry<Cell>((cell) => {
  liveTensors--;
  cell.buffer?.release();
  cell.node?.decref();
});

/** What a collected tensor still owns: its buffer and its reference to an autograd node. */
interface Cell {
  buffer: Buffer | undefined;
  node: { decref(): void } | undefined;
}

/** Called by every new tensor: counts it and adds it to the innermost tidy scope. */
export function track(tensor: Tracked, cell: Cell): void {
  liveTensors++;
  finalizer.register(tensor, cell, tensor);
  scopes[scopes.length - 1]?.add(tensor);
}

/** Called once by dispose(). */
export function untrack(tensor: Tracked): void {
  liveTensors--;
  finalizer.unregister(tensor);
}

export type TensorContainer<T> = T | readonly TensorContainer<T>[] | { readonly [key: string]: TensorContainer<T> } | void | undefined | null | number | string | boolean;

function collect(value: unknown, out: Set<unknown>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if ('isDisposed' in value && 'dispose' in value) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, out, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, out, seen);
}

/**
 * Runs `fn` and disposes every tensor it created except those it returns (in any nesting of
 * arrays and plain objects) and those passed to `keep()`. Scopes nest.
 *
 * @example
 * ```ts
 * const y = tidy(() => relu(add(matmul(x, w), b))); // the matmul and add results are freed
 * ```
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tracked>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new TypeError('tidy: fn must be synchronous (it returned a Promise); await outside tidy and dispose explicitly');
  }
  const kept = new Set<unknown>();
  collect(result, kept);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (kept.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}

/** Takes a tensor out of every enclosing tidy scope, so it survives them. Returns it. */
export function keep<T extends Tracked>(tensor: T): T {
  for (const scope of scopes) scope.delete(tensor);
  return tensor;
}

/** Live tensors and bytes, in total and per backend. */
export interface MemoryInfo {
  /** Tensors created and not yet disposed (or collected). */
  readonly numTensors: number;
  /** Bytes held by live storage on all backends. */
  readonly numBytes: number;
  readonly backends: { readonly [name: string]: { readonly numBytes: number } };
}

/**
 * Reports live tensors and bytes, so tests and training loops can assert nothing leaks.
 *
 * @example
 * ```ts
 * const before = memory().numTensors;
 * tidy(() => { for (let i = 0; i < 100; i++) add(x, 1); });
 * memory().numTensors === before; // true
 * ```
 */
export function memory(): MemoryInfo {
  const backends: Record<string, { numBytes: number }> = {};
  let numBytes = 0;
  for (const [name, backend] of activeBackends()) {
    const bytes = backend.bytesInUse();
    backends[name] = { numBytes: bytes };
    numBytes += bytes;
  }
  return { numTensors: liveTensors, numBytes, backends };
}

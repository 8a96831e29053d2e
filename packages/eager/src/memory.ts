import type { Buffer } from './buffer.js';
import { activeBackends } from './backends.js';

/** What the memory module needs of a tensor (avoids an import cycle with tensor.ts). */
export interface Tracked {
  readonly isDisposed: boolean;
  dispose(): void;
}

/** What a collected tensor still owns: its buffer and its reference to an autograd node. */
export interface Cell {
  buffer: Buffer | undefined;
  node: { decref(): void } | undefined;
  /** Whether the tensor is registered with the FinalizationRegistry (see `track`). */
  registered: boolean;
}

let liveTensors = 0;

// Safety net: a tensor collected without dispose() releases its buffer. Deterministic freeing
// (dispose, using, tidy) is the documented way; this only stops leaks from becoming permanent.
const finalizer = new FinalizationRegistry<Cell>((cell) => {
  liveTensors--;
  cell.buffer?.release();
  cell.node?.decref();
});

// Registering with a FinalizationRegistry (and unregistering on dispose) costs about as much as
// the rest of a tiny op, and most tensors are disposed within the synchronous job that made them
// (by an op's scope, tidy, or the caller). So new tensors wait in `pending` and are registered
// only if still alive when the job ends (a microtask) or when `pending` fills up. Finalization
// callbacks run as separate tasks, so nothing could have been collected earlier anyway.
const PENDING_LIMIT = 1024;
const pending: Tracked[] = [];
const pendingCells: Cell[] = [];
let flushQueued = false;

function flushPending(): void {
  flushQueued = false;
  for (let i = 0; i < pending.length; i++) {
    const tensor = pending[i];
    if (!tensor.isDisposed) {
      const cell = pendingCells[i];
      cell.registered = true;
      finalizer.register(tensor, cell, tensor);
    }
  }
  pending.length = 0;
  pendingCells.length = 0;
}

// Tensors created while a scope (tidy or an op's own) is open, innermost scope's last: each open
// scope owns the region from its mark to the next scope's mark. A tensor returned from a scope
// moves down into its parent's region; one passed to keep() leaves a hole (undefined).
let scoped: (Tracked | undefined)[] = new Array(64).fill(undefined);
let top = 0;
let depth = 0;

/** Called by every new tensor: counts it and adds it to the innermost scope. */
export function track(tensor: Tracked, cell: Cell): void {
  liveTensors++;
  pending.push(tensor);
  pendingCells.push(cell);
  if (pending.length >= PENDING_LIMIT) flushPending();
  else if (!flushQueued) {
    flushQueued = true;
    void Promise.resolve().then(flushPending);
  }
  if (depth > 0) {
    if (top === scoped.length) scoped = scoped.concat(new Array(scoped.length).fill(undefined));
    scoped[top++] = tensor;
  }
}

/** Called once by dispose(). */
export function untrack(tensor: Tracked, cell: Cell): void {
  liveTensors--;
  if (cell.registered) {
    cell.registered = false;
    finalizer.unregister(tensor);
  }
}

/** @internal Opens a scope; returns its mark for `closeScope`. */
export function openScope(): number {
  depth++;
  return top;
}

/**
 * @internal Closes the innermost scope (opened at `mark`): disposes every tensor created in it
 * except `result` itself, or, when `kept` is given, except the tensors in `kept`. Survivors move
 * to the parent scope.
 */
export function closeScope(mark: number, result: unknown, kept?: ReadonlySet<unknown>): void {
  depth--;
  const end = top;
  let w = mark;
  for (let i = mark; i < end; i++) {
    const t = scoped[i];
    if (t === undefined) continue;
    scoped[i] = undefined;
    if (kept ? kept.has(t) : t === result) {
      if (depth > 0) scoped[w++] = t;
    } else {
      t.dispose();
    }
  }
  // Tensors made while disposing (none expected) belong to the parent scope.
  for (let i = end; i < top; i++) {
    scoped[w++] = scoped[i];
    scoped[i] = undefined;
  }
  top = w;
}

/** @internal Closes the innermost scope after `fn` threw: disposes everything created in it. */
export function abandonScope(mark: number): void {
  closeScope(mark, undefined, EMPTY);
}

const EMPTY: ReadonlySet<unknown> = new Set();

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
 * @internal Closes the scope opened at `mark` around a computation that returned `result`:
 * keeps the tensors `result` holds (itself, or nested in arrays and plain objects), disposes the
 * rest. A single returned tensor, the usual case of an op, is kept without collecting.
 */
export function closeScopeWith(mark: number, result: unknown): void {
  if (result !== null && typeof result === 'object' && !Array.isArray(result) && 'isDisposed' in result && 'dispose' in result) {
    closeScope(mark, result);
    return;
  }
  const kept = new Set<unknown>();
  collect(result, kept);
  closeScope(mark, undefined, kept);
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
  const mark = openScope();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    abandonScope(mark);
    throw e;
  }
  if (result instanceof Promise) {
    abandonScope(mark);
    throw new TypeError('tidy: fn must be synchronous (it returned a Promise); await outside tidy and dispose explicitly');
  }
  closeScopeWith(mark, result);
  return result;
}

/** Takes a tensor out of every enclosing tidy scope, so it survives them. Returns it. */
export function keep<T extends Tracked>(tensor: T): T {
  if (top > 0) {
    const i = scoped.lastIndexOf(tensor, top - 1);
    if (i >= 0) scoped[i] = undefined;
  }
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

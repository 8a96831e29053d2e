import { ArgumentError } from '@kiln/core';
import type { Entry } from './entry.js';

/**
 * The key under which a compiled function exposes the trace for given arguments: the graph,
 * which inputs are arguments, captured tensors (weights) or the generator state, and which
 * outputs are results or state updates. Export and save read it; it is not public API.
 */
export const TRACED_ENTRY: unique symbol = Symbol('kiln.tracedEntry');

type WithEntry = { readonly [TRACED_ENTRY]?: (...args: unknown[]) => Entry };

/**
 * The trace `compiled` runs for `args` (tracing now if needed), or an ArgumentError when
 * `compiled` is not a function made by `compile()`.
 *
 * @example
 * ```ts
 * const entry = tracedEntry(compile(f), [x]);
 * entry.feeds; // [{ kind: 'arg', index: 0 }, { kind: 'captured', … }]
 * ```
 */
export function tracedEntry(compiled: unknown, args: readonly unknown[], what = 'tracedEntry'): Entry {
  const get = typeof compiled === 'function' ? (compiled as WithEntry)[TRACED_ENTRY] : undefined;
  if (!get) throw new ArgumentError(`${what}: expected a function made by compile(fn), got ${typeof compiled === 'function' ? 'a plain function; wrap it with compile() first' : typeof compiled}`);
  if (!Array.isArray(args)) throw new ArgumentError(`${what}: the example arguments must be an array (the arguments of one call), got ${typeof args}`);
  return get(...args);
}

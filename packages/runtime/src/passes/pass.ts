import type { Backend, Graph } from '@kiln/core';

/**
 * What a pass may use besides the graph. Passes stay pure: the context only lets them count
 * what they changed (for the pipeline's report) and, for constant folding, run a kernel.
 */
export interface PassContext {
  /** Counts one kind of change, e.g. `note('x * 1 → x')`. */
  note(kind: string, count?: number): void;
  /** The backend constant folding evaluates nodes on; without one it folds only shape ops. */
  readonly backend?: Backend<unknown>;
  /** Most elements a folded `constant` may hold (the data is written into the graph). Default 4096. */
  readonly maxFoldElements?: number;
}

/**
 * A named graph pass: a pure function `Graph → Graph` (it never mutates its input, and returns
 * the input itself when it changes nothing). Passes keep the graph's inputs (same values, same
 * order) and its outputs' count, order and types: callers such as compiled functions rely on it.
 *
 * @example
 * ```ts
 * const identity: Pass = { name: 'identity', doc: 'changes nothing', run: (g) => g };
 * ```
 */
export interface Pass {
  /** Kebab-case, unique in the pipeline: used to skip it or name it in reports. */
  readonly name: string;
  /** One line: what it does. */
  readonly doc: string;
  readonly run: (graph: Graph, context: PassContext) => Graph;
  /** Ops the pass creates that need a kernel: the pipeline skips it on a backend without them. */
  readonly requiresKernels?: readonly string[];
}

/** A context that records nothing, for calling a pass directly. */
export const NO_CONTEXT: PassContext = { note: () => {} };

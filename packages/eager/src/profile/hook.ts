import type { Attrs, OpDef } from '@kiln/core';
import type { Tensor } from '../tensor.js';

/** Runs one op the way dispatch does when nobody profiles. */
export type BindOp = (op: OpDef, inputs: readonly Tensor[], attrs: Attrs) => Tensor[];

/** What dispatch and autograd tell an active profiler (see `profile.ts`). */
export interface OpProfiler {
  /** Runs `run(op, inputs, attrs)` and records it as a span. */
  bind(op: OpDef, inputs: readonly Tensor[], attrs: Attrs, run: BindOp): Tensor[];
  /** Runs `fn`, a gradient rule (`opName`'s) or a whole backward pass (`opName` undefined), as a span. */
  backward<T>(opName: string | undefined, fn: () => T): T;
}

/**
 * The active profiler, or null. Dispatch reads `profiling.active` once per op, so when nobody
 * profiles the cost is one property load and a comparison.
 */
export const profiling: { active: OpProfiler | null } = { active: null };

import type { Graph } from '@kiln/core';
import { verifyGraph } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { tensor, withInterpreter } from '@kiln/eager';
import { expect } from 'vitest';
import { Trace } from '../src/index.js';

// Helpers of the control-flow tests (control.test.ts, control-grad.test.ts).

export const f32 = (data: number[]) => tensor(data, 'float32');
export const f64 = (data: number[], shape?: number[]) => tensor(data, { dtype: 'float64', ...(shape ? { shape } : {}) });
export const list = (t: Tensor) => [t.toArray()].flat(3) as number[];

/** Asserts every element of a is within tol of b's. */
export function expectClose(a: Tensor, b: Tensor, tol = 1e-12): void {
  expect(a.shape).toEqual(b.shape);
  const [x, y] = [list(a), list(b)];
  x.forEach((v, i) => expect(Math.abs(v - y[i]), `element ${i}: ${v} vs ${y[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(y[i]))));
}

/** Every graph a compiled function made passes the verifier (sub-graphs included). */
export function verified(g: Graph): Graph {
  verifyGraph(g);
  return g;
}

/** The graph `fn` traces to for these arguments, before any optimization (what the snapshots show). */
export function traced(fn: (...xs: Tensor[]) => unknown, ...args: Tensor[]): Graph {
  const trace = new Trace();
  const inputs = args.map((t, i) => trace.builder.input({ dtype: t.dtype, shape: [...t.shape] }, `a${i}`));
  const result = withInterpreter(trace, () => fn(...inputs.map((v) => trace.wrap(v))));
  trace.finished = true;
  const leaves = (x: unknown): Tensor[] => (x && typeof x === 'object' && !('dtype' in x) ? Object.values(x).flatMap(leaves) : [x as Tensor]);
  const outs = leaves(result);
  return verified(trace.builder.build(outs.map((t) => trace.valueOf(t))));
}

import type { Attrs, Node, OpDef, ProfileSpan, SpanCategory, TensorType } from '@kiln/core';
import { ArgumentError, nodeSpan, ProfileReport } from '@kiln/core';
import type { Tensor } from '../tensor.js';
import type { BindOp, OpProfiler } from './hook.js';
import { profiling } from './hook.js';

const typesOf = (tensors: readonly Tensor[]): TensorType[] => tensors.map((t) => ({ dtype: t.dtype, shape: t.shape }));

/**
 * Collects spans while `profile` runs: every eager op dispatch sees (concrete ones: ops a
 * tracer records are timed when their graph runs), gradient rules and backward passes, and what
 * other packages report through `region` and `onNode` (compiled calls and their graph nodes).
 * Holds only types, never tensors.
 */
export class Profiler implements OpProfiler {
  readonly spans: ProfileSpan[] = [];
  private backwardDepth = 0;
  /** Inside tracing or optimizing (`compile` regions): a backward pass there is being traced, not run. */
  private compileDepth = 0;
  /** Records a graph node that ran (an `executeGraph` `onNode` hook). */
  readonly onNode = (node: Node, startMs: number, endMs: number): void => {
    this.spans.push(nodeSpan(node, startMs, endMs));
  };

  bind(op: OpDef, inputs: readonly Tensor[], attrs: Attrs, run: BindOp): Tensor[] {
    const startMs = performance.now();
    const outputs = run(op, inputs, attrs);
    const endMs = performance.now();
    if (outputs.length > 0 && !outputs[0].isConcrete) return outputs;
    const backward = this.backwardDepth > 0;
    this.spans.push({
      name: backward ? `${op.name} (backward)` : op.name, category: backward ? 'backward' : 'op', startMs, endMs,
      op: op.name, inputs: typesOf(inputs), outputs: typesOf(outputs), attrs,
      ...(op.name === 'reshape' ? { bytes: 0 } : {}), // a view of its input's buffer
    });
    return outputs;
  }

  backward<T>(opName: string | undefined, fn: () => T): T {
    if (this.compileDepth > 0) return fn();
    this.backwardDepth++;
    try {
      return opName === undefined ? this.region('backward', 'backward', fn) : this.region(`vjp(${opName})`, 'vjp', fn);
    } finally {
      this.backwardDepth--;
    }
  }

  /** Runs `fn` as one span named `name` (spans recorded inside it nest in it). */
  region<T>(name: string, category: SpanCategory, fn: () => T): T {
    const compiling = category === 'compile' ? 1 : 0;
    this.compileDepth += compiling;
    const startMs = performance.now();
    try {
      return fn();
    } finally {
      this.spans.push({ name, category, startMs, endMs: performance.now() });
      this.compileDepth -= compiling;
    }
  }
}

/**
 * The profiler recording now, or null. Packages that run work dispatch does not see (the
 * tracer's compiled calls) report it here: `activeProfiler()?.region(...)` and `onNode`.
 *
 * @example
 * ```ts
 * const p = activeProfiler();
 * const outs = executeGraph(graph, backend, inputs, p ? { onNode: p.onNode } : {});
 * ```
 */
export function activeProfiler(): Profiler | null {
  return profiling.active instanceof Profiler ? profiling.active : null;
}

/**
 * Runs `fn` and returns what it returns; while a profile records, `fn` is one span named `name`
 * (kind `region`) holding the ops it runs — to see a training loop's data loading, forward,
 * backward and optimizer step as parts. Costs nothing when no profile records.
 *
 * @example
 * ```ts
 * const report = profileSync(() => {
 *   const loss = profileRegion('forward', () => lossOf(model, x, y));
 *   profileRegion('backward', () => loss.backward());
 *   profileRegion('optimizer step', () => optimizer.step());
 * });
 * ```
 */
export function profileRegion<T>(name: string, fn: () => T): T {
  const profiler = activeProfiler();
  return profiler ? profiler.region(name, 'region', fn) : fn();
}

interface Session {
  readonly profiler: Profiler;
  readonly previous: OpProfiler | null;
  readonly startMs: number;
}

function start(): Session {
  const profiler = new Profiler();
  const previous = profiling.active;
  profiling.active = profiler;
  return { profiler, previous, startMs: performance.now() };
}

/** Stops recording (the previous profiler, if any, records again) and reports. */
function stop(session: Session): ProfileReport {
  const endMs = performance.now();
  profiling.active = session.previous;
  return new ProfileReport(session.profiler.spans, session.startMs, endMs);
}

/**
 * Runs `fn` once and reports where its time went: per eager op (ops run by backward as
 * `matmul (backward)`, each gradient rule as `vjp(matmul)`), per compiled call and each node of
 * its graph (fused kernels as `fused[mul,add,tanh]`), with calls, time, bytes and GFLOP/s. See
 * `ProfileReport` for the table and the Chrome trace. A profile started inside `fn` takes over
 * until it ends. To keep what `fn` returns, assign it in the closure.
 *
 * @example
 * ```ts
 * const report = profileSync(() => matmul(x, w).relu());
 * console.log(report.table());
 * ```
 */
export function profileSync(fn: () => unknown): ProfileReport {
  const session = start();
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    profiling.active = session.previous;
    throw e;
  }
  const report = stop(session);
  if (typeof (result as { then?: unknown } | null)?.then === 'function') {
    throw new ArgumentError('profileSync: the function returned a promise, so the work after its first await would go unrecorded; use `await profile(fn)` for async functions');
  }
  return report;
}

/**
 * `profileSync` for a function that may return a promise: everything dispatched until it settles
 * is recorded (other async work running meanwhile too, so profile one thing at a time). Backends
 * that time work on a device will report it here when it completes.
 *
 * @example
 * ```ts
 * const report = await profile(() => step(x, y));
 * console.log(report.table({ limit: 10 }));
 * ```
 */
export async function profile(fn: () => unknown): Promise<ProfileReport> {
  const session = start();
  try {
    await fn();
  } catch (e) {
    profiling.active = session.previous;
    throw e;
  }
  return stop(session);
}

import type { Graph } from '@kiln/core';
import { ArgumentError } from '@kiln/core';
import { fromStorage, getBackend, getRngState, setRngState, Tensor, tensor, withInterpreter } from '@kiln/eager';
import { executeGraph, ownsOutput } from '@kiln/runtime';
import type { Captured } from './trace.js';
import { Trace } from './trace.js';
import type { Spec } from './tree.js';
import { describeChanges, flatten, specKey, unflatten } from './tree.js';

// The packages build without DOM or Node typings; every JavaScript host has console.warn.
declare const console: { warn(message: string): void };
const warn = (message: string) => console.warn(message);

export interface CompileOptions {
  /** Most distinct signatures kept (least recently used are dropped). Default 16. */
  maxCacheEntries?: number;
  /** Called with a message whenever the function is traced again, saying why. Default: none. */
  onRetrace?: (message: string) => void;
  /** Warn (console.warn, once) after this many traces. Default 8. */
  warnAfterTraces?: number;
}

/** What one trace produced: the graph and how to feed it and read it. */
interface Entry {
  readonly argSpec: Spec;
  readonly graph: Graph;
  readonly outSpec: Spec;
  readonly numArgTensors: number;
  readonly captured: readonly Captured[];
  readonly usesRng: boolean;
  readonly randomKeys: number;
  /** Graph outputs after the results: state updates, then gradient updates. */
  readonly updates: readonly Tensor[];
  readonly gradUpdates: readonly Tensor[];
  readonly gradClears: readonly Tensor[];
  /** Disposals the function asked for while tracing, done after the first run has read them. */
  pendingDisposals: Tensor[];
}

export interface CompileStats {
  traces: number;
  hits: number;
  misses: number;
}

export interface CompiledFunction<F extends (...args: any[]) => any> {
  (...args: Parameters<F>): ReturnType<F>;
  readonly stats: Readonly<CompileStats>;
  /** The graph for these arguments (tracing if needed). */
  graph(...args: Parameters<F>): Graph;
  /** Why the last retrace happened, if any. */
  readonly retraceReasons: readonly string[];
}

/**
 * Compiles `fn`: traces it into a graph on the first call for each argument signature (tensor
 * shapes and dtypes, structure, and non-tensor values), then runs the graph on later calls.
 * Tensors the function reads from its closure (model weights) are read fresh on every call;
 * `assign`s to them and `.grad` changes are written back after it, so a whole training step
 * compiles.
 *
 * @example
 * ```ts
 * const f = compile((x: Tensor, y: Tensor) => x.mul(2).add(y).relu());
 * f(tensor([1, -2]), tensor([0.5, 0.5])); // traced once, then cached
 * ```
 */
export function compile<F extends (...args: any[]) => any>(fn: F, options: CompileOptions = {}): CompiledFunction<F> {
  const maxEntries = options.maxCacheEntries ?? 16;
  const warnAfter = options.warnAfterTraces ?? 8;
  const cache = new Map<string, Entry>();
  const stats: CompileStats = { traces: 0, hits: 0, misses: 0 };
  const reasons: string[] = [];
  let lastSpec: Spec | undefined;
  let warned = false;

  const lookup = (args: unknown[]): { entry: Entry; tensors: Tensor[] } => {
    const { spec, tensors } = flatten(args, 'args');
    const key = specKey(spec);
    let entry = cache.get(key);
    const guardFailure = entry && failedGuard(entry);
    if (guardFailure) entry = undefined;
    if (entry) {
      stats.hits++;
      cache.delete(key);
      cache.set(key, entry); // most recently used last
    } else {
      stats.misses++;
      if (lastSpec) {
        const changes = describeChanges(lastSpec, spec, 'args').map((c) => c.replace(/^args\[(\d+)\]/, 'arg $1'));
        if (guardFailure) changes.push(guardFailure);
        const message = `compile: retracing ${fn.name || 'the function'} (trace ${stats.traces + 1}): ${changes.join('; ') || 'new signature'}`;
        reasons.push(message);
        options.onRetrace?.(message);
        if (stats.traces + 1 >= warnAfter && !warned) {
          warned = true;
          warn(`${message}. It has been traced ${stats.traces + 1} times: each new signature traces again. Keep shapes and non-tensor arguments stable.`);
        }
      }
      entry = traceEntry(fn, args, spec, tensors.length);
      stats.traces++;
      cache.set(key, entry);
      if (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
    }
    lastSpec = spec;
    return { entry, tensors };
  };

  const compiled = ((...args: unknown[]) => {
    const { entry, tensors } = lookup(args);
    return run(entry, tensors);
  }) as unknown as CompiledFunction<F>;
  Object.defineProperty(compiled, 'stats', { get: () => ({ ...stats }) });
  Object.defineProperty(compiled, 'retraceReasons', { get: () => [...reasons] });
  Object.defineProperty(compiled, 'graph', { value: (...args: unknown[]) => lookup(args).entry.graph });
  return compiled;
}

function traceEntry(fn: (...args: any[]) => any, args: unknown[], argSpec: Spec, numArgTensors: number): Entry {
  const trace = new Trace();
  const argTensors = flatten(args, 'args').tensors;
  const inputs = argTensors.map((t, i) => trace.builder.input({ dtype: t.dtype, shape: [...t.shape] }, `a${i}`));
  let result: unknown;
  try {
    result = withInterpreter(trace, () => {
      const tracedArgs = unflatten(argSpec, inputs.map((v) => trace.wrap(v))) as unknown[];
      return fn(...tracedArgs);
    });
  } finally {
    trace.finished = true;
  }
  const { spec: outSpec, tensors: outTensors } = flatten(result, 'result');
  const outputs = outTensors.map((t) => trace.valueOf(t));
  const updates = [...trace.updates.keys()];
  const updateValues = updates.map((t) => trace.valueOf(trace.updates.get(t)!));
  // .grad fields the function changed on captured tensors (backward() inside it) become outputs.
  const gradUpdates: Tensor[] = [];
  const gradClears: Tensor[] = [];
  const gradValues = [];
  for (const c of trace.captured) {
    if (c.gradOf) continue;
    const g = c.tensor.grad;
    if (g === c.gradBefore) continue;
    if (g === null) gradClears.push(c.tensor);
    else {
      gradUpdates.push(c.tensor);
      gradValues.push(trace.valueOf(g));
    }
    c.tensor.grad = c.gradBefore; // the real update happens when the graph runs
  }
  const graph = trace.builder.build([...outputs, ...updateValues, ...gradValues]);
  return {
    argSpec, graph, outSpec, numArgTensors, captured: trace.captured, usesRng: trace.rngInput !== undefined, randomKeys: trace.randomKeys,
    updates, gradUpdates, gradClears, pendingDisposals: [...trace.postponedDisposals],
  };
}

/**
 * Guards beyond the argument signature: the traced graph assumed each captured tensor's `.grad`
 * was set or not (backward accumulates only into an existing gradient). Returns why the entry
 * no longer applies, or undefined.
 */
function failedGuard(entry: Entry): string | undefined {
  for (const c of entry.captured) {
    if (c.gradOf) continue;
    const had = c.gradBefore !== null;
    const has = c.tensor.grad !== null;
    if (had !== has) {
      return `captured ${c.value.name} (${c.tensor.dtype}[${c.tensor.shape.join(',')}]): .grad was ${had ? 'set' : 'null'} when traced, now ${has ? 'set' : 'null'}`;
    }
  }
  return undefined;
}

/** The tensor to feed for a captured input on this call. */
function feedFor(c: Captured): Tensor {
  if (!c.gradOf) return c.tensor;
  const g = c.gradOf.grad;
  if (!g) throw new ArgumentError('compile: internal: a captured gradient slot is empty despite its guard');
  return g;
}

function run(entry: Entry, args: readonly Tensor[]): unknown {
  const { graph } = entry;
  const feeds: Tensor[] = [...args];
  for (const c of entry.captured) {
    if (!c.gradOf && c.tensor.isDisposed) {
      throw new ArgumentError(`compile: a tensor the compiled function reads from its closure (${c.tensor.dtype}[${c.tensor.shape.join(',')}]) was disposed; it is needed on every call`);
    }
  }
  // Graph inputs are ordered as the trace created them: argument tensors first, then captured
  // tensors and the generator state in the order the function first read them.
  let rng: Tensor | undefined;
  if (entry.usesRng) {
    const { seed, stream } = getRngState();
    rng = tensor(Int32Array.of(seed, stream), 'int32');
    setRngState({ seed, stream: stream + entry.randomKeys });
  }
  const feedOf = new Map(graph.inputs.map((v, i) => [v, i]));
  const ordered: Tensor[] = graph.inputs.map((v, i) => {
    if (i < entry.numArgTensors) return feeds[i];
    const c = entry.captured.find((x) => x.value === v);
    if (c) return feedFor(c);
    return rng!;
  });
  const buffers = ordered.map((t) => t.bufferFor('compiled function input'));
  const backend = buffers[0]?.backend ?? getBackend();
  const storages = executeGraph(graph, backend, buffers.map((b) => b.storage));
  const outs: Tensor[] = [];
  storages.forEach((s, i) => {
    const v = graph.outputs[i];
    if (ownsOutput(graph, i)) outs.push(fromStorage(backend, s, v.type.shape, v.type.dtype));
    else if (feedOf.has(v)) outs.push(ordered[feedOf.get(v)!].detach());
    else outs.push(outs[graph.outputs.indexOf(v)].detach()); // a repeated output shares the first's data
  });
  rng?.dispose();
  for (const t of entry.pendingDisposals.splice(0)) t.dispose();
  const numResults = outs.length - entry.updates.length - entry.gradUpdates.length;
  const results = outs.slice(0, numResults);
  entry.updates.forEach((target, k) => {
    const value = outs[numResults + k];
    target.assign(value);
    value.dispose();
  });
  entry.gradUpdates.forEach((target, k) => {
    const value = outs[numResults + entry.updates.length + k];
    const old = target.grad;
    target.grad = value;
    old?.dispose();
  });
  for (const target of entry.gradClears) {
    target.grad?.dispose();
    target.grad = null;
  }
  return unflatten(entry.outSpec, results);
}

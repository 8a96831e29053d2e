import type { Graph, TensorType } from '@kiln/core';
import { ArgumentError, shapeToString } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { activeProfiler, fromStorage, getBackend, getRngState, keep, setRngState, tensor, withInterpreter } from '@kiln/eager';
import { executeGraph, ownsOutput, runBatched } from '@kiln/runtime';
import type { Captured, Guard } from './trace.js';
import { guardKey, Trace } from './trace.js';
import type { Spec } from './tree.js';
import { flatten, unflatten } from './tree.js';

/** Where the value of one graph input comes from on each call. */
export type Feed =
  | { readonly kind: 'arg'; readonly index: number }
  | { readonly kind: 'captured'; readonly captured: Captured }
  | { readonly kind: 'rng' };

/** What the graph assumed about a captured tensor's `.grad` when the function began. */
export type GradGuard = 'set' | 'null' | 'any';

/** What one trace produced: the graph and how to feed it and read it. */
export interface Entry {
  readonly graph: Graph;
  readonly outSpec: Spec;
  /** One per graph input, in order. */
  readonly feeds: readonly Feed[];
  readonly captured: readonly Captured[];
  readonly gradGuards: ReadonlyMap<Tensor, GradGuard>;
  readonly guards: readonly Guard[];
  readonly usesRng: boolean;
  readonly randomKeys: number;
  /** Graph outputs after the results: state updates, then gradient updates. */
  readonly updates: readonly Tensor[];
  readonly gradUpdates: readonly Tensor[];
  readonly gradClears: readonly Tensor[];
  /** Indices of the graph's nodes that are ops the function ran (not constants or scalars the tracer made), in order. */
  readonly boundNodes: readonly number[];
  /** Disposals the function asked for while tracing, done after the first run has read them. */
  pendingDisposals: Tensor[];
}

/**
 * Traces `fn` once: argument tensors become graph inputs of the given types (`argTypes`, in the
 * order `flatten` lists them; static arguments stay in `argSpec` as values), and everything else
 * the function reads, assigns or differentiates becomes inputs and outputs (see {@link Entry}).
 * Leaves every tensor's `.grad` as it found it.
 */
export function traceEntry(fn: (...args: any[]) => any, argSpec: Spec, argTypes: readonly TensorType[], staticTensors: readonly Tensor[] = []): Entry {
  const trace = new Trace();
  for (const t of staticTensors) trace.staticTensors.add(t);
  const inputs = argTypes.map((t, i) => trace.builder.input({ dtype: t.dtype, shape: [...t.shape] }, `a${i}`));
  let result: unknown;
  try {
    result = withInterpreter(trace, () => {
      const tracedArgs = unflatten(argSpec, inputs.map((v) => trace.wrap(v))) as unknown[];
      return fn(...tracedArgs);
    });
  } catch (e) {
    restoreGrads(trace);
    throw e;
  } finally {
    trace.finished = true;
  }
  const { spec: outSpec, tensors: outTensors } = flatten(result, 'result');
  const outputs = outTensors.map((t) => trace.valueOf(t));
  const updates = [...trace.updates.keys()];
  const updateValues = updates.map((t) => trace.valueOf(trace.updates.get(t)!));
  // .grad fields the function changed (backward() or zeroGrad() inside it) become outputs.
  const gradUpdates: Tensor[] = [];
  const gradClears: Tensor[] = [];
  const gradValues = [];
  for (const t of touchedGrads(trace)) {
    const g = t.grad;
    if (g === trace.entryGrad(t)) continue;
    if (g === null) gradClears.push(t);
    else {
      gradUpdates.push(t);
      gradValues.push(trace.valueOf(g));
    }
  }
  restoreGrads(trace); // the real update happens when the graph runs
  const graph = trace.builder.build([...outputs, ...updateValues, ...gradValues]);
  const byValue = new Map(trace.captured.map((c) => [c.value, c]));
  const feeds: Feed[] = graph.inputs.map((v, i) => {
    if (i < argTypes.length) return { kind: 'arg', index: i };
    const c = byValue.get(v);
    return c ? { kind: 'captured', captured: c } : { kind: 'rng' };
  });
  return {
    graph, outSpec, feeds, captured: trace.captured, gradGuards: gradGuardsOf(trace), guards: [...trace.guards.values()],
    usesRng: trace.rngInput !== undefined, randomKeys: trace.randomKeys,
    boundNodes: graph.nodes.flatMap((n, i) => (n.outputs.length && trace.bound.has(n.outputs[0]) ? [i] : [])),
    updates, gradUpdates, gradClears, pendingDisposals: [...trace.postponedDisposals],
  };
}

/**
 * Concrete tensors whose `.grad` matters to the trace: captured ones that require grad or have
 * a gradient, and those whose `.grad` the function set or cleared.
 */
function touchedGrads(trace: Trace): Tensor[] {
  const out = new Set<Tensor>();
  for (const c of trace.captured) if (!c.gradOf && (c.tensor.requiresGrad || trace.entryGrad(c.tensor) !== null)) out.add(c.tensor);
  for (const t of trace.gradTouched) out.add(t);
  return [...out];
}

function restoreGrads(trace: Trace): void {
  for (const t of touchedGrads(trace)) t.grad = trace.entryGrad(t);
}

/**
 * What the graph assumed about each touched tensor's `.grad` at entry: set (backward accumulates
 * into it, or code read it), null (backward made a fresh one, `p.grad === null` skipped it), or
 * anything (the function cleared it before anything could read it, as `optimizer.zeroGrad()` first).
 */
function gradGuardsOf(trace: Trace): Map<Tensor, GradGuard> {
  const read = new Set(trace.captured.flatMap((c) => (c.gradOf ? [c.gradOf] : [])));
  const guards = new Map<Tensor, GradGuard>();
  for (const t of touchedGrads(trace)) {
    guards.set(t, read.has(t) ? 'set' : trace.gradClearedFirst.has(t) ? 'any' : trace.entryGrad(t) ? 'set' : 'null');
  }
  return guards;
}

function describeTensor(name: string | undefined, t: Tensor): string {
  return `captured ${name ?? 'tensor'} (${t.dtype}${shapeToString(t.shape)})`;
}

/**
 * Guards beyond the argument signature: each captured tensor's `.grad` (set or not, see
 * {@link GradGuard}) and the JavaScript values the trace depended on. Returns why the entry no
 * longer applies, or undefined.
 */
export function failedGuard(entry: Entry): string | undefined {
  for (const [t, want] of entry.gradGuards) {
    if (want === 'any') continue;
    const has = t.grad !== null;
    if ((want === 'set') !== has) {
      const name = entry.captured.find((c) => c.tensor === t)?.value.name;
      return `${describeTensor(name, t)}: .grad was ${want} when traced, now ${has ? 'set' : 'null'}`;
    }
  }
  for (const g of entry.guards) {
    const now = guardKey(g.read());
    if (now !== g.key) return `${g.what}: ${g.key} → ${now}`;
  }
  return undefined;
}

/** The tensor to feed for a captured input on this call. */
function feedFor(c: Captured): Tensor {
  if (!c.gradOf) {
    if (c.tensor.isDisposed) {
      throw new ArgumentError(`compile: a tensor the compiled function reads from its closure (${c.tensor.dtype}${shapeToString(c.tensor.shape)}) was disposed; it is needed on every call`);
    }
    return c.tensor;
  }
  const g = c.gradOf.grad;
  if (!g) throw new ArgumentError('compile: internal: a captured gradient slot is empty despite its guard');
  return g;
}

/** The tensors to feed, one per graph input, and the generator state tensor to free after. */
export function feedsFor(entry: Entry, args: readonly Tensor[]): { ordered: Tensor[]; rng: Tensor | undefined } {
  let rng: Tensor | undefined;
  if (entry.usesRng) {
    const { seed, stream } = getRngState();
    rng = tensor(Int32Array.of(seed, stream), 'int32');
    setRngState({ seed, stream: stream + entry.randomKeys });
  }
  const ordered = entry.feeds.map((f) => (f.kind === 'arg' ? args[f.index] : f.kind === 'captured' ? feedFor(f.captured) : rng!));
  return { ordered, rng };
}

/**
 * Runs `graph` (the entry's graph or an optimized form of it with the same inputs and outputs)
 * on the call's tensors, writes state and gradients back, and returns the results.
 */
export function runEntry(entry: Entry, args: readonly Tensor[], graph: Graph = entry.graph): unknown {
  const { ordered, rng } = feedsFor(entry, args);
  const buffers = ordered.map((t) => t.bufferFor('compiled function input'));
  const backend = buffers[0]?.backend ?? getBackend();
  const profiler = activeProfiler();
  // One submission per call on a queued backend (WebGPU: one command buffer).
  const storages = runBatched(backend, () => executeGraph(graph, backend, buffers.map((b) => b.storage), profiler ? { onNode: profiler.onNode } : {}));
  const feedOf = new Map(graph.inputs.map((v, i) => [v, i]));
  const outs: Tensor[] = [];
  storages.forEach((s, i) => {
    const v = graph.outputs[i];
    if (ownsOutput(graph, i)) outs.push(fromStorage(backend, s, v.type.shape, v.type.dtype));
    else if (feedOf.has(v)) outs.push(ordered[feedOf.get(v)!].detach());
    else outs.push(outs[graph.outputs.indexOf(v)].detach()); // a repeated output shares the first's data
  });
  rng?.dispose();
  for (const t of entry.pendingDisposals.splice(0)) t.dispose();
  return writeBack(entry, outs);
}

/** Assigns state and gradient outputs to their tensors; returns the results (unflattened). */
export function writeBack(entry: Entry, outs: readonly Tensor[]): unknown {
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
    target.grad = keep(value); // as backward() does: gradients outlive the caller's tidy()
    if (old !== value) old?.dispose();
  });
  for (const target of entry.gradClears) {
    target.grad?.dispose();
    target.grad = null;
  }
  return unflatten(entry.outSpec, results);
}

/** A copy of `entry` for another graph with the same inputs and outputs (a specialization). */
export function withGraph(entry: Entry, graph: Graph): Entry {
  return { ...entry, graph, pendingDisposals: [] };
}

import type { Graph } from '@kiln/core';
import { activeProfiler, getBackend } from '@kiln/eager';
import type { OptimizeOptions, OptimizeResult } from '@kiln/runtime';
import { optimize } from '@kiln/runtime';
import type { CheckOptions } from './check.js';
import { runChecked } from './check.js';
import type { TemplateGraph } from './dynamic.js';
import { fitTemplate, specialize } from './dynamic.js';
import { probePoints } from './formula.js';
import type { Entry } from './entry.js';
import { failedGuard, runEntry, traceEntry, withGraph } from './entry.js';
import type { CompileExplanation } from './explain.js';
import { explainEntry } from './explain.js';
import type { Signature, SizeSymbol } from './signature.js';
import { signatureOf, signatureOptions, typesAt } from './signature.js';
import { sameBehaviour } from './probe.js';
import { describeChanges } from './tree.js';
import { TRACED_ENTRY } from './traced.js';

// The packages build without DOM or Node typings; every JavaScript host has console.warn.
declare const console: { warn(message: string): void };
const warn = (message: string) => console.warn(message);

export interface CompileOptions {
  /** Most distinct signatures kept (least recently used are dropped), and most sizes kept per dynamic graph. Default 16. */
  maxCacheEntries?: number;
  /** Called with a message whenever the function is traced again, saying why. Default: none. */
  onRetrace?: (message: string) => void;
  /** Warn (console.warn, once) after this many traces for new signatures. Default 8. */
  warnAfterTraces?: number;
  /**
   * Indices of static arguments: passed to the function as they are, their values baked into
   * the graph and part of the cache key — tensors by value (so the function may read them with
   * `item()`), numbers, strings, arrays and plain objects by value, other objects by identity.
   */
  static?: readonly number[];
  /**
   * Dynamic dimensions, by argument index: `{ 0: [0] }` says axis 0 of argument 0 (a tensor)
   * varies, as a batch size, and one graph serves every size ≥ 2 of it (sizes 0 and 1 get their
   * own). Declared dimensions with equal sizes vary together.
   */
  dynamic?: Readonly<Record<number, readonly number[]>>;
  /**
   * Run the function eagerly too on every call and compare: the first graph node whose values
   * differ from the eager op beyond tolerance is reported (a `CompileCheckError`, or `onMismatch`).
   */
  check?: boolean | CheckOptions;
  /**
   * Optimize each traced graph once before running it (default true): `@kiln/runtime`'s pass
   * pipeline (dce, cse, constant folding on the current backend, exact simplification, fusion).
   * `false` runs graphs as traced; an object picks passes (`skip`, `stopAfter`) to bisect.
   */
  optimize?: boolean | Pick<OptimizeOptions, 'skip' | 'stopAfter' | 'verify' | 'maxFoldElements'>;
}

export interface CompileStats {
  /** Times the function was traced (dynamic dimensions trace it at extra sizes). */
  traces: number;
  /** Calls that found a graph for their signature. */
  hits: number;
  /** Calls that had to trace. */
  misses: number;
  /**
   * Graphs made for a new size of a dynamic dimension from a traced template, without tracing
   * (present when `dynamic` is given).
   */
  specializations?: number;
}

export interface CompiledFunction<F extends (...args: any[]) => any> {
  (...args: Parameters<F>): ReturnType<F>;
  readonly stats: Readonly<CompileStats>;
  /** The graph these arguments run, optimized (tracing if needed); `explain()` also has the traced one. */
  graph(...args: Parameters<F>): Graph;
  /** What compile does with these arguments: the graph, passes, fused kernels, peak memory, retraces, guards. */
  explain(...args: Parameters<F>): CompileExplanation;
  /** Every retrace explanation so far, oldest first. */
  readonly retraceReasons: readonly string[];
}

/** Most graphs kept for one signature that differ only in their guards. */
const MAX_GUARDED_SLOTS = 4;

/** A cache slot: the graph traced for one signature, and for dynamic ones the template and its sizes. */
interface Slot {
  readonly base: Entry;
  readonly dynamic?: {
    readonly template: TemplateGraph;
    readonly symbols: readonly SizeSymbol[];
    readonly traced: readonly (readonly number[])[];
    readonly bySize: Map<string, Entry>;
  };
}

/**
 * Compiles `fn`: traces it into a graph on the first call for each argument signature (tensor
 * shapes and dtypes, structure, and non-tensor values), then runs the graph on later calls.
 * Tensors the function reads from its closure (model weights) are read fresh on every call;
 * `assign`s to them and `.grad` changes are written back after it, so a whole training step
 * compiles. `static` and `dynamic` refine the signature; `check` compares against eager.
 *
 * @example
 * ```ts
 * const f = compile((x: Tensor, y: Tensor) => x.mul(2).add(y).relu());
 * f(tensor([1, -2]), tensor([0.5, 0.5])); // traced once, then cached
 * const g = compile((x: Tensor) => x.mean(0), { dynamic: { 0: [0] } });
 * g(ones([32, 4])); g(ones([17, 4])); // one template, specialized for 17 without tracing
 * ```
 */
export function compile<F extends (...args: any[]) => any>(fn: F, options: CompileOptions = {}): CompiledFunction<F> {
  const maxEntries = options.maxCacheEntries ?? 16;
  const warnAfter = options.warnAfterTraces ?? 8;
  const sigOptions = signatureOptions(options);
  const cache = new Map<string, Slot[]>();
  const stats: CompileStats = { traces: 0, hits: 0, misses: 0, ...(sigOptions.dynamic.size ? { specializations: 0 } : {}) };
  const reasons: string[] = [];
  const name = fn.name || 'the function';
  /** `work` as a span of the active profiler (`trace f`, `optimize f`), if one records. */
  const profiled = <T>(what: string, work: () => T): T => {
    const profiler = activeProfiler();
    return profiler ? profiler.region(`${what} ${fn.name || 'function'}`, 'compile', work) : work();
  };
  let last: Signature | undefined;
  let warned = false;
  const optimizeOptions = options.optimize === false ? undefined : options.optimize === true ? {} : options.optimize ?? {};
  const optimized = new WeakMap<Entry, OptimizeResult>();
  /** The graph an entry runs: optimized once per entry (each trace, each dynamic size), then kept. */
  const optimizedOf = (entry: Entry): OptimizeResult | undefined => {
    if (!optimizeOptions) return undefined;
    let result = optimized.get(entry);
    if (!result) optimized.set(entry, (result = profiled('optimize', () => optimize(entry.graph, { ...optimizeOptions, backend: getBackend() }))));
    return result;
  };
  const graphOf = (entry: Entry): Graph => optimizedOf(entry)?.graph ?? entry.graph;

  const trace = (sig: Signature, types = sig.types): Entry => {
    stats.traces++;
    return profiled('trace', () => traceEntry(fn, sig.spec, types, sig.staticTensors));
  };

  const build = (sig: Signature): Slot => {
    const base = trace(sig);
    if (sig.symbols.length === 0) return { base };
    const points = probePoints(sig.symbols.map((s) => s.size));
    const describe = (p: readonly number[]) => describeSizes(sig.symbols, p);
    const probes = points.slice(1).map((p) => probeTrace(() => trace(sig, typesAt(sig.types, sig.symbols, p)), describe(p)));
    sameBehaviour([base, ...probes], points.map(describe));
    const template = fitTemplate([base, ...probes].map((e) => e.graph), points, describe);
    return { base, dynamic: { template, symbols: sig.symbols, traced: points, bySize: new Map([[points[0].join(','), base]]) } };
  };

  const entryFor = (slot: Slot, sig: Signature): Entry => {
    if (!slot.dynamic) return slot.base;
    const sizes = sig.symbols.map((s) => s.size);
    const key = sizes.join(',');
    const { bySize } = slot.dynamic;
    let entry = bySize.get(key);
    if (entry) {
      bySize.delete(key);
    } else {
      entry = withGraph(slot.base, specialize(slot.dynamic.template, sizes, describeSizes(sig.symbols, sizes)));
      stats.specializations!++;
      if (bySize.size >= maxEntries) bySize.delete(bySize.keys().next().value!);
    }
    bySize.set(key, entry);
    return entry;
  };

  const lookup = (args: unknown[]): { entry: Entry; sig: Signature; slot: Slot } => {
    const sig = signatureOf(args, sigOptions);
    // A signature keeps a few slots that differ in their guards (.grad set or not, an option).
    const slots = cache.get(sig.key) ?? [];
    let guardFailure: string | undefined;
    let slot = slots.find((s) => {
      const failure = failedGuard(s.base);
      guardFailure ??= failure;
      return !failure;
    });
    cache.delete(sig.key);
    if (slot) {
      stats.hits++;
      cache.set(sig.key, [slot, ...slots.filter((s) => s !== slot)]); // most recently used last, and first in its list
    } else {
      stats.misses++;
      if (last) {
        // Dynamic dimensions (masked as -1) show as n: only their sizes 0 and 1 are changes.
        const changes = describeChanges(last.maskedSpec, sig.maskedSpec, 'args').map((c) => c.replace(/^args\[(\d+)\]/, 'arg $1').replace(/shape \[[^\]]*\] → \[[^\]]*\]/g, (m) => m.replace(/(?<=[[,])-1(?=[,\]])/g, 'n')));
        if (guardFailure) changes.push(guardFailure);
        if (changes.length === 0) changes.push(symbolChange(last, sig));
        const message = `compile: retracing ${name} (trace ${stats.misses}): ${changes.join('; ')}`;
        reasons.push(message);
        options.onRetrace?.(message);
        if (stats.misses >= warnAfter && !warned) {
          warned = true;
          warn(`${message}. It has been traced ${stats.misses} times: each new signature traces again. Keep shapes and non-tensor arguments stable, or declare varying dimensions with { dynamic }.`);
        }
      }
      slot = build(sig);
      cache.set(sig.key, [slot, ...slots].slice(0, MAX_GUARDED_SLOTS));
      if (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
    }
    last = sig;
    return { entry: entryFor(slot, sig), sig, slot };
  };

  const checkOptions = options.check === true ? {} : options.check || undefined;
  const call = (args: unknown[]): unknown => {
    const { entry, sig } = lookup(args);
    if (checkOptions) return runChecked(fn, args, entry, sig.tensors, checkOptions, graphOf(entry));
    return runEntry(entry, sig.tensors, graphOf(entry));
  };
  const compiled = ((...args: unknown[]) => {
    const profiler = activeProfiler();
    return profiler ? profiler.region(fn.name ? `compiled ${fn.name}` : 'compiled function', 'compiled', () => call(args)) : call(args);
  }) as unknown as CompiledFunction<F>;
  Object.defineProperty(compiled, 'stats', { get: () => ({ ...stats }) });
  Object.defineProperty(compiled, 'retraceReasons', { get: () => [...reasons] });
  Object.defineProperty(compiled, 'graph', { value: (...args: unknown[]) => graphOf(lookup(args).entry) });
  Object.defineProperty(compiled, TRACED_ENTRY, { value: (...args: unknown[]) => lookup(args).entry });
  Object.defineProperty(compiled, 'explain', {
    value: (...args: unknown[]) => {
      const { entry, sig, slot } = lookup(args);
      const opt = optimizedOf(entry);
      return explainEntry(entry, {
        name, stats: { ...stats }, retraceReasons: [...reasons],
        ...(opt ? { optimized: { graph: opt.graph, passes: opt.passes.filter((p) => p.ran) } } : {}),
        ...(slot.dynamic ? { dynamic: { template: slot.dynamic.template, symbols: sig.symbols, traced: slot.dynamic.traced } } : {}),
      });
    },
  });
  return compiled;
}

/** `arg 0 axis 0 = 5` (dimensions sharing a symbol joined with `=`), for each symbol. */
function describeSizes(symbols: readonly SizeSymbol[], sizes: readonly number[]): string {
  return symbols.map((s, k) => `${s.dims.map((d) => `arg ${d.arg} axis ${d.axis}`).join(' = ')} = ${sizes[k]}`).join(', ');
}

/** Why two signatures with the same spec differ: their dynamic dimensions group differently. */
function symbolChange(before: Signature, after: Signature): string {
  const groups = (s: Signature) => s.symbols.map((x) => x.dims.map((d) => `arg ${d.arg} axis ${d.axis}`).join(' = ')).join('; ') || 'none';
  return `dynamic dimensions of equal size were {${groups(before)}}, now {${groups(after)}} (equal sizes share one symbol)`;
}

/** Runs a probe trace, naming the probe size in any error it throws. */
function probeTrace(trace: () => Entry, sizes: string): Entry {
  try {
    return trace();
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    const Kind = (e instanceof Error ? e.constructor : Error) as new (message: string) => Error;
    throw new Kind(`compile: dynamic dimensions: tracing again with ${sizes}, to fit the graph to the size, failed: ${why}`);
  }
}

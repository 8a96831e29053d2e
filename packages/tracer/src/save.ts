import type { Backend, TypedArray } from '@kiln/core';
import { ArgumentError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { activeProfiler, getBackend, tensor } from '@kiln/eager';
import type { LoadedModel, LoadModelOptions } from '@kiln/runtime';
import { loadModel } from '@kiln/runtime';
import type { HostTensor, Metadata, Producer, Signature, SignatureInput, SignatureOutput, SymbolicShapes } from '@kiln/serializer';
import { writeModel } from '@kiln/serializer';
import type { CompiledFunction } from './compile.js';
import type { Entry } from './entry.js';
import { symbolicFor, type SymbolOptions } from './save_dynamic.js';
import { tracedEntry } from './traced.js';
import type { Spec } from './tree.js';

export interface SaveOptions {
  /**
   * Names for captured tensors: an nn `Module` (its `namedParameters()` and `namedBuffers()`)
   * or `[name, tensor]` pairs. Others are named `param_<k>` / `buffer_<k>`.
   */
  readonly names?: Iterable<readonly [string, Tensor]> | NamedTensors;
  /** Names of the argument tensors in the order the arguments flatten (default `input_<i>`). */
  readonly inputNames?: readonly string[];
  /** Names of the result tensors in the order the result flattens (default from the result's structure). */
  readonly outputNames?: readonly string[];
  /**
   * Dimensions that stay symbolic in the file, by argument index, as `compile`'s `dynamic`:
   * `{ 0: [0] }` saves a batch-dynamic model. Dimensions of equal size share a symbol.
   */
  readonly dynamic?: Readonly<Record<number, readonly number[]>>;
  /** Names and bounds of the symbols, in the order of first appearance (default `s0`, `s1`… with min 1). */
  readonly symbols?: readonly SymbolOptions[];
  readonly metadata?: Metadata;
  readonly producer?: Producer;
}

/**
 * Saves the graph `compiled` runs for `exampleArgs` as `.kiln` bytes: the argument tensors are
 * the model's inputs, tensors read from the closure are stored in the file (`parameter` when
 * they require grad, else `buffer`), the generator state is an `rng` input, and for training
 * steps `assign`s and new `.grad`s are outputs tagged as state updates and gradients. Load it
 * with `loadModel` (`@kiln/runtime`, no tracer needed) or {@link load}.
 *
 * @example
 * ```ts
 * model.eval();
 * const predict = compile((x: Tensor) => model.forward(x));
 * const bytes = save(predict, [zeros([8, 784])], { names: model, dynamic: { 0: [0] }, symbols: [{ name: 'batch' }] });
 * writeFileSync('mlp.kiln', bytes);
 * ```
 */
export function save<F extends (...args: any[]) => any>(compiled: CompiledFunction<F>, exampleArgs: Parameters<F>, options: SaveOptions = {}): Uint8Array {
  const entry = tracedEntry(compiled, exampleArgs, 'save');
  if (entry.gradClears.length) {
    throw new ArgumentError(`save: the function leaves .grad null on ${entry.gradClears.length} tensor(s) it read (zeroGrad() at the end); a saved graph can only replace gradients. Clear gradients at the start of the step instead`);
  }
  const names = namesOf(options.names);
  const { signature, weights } = signatureOf(entry, names, options);
  const symbolic: SymbolicShapes | undefined = options.dynamic ? symbolicFor(compiled, exampleArgs, entry, options.dynamic, options.symbols ?? []) : undefined;
  return writeModel({
    graph: entry.graph, signature, weights,
    ...(symbolic ? { symbolic } : {}),
    ...(options.producer ? { producer: options.producer } : {}),
    ...(options.metadata ? { metadata: options.metadata } : {}),
  });
}

/** What save needs of an nn Module (the tracer does not depend on nn). */
export interface NamedTensors {
  namedParameters(): Iterable<readonly [string, Tensor]>;
  namedBuffers(): Iterable<readonly [string, Tensor]>;
}

function namesOf(given: SaveOptions['names']): Map<Tensor, string> {
  const names = new Map<Tensor, string>();
  if (!given) return names;
  const module = given as Partial<NamedTensors>;
  const pairs = typeof module.namedParameters === 'function' && typeof module.namedBuffers === 'function'
    ? [...module.namedParameters(), ...module.namedBuffers()]
    : Symbol.iterator in given ? given as Iterable<readonly [string, Tensor]> : undefined;
  if (!pairs) throw new ArgumentError('save: names must be an nn Module or [name, tensor] pairs (model.namedParameters())');
  for (const [name, t] of pairs) if (!names.has(t)) names.set(t, name);
  return names;
}

function signatureOf(entry: Entry, names: ReadonlyMap<Tensor, string>, options: SaveOptions): { signature: Signature; weights: (TypedArray | undefined)[] } {
  const weights: (TypedArray | undefined)[] = [];
  const inputIndex = new Map<Tensor, number>();
  let args = 0;
  const counters = { param: 0, buffer: 0 };
  const inputs = entry.feeds.map((feed, i): SignatureInput => {
    if (feed.kind === 'arg') {
      weights.push(undefined);
      const k = args++;
      return { name: options.inputNames?.[k] ?? `input_${k}`, role: 'input' };
    }
    if (feed.kind === 'rng') {
      weights.push(undefined);
      return { name: 'rng_state', role: 'rng' };
    }
    const { captured } = feed;
    if (captured.gradOf) {
      const g = captured.gradOf.grad;
      if (!g) throw new ArgumentError(`save: the gradient read as input ${i} is empty`);
      weights.push(g.dataSync());
      return { name: '', role: 'gradient' }; // named and targeted below, once every parameter has its index
    }
    inputIndex.set(captured.tensor, i);
    weights.push(captured.tensor.dataSync());
    const role = captured.tensor.requiresGrad ? 'parameter' : 'buffer';
    const name = names.get(captured.tensor) ?? `${role === 'parameter' ? 'param' : 'buffer'}_${role === 'parameter' ? counters.param++ : counters.buffer++}`;
    return { name, role };
  });
  if (options.inputNames && options.inputNames.length !== args) {
    throw new ArgumentError(`save: inputNames has ${options.inputNames.length} names but the arguments hold ${args} tensors`);
  }
  const targetOf = (t: Tensor, what: string): number => {
    const i = inputIndex.get(t);
    if (i === undefined) throw new ArgumentError(`save: the function ${what} a tensor it never reads; a saved graph can only update its own inputs`);
    return i;
  };
  entry.feeds.forEach((feed, i) => {
    if (feed.kind === 'captured' && feed.captured.gradOf) {
      const target = targetOf(feed.captured.gradOf, 'reads the .grad of');
      inputs[i] = { name: `${inputs[target].name}.grad`, role: 'gradient', target };
    }
  });
  const numResults = entry.graph.outputs.length - entry.updates.length - entry.gradUpdates.length;
  const resultNames = options.outputNames ?? specNames(entry.outSpec);
  if (resultNames.length !== numResults) throw new ArgumentError(`save: outputNames has ${resultNames.length} names but the result holds ${numResults} tensors`);
  const outputs: SignatureOutput[] = [
    ...resultNames.map((name): SignatureOutput => ({ name, role: 'output' })),
    ...entry.updates.map((t): SignatureOutput => {
      const target = targetOf(t, 'assigns');
      return { name: `${inputs[target].name}.next`, role: 'stateUpdate', target };
    }),
    ...entry.gradUpdates.map((t): SignatureOutput => {
      const target = targetOf(t, 'sets the .grad of');
      return { name: `${inputs[target].name}.grad`, role: 'gradient', target };
    }),
  ];
  return { signature: { inputs, outputs, rngKeysPerRun: entry.usesRng ? entry.randomKeys : 0 }, weights };
}

/** Names of a result's tensors from its structure: `output` for a lone tensor, else the path (`loss`, `0`, `pair.1`). */
function specNames(spec: Spec): string[] {
  const out: string[] = [];
  const visit = (s: Spec, path: string[]) => {
    if (s.kind === 'tensor') out.push(path.length ? path.join('.') : 'output');
    else if (s.kind === 'array') s.items.forEach((x, i) => visit(x, [...path, String(i)]));
    else if (s.kind === 'object') s.entries.forEach(([k, x]) => visit(x, [...path, k]));
  };
  visit(spec, []);
  return out;
}

/** A model loaded for eager code: `run` takes and returns Tensors. */
export interface TensorModel {
  readonly signature: Signature;
  /** The runtime's model underneath (no tracer, no eager). */
  readonly model: LoadedModel;
  /** Runs on the user inputs (in signature order); returns the results as tensors on the model's backend. */
  run(...inputs: Tensor[]): Tensor[];
  dispose(): void;
}

/**
 * Loads `.kiln` bytes (see `loadModel` in `@kiln/runtime`) on eager's current backend, with a
 * `run` over Tensors. Deployed programs that use no eager code call `loadModel` directly.
 *
 * @example
 * ```ts
 * const model = load(bytes);
 * const [y] = model.run(x);
 * ```
 */
export function load(bytes: Uint8Array, options: Partial<LoadModelOptions<unknown>> = {}): TensorModel {
  const backend = (options.backend ?? getBackend()) as Backend<unknown>;
  const model = loadModel(bytes, { ...options, backend });
  return {
    signature: model.signature, model,
    run: (...inputs) => {
      const host = inputs.map((t) => ({ dtype: t.dtype, shape: [...t.shape], data: t.dataSync() }));
      // Inside profile(), the model's run and its nodes join the profile (same clock).
      const profiler = activeProfiler();
      let results: HostTensor[];
      if (profiler) {
        const profiled = model.profile(...host);
        profiler.spans.push(...[...profiled.report.spans].reverse()); // children before parents, as recorded
        results = profiled.results;
      } else {
        results = model.run(...host);
      }
      return results.map((r) => tensor(r.data, { dtype: r.dtype, shape: r.shape }));
    },
    dispose: () => model.dispose(),
  };
}

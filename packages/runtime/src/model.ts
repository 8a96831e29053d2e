import type { Backend, DType, Graph, ProfileSpan, TypedArray } from '@kiln/core';
import { ArgumentError, DTypeError, nodeSpan, ProfileReport, ShapeError, shapeToString } from '@kiln/core';
import type { HostTensor, ModelFile, ReadOptions, Signature } from '@kiln/serializer';
import { bindSizes, formatSizeExpr, readModel, specializeGraph } from '@kiln/serializer';
import { runBatched } from './batch.js';
import { executeGraph, ownsOutput, type ExecuteOptions } from './execute.js';
import { optimize } from './pipeline.js';

export interface LoadModelOptions<S> {
  /** The backend the model runs on (its weights are uploaded there once). */
  readonly backend: Backend<S>;
  /** Run the optimization pipeline (`optimize`) on the graph before the first run. Default true. */
  readonly optimize?: boolean;
  /** Generator state the first run starts from, for models with an `rng` input. Default `{ seed: 0, stream: 0 }`. */
  readonly rng?: { readonly seed: number; readonly stream: number };
  /** Limits for reading untrusted files (see `readModel`). */
  readonly read?: ReadOptions;
}

/** A user input of a loaded model: its name, dtype and shape (symbolic dimensions as expressions, `'batch'`). */
export interface ModelInputType {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly (number | string)[];
}

/** A model read from `.kiln` bytes, ready to run on its backend. */
export interface LoadedModel {
  readonly signature: Signature;
  /** The inputs `run` takes, in order. */
  readonly inputs: readonly ModelInputType[];
  /** Names of the results `run` returns, in order. */
  readonly outputs: readonly string[];
  /** The file as read (graph as saved, producer, version, metadata). */
  readonly file: ModelFile;
  /**
   * Runs the model on the user inputs (in signature order) and returns its results. State
   * updates (training steps) replace the stored inputs they target, so the next run sees them.
   */
  run(...inputs: HostTensor[]): HostTensor[];
  /**
   * `run` for backends that read back asynchronously (WebGPU, whose `readSync` throws): the
   * same graph and the same state updates, with results read by `backend.read`. Works on every
   * backend. A model with state updates must await each call before starting the next.
   *
   * @example
   * ```ts
   * const [logits] = await model.runAsync({ dtype: 'float32', shape: [1, 784], data: pixels });
   * ```
   */
  runAsync(...inputs: HostTensor[]): Promise<HostTensor[]>;
  /**
   * `run`, timed: the results and a report with one span for the whole run (uploads and
   * read-backs included) and one per graph node inside it (fused kernels named by their body),
   * with calls, time, bytes and GFLOP/s per op; `report.table()` prints it.
   *
   * @example
   * ```ts
   * const { results, report } = model.profile({ dtype: 'float32', shape: [1, 784], data: pixels });
   * console.log(report.table());
   * ```
   */
  profile(...inputs: HostTensor[]): ModelProfile;
  /** The graph `run` executes for inputs of these shapes (optimized unless disabled). */
  graphFor(...shapes: (readonly number[])[]): Graph;
  /**
   * The current stored inputs (parameters, buffers, gradients) by name, read back from the
   * backend, and the gradients a run produced that the graph does not read back (named as their
   * outputs, e.g. `'0.weight.grad'`).
   */
  state(): Map<string, HostTensor>;
  /**
   * `state` for backends that read back asynchronously (WebGPU, where `state()` throws the
   * backend's synchronous-read error): the same names and tensors, read by `backend.read`.
   * Works on every backend. What is stored when it is called is what it reads: await a
   * `runAsync` before calling it to see that run's updates.
   *
   * @example
   * ```ts
   * await model.runAsync(x, labels);
   * const weights = (await model.stateAsync()).get('0.weight')!.data;
   * ```
   */
  stateAsync(): Promise<Map<string, HostTensor>>;
  /** Frees the model's storage on its backend. */
  dispose(): void;
}

/** What `LoadedModel.profile` returns. */
export interface ModelProfile {
  readonly results: HostTensor[];
  readonly report: ProfileReport;
}

const MAX_SPECIALIZATIONS = 8;

const ARRAY_OF: Readonly<Record<DType, { readonly name: string; [Symbol.hasInstance](x: unknown): boolean }>> = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array,
};

/**
 * Loads a model from `.kiln` bytes (validated by `readModel`: any problem is a FormatError),
 * uploads its stored weights to `backend`, and returns it ready to run with `executeGraph`.
 * Needs no tracer, autograd or eager code. A model with symbolic dimensions runs at any size its
 * symbols allow; the graph for each new size is rebuilt (shapes inferred again) and cached.
 *
 * @example
 * ```ts
 * const model = loadModel(bytes, { backend: cpu });
 * const [y] = model.run({ dtype: 'float32', shape: [1, 784], data: pixels });
 * ```
 */
export function loadModel<S>(bytes: Uint8Array, options: LoadModelOptions<S>): LoadedModel {
  const backend = options?.backend;
  if (!backend || typeof backend.upload !== 'function') throw new ArgumentError('loadModel: options.backend must be a Backend (e.g. the CPU backend)');
  const file = readModel(bytes, options.read);
  const { signature, symbolic } = file;
  const userInputs = signature.inputs.flatMap((s, i) => (s.role === 'input' ? [i] : []));
  const resultOutputs = signature.outputs.flatMap((s, i) => (s.role === 'output' ? [i] : []));
  const symbolNames = symbolic?.symbols.map((s) => s.name) ?? [];
  const inputs = userInputs.map((i): ModelInputType => {
    const v = file.graph.inputs[i];
    const dims = symbolic?.dims.get(v);
    return { name: signature.inputs[i].name, dtype: v.type.dtype, shape: v.type.shape.map((d, a) => (dims?.[a] ? formatSizeExpr(dims[a]!, symbolNames) : d)) };
  });
  const stored = new Map<number, S>();
  file.weights.forEach((data, i) => {
    if (data) stored.set(i, backend.upload(data, file.graph.inputs[i].type));
  });
  let rng = { seed: options.rng?.seed ?? 0, stream: options.rng?.stream ?? 0 };
  const graphs = new Map<string, Graph>();
  const prepare = (g: Graph) => (options.optimize === false ? g : optimize(g, { backend: backend as Backend<unknown> }).graph);
  const graphFor = (shapes: readonly (readonly number[])[]): Graph => {
    const sizes = symbolic ? bindSizes(file.graph, signature, symbolic, shapes) : [];
    const key = sizes.join(',');
    let g = graphs.get(key);
    if (g) {
      graphs.delete(key);
    } else {
      const same = sizes.every((n, k) => n === symbolic!.sizes[k]);
      g = prepare(same || !symbolic ? file.graph : specializeGraph(file.graph, symbolic, sizes));
      if (graphs.size >= MAX_SPECIALIZATIONS) graphs.delete(graphs.keys().next().value!);
    }
    graphs.set(key, g);
    return g;
  };
  let disposed = false;

  // Runs the graph; results are still on the backend (read them, then `settle`).
  const launch = (given: readonly HostTensor[], onNode?: ExecuteOptions['onNode']): { graph: Graph; outs: S[]; temporary: S[] } => {
    if (disposed) throw new ArgumentError('loadModel: run() on a disposed model');
    if (given.length !== userInputs.length) {
      throw new ArgumentError(`run: the model takes ${userInputs.length} input${userInputs.length === 1 ? '' : 's'} (${inputs.map((x) => x.name).join(', ')}), got ${given.length}`);
    }
    given.forEach((t, j) => checkInput(t, inputs[j], symbolic !== undefined));
    const graph = graphFor(given.map((t) => t.shape));
    const feeds: S[] = [];
    const temporary: S[] = [];
    graph.inputs.forEach((v, i) => {
      const role = signature.inputs[i].role;
      if (role === 'input') {
        const s = backend.upload(given[userInputs.indexOf(i)].data, v.type);
        temporary.push(s);
        feeds.push(s);
      } else if (role === 'rng') {
        const s = backend.upload(Int32Array.of(rng.seed, rng.stream), v.type);
        temporary.push(s);
        feeds.push(s);
      } else {
        feeds.push(stored.get(i)!);
      }
    });
    let outs: S[];
    try {
      outs = runBatched(backend, () => executeGraph(graph, backend, feeds, onNode ? { onNode } : {}));
    } catch (e) {
      temporary.forEach((s) => backend.dispose(s));
      throw e;
    }
    rng = { seed: rng.seed, stream: rng.stream + signature.rngKeysPerRun };
    return { graph, outs, temporary };
  };

  // After the results were read: state updates and gradients replace their stored inputs
  // (`copy(i)` is the host value of output i where the graph does not own it), the rest is freed.
  const settle = (graph: Graph, outs: S[], temporary: S[], copy: (i: number) => TypedArray): void => {
    // State updates and gradients become the stored inputs they target; other outputs are freed.
    const kept = new Set<S>(stored.values());
    signature.outputs.forEach((s, i) => {
      if (s.role === 'output') return;
      // A gradient the graph does not read back (no gradient input) is kept under slot -1 - i.
      const input = s.role === 'gradient' ? signature.inputs.findIndex((x) => x.role === 'gradient' && x.target === s.target) : s.target!;
      const t = input < 0 ? -1 - i : input;
      const type = graph.outputs[i].type;
      const fresh = ownsOutput(graph, i) ? outs[i] : backend.upload(copy(i), type);
      const old = stored.get(t);
      stored.set(t, fresh);
      kept.add(fresh);
      if (old !== undefined && old !== fresh) {
        kept.delete(old);
        backend.dispose(old);
      }
    });
    const freed = new Set<S>();
    outs.forEach((s, i) => {
      if (!ownsOutput(graph, i) || kept.has(s) || freed.has(s)) return;
      freed.add(s);
      backend.dispose(s);
    });
    temporary.forEach((s) => backend.dispose(s));
  };

  // A read failed (a lost device, a backend that reads only asynchronously): free what the run
  // made and keep the stored state as it was.
  const discard = (graph: Graph, outs: S[], temporary: S[]): void => {
    const kept = new Set<S>(stored.values());
    new Set(outs.filter((s, i) => ownsOutput(graph, i) && !kept.has(s))).forEach((s) => backend.dispose(s));
    temporary.forEach((s) => backend.dispose(s));
  };

  const runWith = (given: readonly HostTensor[], onNode?: ExecuteOptions['onNode']): HostTensor[] => {
    const { graph, outs, temporary } = launch(given, onNode);
    let results: HostTensor[];
    try {
      results = resultOutputs.map((i) => {
        const t = graph.outputs[i].type;
        return { dtype: t.dtype, shape: [...t.shape], data: backend.readSync(outs[i], t) };
      });
    } catch (e) {
      discard(graph, outs, temporary); // e.g. WebGPU's SyncReadError: nothing of the run is kept
      throw e;
    }
    settle(graph, outs, temporary, (i) => backend.readSync(outs[i], graph.outputs[i].type));
    return results;
  };

  const runAsync = async (...given: HostTensor[]): Promise<HostTensor[]> => {
    const { graph, outs, temporary } = launch(given);
    const read = (i: number) => backend.read(outs[i], graph.outputs[i].type);
    let results: HostTensor[];
    const copies = new Map<number, TypedArray>();
    try {
      results = await Promise.all(resultOutputs.map(async (i) => {
        const t = graph.outputs[i].type;
        return { dtype: t.dtype, shape: [...t.shape], data: await read(i) };
      }));
      for (let i = 0; i < signature.outputs.length; i++) {
        if (signature.outputs[i].role !== 'output' && !ownsOutput(graph, i)) copies.set(i, await read(i));
      }
    } catch (e) {
      discard(graph, outs, temporary);
      throw e;
    }
    settle(graph, outs, temporary, (i) => copies.get(i)!);
    return results;
  };

  const run = (...given: HostTensor[]): HostTensor[] => runWith(given);
  const profile = (...given: HostTensor[]): ModelProfile => {
    const spans: ProfileSpan[] = [];
    const startMs = performance.now();
    const results = runWith(given, (node, start, end) => spans.push(nodeSpan(node, start, end)));
    const endMs = performance.now();
    spans.push({ name: 'model run', category: 'model', startMs, endMs });
    return { results, report: new ProfileReport(spans, startMs, endMs) };
  };

  /** The stored tensors with their names and types. */
  const storedEntries = () => [...stored].map(([i, s]) => {
    // Slots below 0 hold gradient outputs without an input: typed as the parameter they target.
    const spec = i >= 0 ? signature.inputs[i] : signature.outputs[-1 - i];
    return { name: spec.name, t: file.graph.inputs[i >= 0 ? i : spec.target!].type, s };
  });

  return {
    signature, inputs, outputs: resultOutputs.map((i) => signature.outputs[i].name), file, run, runAsync, profile,
    graphFor: (...shapes) => graphFor(shapes),
    state: () => new Map(storedEntries().map(({ name, t, s }) => [name, { dtype: t.dtype, shape: [...t.shape], data: backend.readSync(s, t) }])),
    stateAsync: async () => {
      // Every read starts now, on what is stored now (a later run may replace the storage).
      const reads = storedEntries().map(async ({ name, t, s }): Promise<[string, HostTensor]> => [name, { dtype: t.dtype, shape: [...t.shape], data: await backend.read(s, t) }]);
      return new Map(await Promise.all(reads));
    },
    dispose: () => {
      if (disposed) return;
      disposed = true;
      for (const s of stored.values()) backend.dispose(s);
      stored.clear();
    },
  };
}

function checkInput(t: HostTensor, want: ModelInputType, symbolic: boolean): void {
  const where = `run: input '${want.name}'`;
  if (t === null || typeof t !== 'object' || !Array.isArray(t.shape) || !ArrayBuffer.isView(t.data)) {
    throw new ArgumentError(`${where} must be { dtype, shape, data } (a HostTensor), got ${t === null ? 'null' : typeof t}`);
  }
  if (t.dtype !== want.dtype) throw new DTypeError(`${where} must be ${want.dtype}, got ${t.dtype}`);
  const Kind = ARRAY_OF[want.dtype];
  if (!(t.data instanceof Kind)) throw new DTypeError(`${where}: ${want.dtype} data must be a ${Kind.name}, got a ${t.data.constructor.name}`);
  const count = t.shape.reduce((a, d) => a * d, 1);
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || t.data.length !== count) {
    throw new ShapeError(`${where}: shape ${shapeToString(t.shape)} and ${t.data.length} data elements do not match`);
  }
  if (!symbolic && (t.shape.length !== want.shape.length || t.shape.some((d, a) => d !== want.shape[a]))) {
    throw new ShapeError(`${where} must have shape ${shapeToString(want.shape as number[])}, got ${shapeToString(t.shape)}`);
  }
}

import type { Node, TypedArray } from '@kiln/core';
import { getOp } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { getBackend } from '@kiln/eager';
import type { OnnxExportOptions } from '@kiln/serializer';
import { exportGraphToOnnx, OnnxExportError } from '@kiln/serializer';
import type { CompiledFunction } from './compile.js';
import type { SymbolOptions } from './save_dynamic.js';
import { symbolicFor } from './save_dynamic.js';
import { tracedEntry } from './traced.js';

/** What names weights: an nn `Module` (its parameters and buffers), structurally. */
export interface NamedWeights {
  namedParameters(): Iterable<readonly [string, Tensor]>;
  namedBuffers(): Iterable<readonly [string, Tensor]>;
}

export interface ExportOnnxOptions {
  /**
   * Names for captured tensors: an nn `Module` (its `namedParameters()` and `namedBuffers()`),
   * or `[name, tensor]` pairs. A weight found here keeps its name in the ONNX file; others are
   * `param_<k>`.
   */
  readonly names?: NamedWeights | Iterable<readonly [string, Tensor]>;
  /** ONNX names of the argument tensors, in the order the arguments flatten (default `input_<i>`). */
  readonly inputNames?: readonly string[];
  /** ONNX names of the result tensors, in the order the result flattens (default `output_<i>`). */
  readonly outputNames?: readonly string[];
  /**
   * Dimensions that stay symbolic in the ONNX model, by argument index, as `save`'s and
   * `compile`'s `dynamic`: `{ 0: [0] }` exports a batch-dynamic model (an input dimension named
   * after the symbol, sizes computed while it runs). Default: every shape fixed.
   */
  readonly dynamic?: Readonly<Record<number, readonly number[]>>;
  /** Names and bounds of the symbols, in order of first appearance (default `s0`, `s1`…). */
  readonly symbols?: readonly SymbolOptions[];
  readonly graphName?: string;
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

function namePairs(given: ExportOnnxOptions['names']): Iterable<readonly [string, Tensor]> {
  if (!given) return [];
  const module = given as Partial<NamedWeights>;
  if (typeof module.namedParameters === 'function' && typeof module.namedBuffers === 'function') return [...module.namedParameters(), ...module.namedBuffers()];
  if (typeof (given as Iterable<unknown>)[Symbol.iterator] === 'function') return given as Iterable<readonly [string, Tensor]>;
  throw new OnnxExportError('exportOnnx: names must be an nn Module or [name, tensor] pairs (model.namedParameters())');
}

/** Computes a node without inputs (arange, linspace) on the CPU backend, the reference. */
function evaluateOnCpu(node: Node): TypedArray {
  const cpu = getBackend('cpu');
  const types = node.outputs.map((v) => v.type);
  const [storage] = cpu.run(getOp(node.op), [], node.attrs, types);
  try {
    return cpu.readSync(storage, types[0]);
  } finally {
    cpu.dispose(storage);
  }
}

/**
 * Exports the graph `compiled` runs for `exampleArgs` as an ONNX model (opset 17): the argument
 * tensors become the model's inputs, tensors the function reads from its closure (weights,
 * buffers) become initializers holding their current values, and the results its outputs. The
 * shapes are those of the example arguments, except the dimensions `dynamic` declares. Ops ONNX cannot express exactly (random numbers,
 * gradient kernels) and functions that update state (`assign`, `backward()`) are refused with
 * an `OnnxExportError` that names the op or says what to change.
 *
 * @example
 * ```ts
 * const model = new Sequential(new Linear(784, 128), new ReLU(), new Linear(128, 10));
 * model.eval();
 * const predict = compile((x: Tensor) => model.forward(x));
 * const bytes = exportOnnx(predict, [zeros([1, 784])], { names: model, inputNames: ['image'], outputNames: ['logits'] });
 * writeFileSync('model.onnx', bytes); // runs in onnxruntime, TensorRT, …
 * const anyBatch = exportOnnx(predict, [zeros([8, 784])], { names: model, dynamic: { 0: [0] }, symbols: [{ name: 'batch' }] });
 * ```
 */
export function exportOnnx<F extends (...args: any[]) => any>(compiled: CompiledFunction<F>, exampleArgs: Parameters<F>, options: ExportOnnxOptions = {}): Uint8Array {
  const entry = tracedEntry(compiled, exampleArgs, 'exportOnnx');
  const updates = entry.updates.length + entry.gradUpdates.length + entry.gradClears.length;
  if (updates > 0) {
    throw new OnnxExportError(
      `exportOnnx: the function updates ${updates} tensor(s) outside it (assign, backward(), an optimizer step, or BatchNorm running statistics in training mode); ` +
        'an ONNX model cannot change state. Export an inference function: call model.eval() first, and leave training steps out',
    );
  }
  const names = new Map<Tensor, string>();
  for (const [name, t] of namePairs(options.names)) if (!names.has(t)) names.set(t, name);
  const graph = entry.graph;
  const initializers = new Map<number, TypedArray>();
  let args = 0;
  let params = 0;
  const inputNames = entry.feeds.map((feed, i) => {
    if (feed.kind === 'arg') {
      const k = args++;
      return options.inputNames?.[k] ?? `input_${k}`;
    }
    if (feed.kind === 'rng') return 'rng_state';
    const t = feed.captured.gradOf ? feed.captured.gradOf.grad : feed.captured.tensor;
    if (!t) throw new OnnxExportError(`exportOnnx: captured input ${i} (a .grad) is empty`);
    initializers.set(i, t.dataSync());
    const name = feed.captured.gradOf ? undefined : names.get(feed.captured.tensor);
    return name ?? `param_${params++}`;
  });
  if (options.inputNames && options.inputNames.length !== args) {
    throw new OnnxExportError(`exportOnnx: inputNames has ${options.inputNames.length} names but the arguments hold ${args} tensors`);
  }
  const exportOptions: OnnxExportOptions = {
    inputNames,
    ...(options.outputNames ? { outputNames: options.outputNames } : {}),
    initializers,
    evaluate: evaluateOnCpu,
    ...(options.dynamic ? { symbolic: symbolicFor(compiled, exampleArgs, entry, options.dynamic, options.symbols ?? []) } : {}),
    graphName: options.graphName ?? 'kiln_graph',
    producerName: 'kiln',
    ...(options.docString ? { docString: options.docString } : {}),
    ...(options.metadata ? { metadata: options.metadata } : {}),
  };
  return exportGraphToOnnx(graph, exportOptions);
}

/**
 * Kiln graph → ONNX model (opset 17, IR version 8). The graph's inputs become ONNX graph inputs
 * or, for weights, initializers; every node is lowered by its op's rule (`ops_*.ts`); ops with no
 * exact ONNX form are refused with an {@link OnnxExportError} naming them.
 */
import type { DType, Graph, Node, TensorType } from '@kiln/core';
import { shapeToString, sizeOf, verifyGraph } from '@kiln/core';
import type { Lowering, TypedData } from './emitter.js';
import { OnnxEmitter } from './emitter.js';
import { OnnxExportError } from './errors.js';
import { encodeModel, ONNX_DTYPE, type OnnxModel, type OnnxValueInfo } from './onnx_proto.js';
import type { SymbolicShapes } from '../types.js';
import { expandComposites } from './composites.js';
import { DynamicShapes } from './dynamic.js';
import { CONTROL_LOWERINGS } from './ops_control.js';
import { allOutputsEmpty, ELEMENTWISE_LOWERINGS, emptyOutput } from './ops_elementwise.js';
import { NN_LOWERINGS } from './ops_nn.js';
import { SHAPE_LOWERINGS } from './ops_shape.js';

/** The ONNX operator set export writes (the default domain). */
export const ONNX_OPSET_VERSION = 17;
/** The ONNX IR version of opset 17 (ONNX 1.12). */
export const ONNX_IR_VERSION = 8;

export interface OnnxExportOptions {
  /** ONNX names of the graph's inputs, one per input. Default: each value's name, else `input_<i>`. */
  readonly inputNames?: readonly string[];
  /** ONNX names of the graph's outputs. Default: `output_<i>`. */
  readonly outputNames?: readonly string[];
  /** Inputs that are weights, by input index: their values, stored in the model as initializers. */
  readonly initializers?: ReadonlyMap<number, TypedData>;
  /** Computes a node without inputs (arange, linspace over floats) with Kiln's kernels; exportOnnx passes one. */
  readonly evaluate?: (node: Node) => TypedData | undefined;
  readonly graphName?: string;
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly docString?: string;
  /** Stored as the model's metadata_props. */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * Symbolic dimensions of the graph (as `.kiln` files and `save({ dynamic })` record them):
   * the ONNX inputs get named dimensions (`batch`), and reshape, broadcast, full, slice and pad
   * sizes that depend on them are computed from the inputs' shapes while the model runs.
   */
  readonly symbolic?: SymbolicShapes;
}

/** Attributes computed while the model runs when they depend on symbolic dimensions, by op. */
const SYMBOLIC_ATTRS: Readonly<Record<string, readonly string[]>> = {
  reshape: ['shape'], broadcastTo: ['shape'], full: ['shape', 'value'], slice: ['starts', 'ends'], pad: ['before', 'after'],
};

/** Ops whose nodes hold sub-graphs they run: their outputs are never replaced by the empty-result shortcut. */
const CONTROL_OPS: ReadonlySet<string> = new Set(['cond', 'whileLoop', 'scan']);

/** Every Kiln op that export can lower, with its rule. */
export const ONNX_LOWERINGS: ReadonlyMap<string, Lowering> = (() => {
  const all = new Map<string, Lowering>();
  for (const table of [ELEMENTWISE_LOWERINGS, SHAPE_LOWERINGS, NN_LOWERINGS, CONTROL_LOWERINGS]) {
    for (const [op, rule] of table) {
      // An empty result is known from its type alone: ONNX runtimes need not agree on edge cases of empty inputs.
      all.set(op, CONTROL_OPS.has(op) ? rule : (ctx) => (allOutputsEmpty(ctx) ? ctx.node.outputs.forEach((_, k) => emptyOutput(ctx, k)) : rule(ctx)));
    }
  }
  return all;
})();

/** Kiln ops with an ONNX lowering that refuses them anyway (random numbers, gradient kernels). */
export const ONNX_REFUSED_OPS: ReadonlySet<string> = new Set(['randomUniform', 'randomNormal', 'conv2dWeightGrad', 'maxPool2dIndices', 'avgPool2dGrad']);

const ARRAY_OF: Record<DType, new (n: number) => TypedData> = { float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array };

function checkInitializer(index: number, type: TensorType, data: TypedData): void {
  const want = ARRAY_OF[type.dtype];
  if (!(data instanceof want) || data.length !== sizeOf(type.shape)) {
    const got = `${data.constructor.name}(${data.length})`;
    throw new OnnxExportError(`exportOnnx: initializer for input ${index} is ${got}, but the input is ${type.dtype}${shapeToString(type.shape)}: it needs a ${want.name} of ${sizeOf(type.shape)} elements`);
  }
}

function checkNames(what: string, names: readonly string[], count: number): void {
  if (names.length !== count) throw new OnnxExportError(`exportOnnx: ${what} has ${names.length} names but the graph has ${count}`);
  const seen = new Set<string>();
  for (const n of names) {
    if (typeof n !== 'string' || n === '') throw new OnnxExportError(`exportOnnx: ${what} must be non-empty strings, got ${JSON.stringify(n)}`);
    if (seen.has(n)) throw new OnnxExportError(`exportOnnx: ${what} repeats '${n}'; ONNX names must be unique`);
    seen.add(n);
  }
}

/**
 * The ONNX model of `kilnGraph` as plain objects (see {@link encodeModel} for the bytes).
 * Composite nodes are expanded into primitives first.
 *
 * @example
 * ```ts
 * const model = graphToOnnxModel(graph, { initializers: new Map([[1, weights]]) });
 * model.graph.nodes.map((n) => n.opType); // ['MatMul', 'Relu']
 * ```
 */
export function graphToOnnxModel(kilnGraph: Graph, options: OnnxExportOptions = {}): OnnxModel {
  verifyGraph(kilnGraph);
  const graph = expandComposites(kilnGraph);
  const inits = options.initializers ?? new Map<number, TypedData>();
  for (const [i, data] of inits) {
    if (!Number.isInteger(i) || i < 0 || i >= graph.inputs.length) throw new OnnxExportError(`exportOnnx: initializer for input ${i}, but the graph has ${graph.inputs.length} inputs`);
    checkInitializer(i, graph.inputs[i].type, data);
  }
  const inputNames = options.inputNames ?? graph.inputs.map((v, i) => v.name ?? `input_${i}`);
  const outputNames = options.outputNames ?? graph.outputs.map((_, i) => `output_${i}`);
  checkNames('inputNames', inputNames, graph.inputs.length);
  checkNames('outputNames', outputNames, graph.outputs.length);
  const clash = inputNames.find((n) => outputNames.includes(n));
  if (clash) throw new OnnxExportError(`exportOnnx: '${clash}' names both an input and an output; ONNX names must be unique`);

  if (options.symbolic && graph !== kilnGraph) {
    throw new OnnxExportError('exportOnnx: a graph with symbolic dimensions must hold primitives only (no composite nodes); expand them before recording the symbolic dimensions');
  }
  const dynamic = options.symbolic ? new DynamicShapes(graph, options.symbolic, inputNames.map((n, i) => (inits.has(i) ? undefined : n))) : undefined;
  const emitter = new OnnxEmitter(ONNX_LOWERINGS, options.evaluate, dynamic, SYMBOLIC_ATTRS);
  const inputs: OnnxValueInfo[] = [];
  const bound = graph.inputs.map((v, i) => {
    const data = inits.get(i);
    if (data) {
      if (dynamic?.dimsOf(v).some((d) => typeof d !== 'number')) throw new OnnxExportError(`exportOnnx: input ${i} ('${inputNames[i]}') is stored data but has symbolic dimensions`);
      return emitter.initializer(inputNames[i], v.type.dtype, v.type.shape, data);
    }
    const name = emitter.unique(inputNames[i]);
    inputs.push({ name, dataType: ONNX_DTYPE[v.type.dtype], shape: dynamic ? dynamic.dimsOf(v) : v.type.shape });
    return name;
  });
  outputNames.forEach((n) => emitter.unique(n));
  const sink = emitter.sink();
  emitter.lower(graph, sink, bound, outputNames);
  return {
    irVersion: ONNX_IR_VERSION,
    opsetVersion: ONNX_OPSET_VERSION,
    producerName: options.producerName ?? 'kiln',
    producerVersion: options.producerVersion ?? '0.1.0',
    ...(options.docString ? { docString: options.docString } : {}),
    ...(options.metadata ? { metadata: options.metadata } : {}),
    graph: {
      name: options.graphName ?? 'kiln_graph',
      nodes: sink.nodes,
      inputs,
      outputs: graph.outputs.map((v, i) => ({ name: outputNames[i], dataType: ONNX_DTYPE[v.type.dtype], shape: dynamic ? dynamic.dimsOf(v) : v.type.shape })),
      initializers: emitter.initializers,
    },
  };
}

/**
 * Exports `graph` as ONNX model bytes (opset 17). Throws an {@link OnnxExportError} naming the
 * node for an op ONNX cannot express exactly, and for bad options.
 *
 * @example
 * ```ts
 * const bytes = exportGraphToOnnx(graph, { inputNames: ['x', 'weight'], initializers: new Map([[1, weight]]) });
 * writeFileSync('model.onnx', bytes);
 * ```
 */
export function exportGraphToOnnx(graph: Graph, options: OnnxExportOptions = {}): Uint8Array {
  return encodeModel(graphToOnnxModel(graph, options));
}

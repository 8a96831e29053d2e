import type { Backend, Graph, Node, TypedArray } from '@kiln/core';
import { getOp } from '@kiln/core';
import { createCpuBackend } from '@kiln/backend-cpu';
import type { ModelFile } from '@kiln/serializer';
import { exportGraphToOnnx, OnnxExportError, specializeGraph } from '@kiln/serializer';
import { UsageError } from './args.js';

/**
 * Computes a node without inputs (arange, linspace) with the CPU kernels, Kiln's reference:
 * the `evaluate` option of `exportGraphToOnnx`.
 *
 * @example
 * ```ts
 * exportGraphToOnnx(graph, { evaluate: evaluateOnCpu });
 * ```
 */
let cpuBackend: Backend | undefined;

export function evaluateOnCpu(node: Node): TypedArray {
  // One backend for the process: creating one registers every kernel.
  const cpu = (cpuBackend ??= createCpuBackend());
  const types = node.outputs.map((v) => v.type);
  const [storage] = cpu.run(getOp(node.op), [], node.attrs, types);
  try {
    return cpu.readSync(storage, types[0]);
  } finally {
    cpu.dispose(storage);
  }
}

/**
 * The sizes of a model's symbolic dimensions: those given by name, the saved size for the rest.
 * Throws a UsageError for an unknown name, a size that is not an integer, or one outside bounds.
 *
 * @example
 * ```ts
 * symbolSizes(readModel(bytes), new Map([['batch', '32']])); // [32]
 * ```
 */
export function symbolSizes(file: ModelFile, given: ReadonlyMap<string, string>): number[] {
  const symbols = file.symbolic?.symbols ?? [];
  for (const name of given.keys()) {
    if (!symbols.some((s) => s.name === name)) {
      throw new UsageError(`--size ${name}: the model has ${symbols.length ? `symbolic dimensions ${symbols.map((s) => s.name).join(', ')}` : 'no symbolic dimensions'}`);
    }
  }
  return symbols.map((s, k) => {
    const text = given.get(s.name);
    if (text === undefined) return file.symbolic!.sizes[k];
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw new UsageError(`--size ${s.name}=${text}: expected a non-negative integer`);
    if (n < s.min || (s.max !== undefined && n > s.max)) throw new UsageError(`--size ${s.name}=${n}: outside its bounds [${s.min}, ${s.max ?? '∞'}]`);
    return n;
  });
}

/**
 * The model's graph at `sizes` (the graph as stored when they are the saved sizes).
 *
 * @example
 * ```ts
 * graphAt(file, [32]).inputs[0].type.shape; // [32, 784]
 * ```
 */
export function graphAt(file: ModelFile, sizes: readonly number[]): Graph {
  const { symbolic } = file;
  if (!symbolic || sizes.every((n, k) => n === symbolic.sizes[k])) return file.graph;
  return specializeGraph(file.graph, symbolic, sizes);
}

/**
 * ONNX bytes of a `.kiln` model: its user inputs become the ONNX inputs (named as in the
 * signature), stored parameters and buffers initializers, its results the outputs. Symbolic
 * dimensions stay symbolic (named ONNX dimensions) unless `sizes` fixes them. Training steps
 * (state updates, gradients) and models that draw random numbers are refused with an
 * OnnxExportError.
 *
 * @example
 * ```ts
 * writeFileSync('model.onnx', modelFileToOnnx(readModel(bytes)));        // batch stays symbolic
 * writeFileSync('model-32.onnx', modelFileToOnnx(readModel(bytes), [32])); // batch = 32
 * ```
 */
export function modelFileToOnnx(file: ModelFile, sizes?: readonly number[]): Uint8Array {
  const { signature } = file;
  const updates = signature.outputs.filter((o) => o.role !== 'output');
  if (updates.length) {
    throw new OnnxExportError(
      `export-onnx: the model is a training step: ${updates.length} of its outputs (${updates.map((o) => `'${o.name}'`).join(', ')}) update stored tensors, which an ONNX model cannot do. Save an inference function and export that`,
    );
  }
  const initializers = new Map<number, TypedArray>();
  file.weights.forEach((data, i) => {
    if (data) initializers.set(i, data);
  });
  const symbolic = sizes === undefined ? file.symbolic : undefined;
  return exportGraphToOnnx(sizes === undefined ? file.graph : graphAt(file, sizes), {
    ...(symbolic ? { symbolic } : {}),
    inputNames: signature.inputs.map((s) => s.name),
    outputNames: signature.outputs.map((s) => s.name),
    initializers,
    evaluate: evaluateOnCpu,
    producerName: 'kiln',
    producerVersion: file.producer.version,
    docString: `Exported from a .kiln ${file.version.major}.${file.version.minor} model made by ${file.producer.name} ${file.producer.version}`,
  });
}

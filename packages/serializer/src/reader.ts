import type { TensorType, TypedArray } from '@kiln/core';
import { formatType, shapesEqual, verifyGraph } from '@kiln/core';
import { FormatError } from './errors.js';
import { openFile, readSymbols } from './read_common.js';
import { readGraphs, readOpTable } from './read_graph.js';
import { INPUT_ROLES, OUTPUT_ROLES, signatureProblem, STORED_ROLES } from './signature.js';
import { symbolicProblem } from './symbolic.js';
import type { ModelFile, ReadOptions, Signature, SignatureInput, SignatureOutput, SymbolicShapes } from './types.js';

const DEFAULT_MAX_VALUE_BYTES = 4 * 2 ** 30;
const DEFAULT_MAX_NODES = 10_000_000;

/**
 * Reads a model from `.kiln` bytes, treating them as untrusted: the header and schema version
 * (another major version is refused with both numbers), every offset, length and alignment in
 * the FlatBuffer, the op table (known ops at supported versions), every attribute's kind, value
 * reference and sub-graph index, the signature, the stored tensors (aligned, exactly sized,
 * inside the weights segment, not overlapping), the symbolic dimensions, and finally the ops'
 * shape and dtype rules over the whole graph (`verifyGraph`). Anything wrong is a FormatError
 * saying what and where. Stored weights are zero-copy views into `bytes` where aligned, so keep
 * `bytes` unchanged while the model is in use.
 *
 * @example
 * ```ts
 * const file = readModel(new Uint8Array(fs.readFileSync('mlp.kiln')));
 * file.signature.inputs.map((s) => `${s.name}: ${s.role}`); // ['x: input', 'fc1.weight: parameter', …]
 * ```
 */
export function readModel(bytes: Uint8Array, options: ReadOptions = {}): ModelFile {
  const parts = openFile(bytes);
  const { model } = parts;
  const main = model.mainGraph();
  if (main === -1) throw new FormatError('this .kiln file holds weights only (a checkpoint, no graph); read it with readTensors');
  if (main < 0 || main >= model.graphsLength()) throw new FormatError(`Model.main_graph is ${main}, but the file has ${model.graphsLength()} graphs`);
  const { symbols, sizes, exprs } = readSymbols(model);
  const files = Array.from({ length: model.filesLength() }, (_, i) => model.files(i));
  const ops = readOpTable(model);
  const decoded = readGraphs(model, {
    ops, exprs, files,
    maxValueBytes: options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
    maxNodes: options.maxNodes ?? DEFAULT_MAX_NODES,
  });
  const graph = decoded.graphs[main];
  const { signature, weights, weightNames } = readSignature(model, graph.inputs.map((v) => v.type), parts.tensorTypes, parts.tensorData, parts.tensorNames);
  const problem = signatureProblem(signature, graph.inputs.map((v) => v.type), graph.outputs.map((v) => v.type));
  if (problem) throw new FormatError(problem);
  let symbolic: SymbolicShapes | undefined;
  if (symbols.length || decoded.dims.size || decoded.attrs.size) {
    symbolic = { symbols, sizes, dims: decoded.dims, attrs: decoded.attrs };
    const bad = symbolicProblem(graph, signature, symbolic);
    if (bad) throw new FormatError(`symbolic dimensions: ${bad}`);
  }
  try {
    verifyGraph(graph);
  } catch (e) {
    // Shape rules see the file's numbers: whatever they throw on them is the file's fault.
    const why = e instanceof Error ? `${e instanceof FormatError ? '' : `${e.name}: `}${e.message}` : String(e);
    throw new FormatError(`the graph does not check: ${why}`);
  }
  return {
    graph, signature, weights, weightNames, ...(symbolic ? { symbolic } : {}),
    version: parts.version, producer: parts.producer, metadata: parts.metadata, zeroCopyTensors: parts.zeroCopyTensors,
  };
}

type Model = ReturnType<typeof openFile>['model'];

function readSignature(
  model: Model, inputTypes: readonly TensorType[], tensorTypes: readonly TensorType[], tensorData: readonly TypedArray[], tensorNames: readonly string[],
): { signature: Signature; weights: (TypedArray | undefined)[]; weightNames: (string | undefined)[] } {
  const s = model.signature();
  if (!s) throw new FormatError('the model has no signature (Model.signature)');
  const weights: (TypedArray | undefined)[] = [];
  const weightNames: (string | undefined)[] = [];
  const inputs = Array.from({ length: s.inputsLength() }, (_, i): SignatureInput => {
    const x = s.inputs(i)!;
    const role = INPUT_ROLES[x.role()];
    const name = x.name()!;
    const at = `signature input ${i} ('${name}')`;
    if (role === undefined) throw new FormatError(`${at}: unknown role code ${x.role()}; valid codes are 0-${INPUT_ROLES.length - 1} (${INPUT_ROLES.join(', ')})`);
    const t = x.tensor();
    if (STORED_ROLES.has(role)) {
      if (t < 0 || t >= tensorData.length) throw new FormatError(`${at}: a ${role} needs stored data, but its tensor index is ${t} (the file has ${tensorData.length} tensors)`);
      const want = inputTypes[i];
      const have = tensorTypes[t];
      if (want && (want.dtype !== have.dtype || !shapesEqual(want.shape, have.shape))) {
        throw new FormatError(`${at}: the graph input is ${formatType(want)}, but its stored tensor ${t} ('${tensorNames[t]}') is ${formatType(have)}`);
      }
      weights.push(tensorData[t]);
      weightNames.push(tensorNames[t]);
    } else {
      if (t !== -1) throw new FormatError(`${at}: a ${role} input is not stored, but it refers to tensor ${t}`);
      weights.push(undefined);
      weightNames.push(undefined);
    }
    const target = x.target();
    return { name, role, ...(target !== -1 ? { target } : {}) };
  });
  const outputs = Array.from({ length: s.outputsLength() }, (_, i): SignatureOutput => {
    const x = s.outputs(i)!;
    const role = OUTPUT_ROLES[x.role()];
    if (role === undefined) throw new FormatError(`signature output ${i}: unknown role code ${x.role()}; valid codes are 0-${OUTPUT_ROLES.length - 1} (${OUTPUT_ROLES.join(', ')})`);
    const target = x.target();
    return { name: x.name()!, role, ...(target !== -1 ? { target } : {}) };
  });
  return { signature: { inputs, outputs, rngKeysPerRun: s.rngKeysPerRun() }, weights, weightNames };
}

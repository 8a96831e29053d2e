/**
 * `@kiln/serializer` — the `.kiln` file format (docs/format.md): a graph with its signature and
 * weights as FlatBuffers tables plus a 64-byte-aligned weights segment, and back. Reading treats
 * the bytes as hostile: every offset, length, type and reference is checked, and anything wrong
 * is a `FormatError`. Weights-only files (checkpoints) use the same format. Reads and writes
 * bytes only; running a model is `@kiln/runtime`'s `loadModel`.
 *
 * @example
 * ```ts
 * import { readModel, writeModel } from '@kiln/serializer';
 * const bytes = writeModel({ graph, signature, weights });
 * const file = readModel(bytes); // file.graph, file.signature, file.weights
 * ```
 */
export { KILN_FILE_IDENTIFIER, KILN_FILE_EXTENSION, KILN_SCHEMA_VERSION, WEIGHTS_ALIGNMENT, DEFAULT_PRODUCER } from './constants.js';
export { FormatError } from './errors.js';
export { writeModel } from './writer.js';
export { readModel } from './reader.js';
export { writeTensors, readTensors } from './tensors.js';
export { specializeGraph, bindSizes, evalSizeExpr, formatSizeExpr } from './symbolic.js';
export { opVersion, supportsOpVersion } from './op_versions.js';
export type {
  InputRole, OutputRole, SignatureInput, SignatureOutput, Signature, HostTensor, SymbolDef, SizeExpr, SizeTerm, SymbolicShapes,
  Producer, Metadata, ModelContent, SchemaVersion, ModelFile, TensorsFile, ReadOptions,
} from './types.js';
// ONNX export: Kiln graphs as ONNX models (opset 17).
export * from './onnx/index.js';

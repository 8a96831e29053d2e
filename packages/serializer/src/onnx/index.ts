/**
 * ONNX export: Kiln graphs as ONNX models (opset 17), written with a small protobuf encoder.
 * `exportOnnx(compiledFn, args)` in `@kiln/tracer` is the usual entry point; this module takes a
 * graph and the values of its weight inputs.
 */
export { exportGraphToOnnx, graphToOnnxModel, ONNX_IR_VERSION, ONNX_LOWERINGS, ONNX_OPSET_VERSION, ONNX_REFUSED_OPS, type OnnxExportOptions } from './export.js';
export { OnnxExportError } from './errors.js';
export type { Lowering, LoweringContext, NodeSink, TypedData } from './emitter.js';
export { encodeModel, ONNX_DTYPE, OnnxDataType, type OnnxAttribute, type OnnxDataTypeCode, type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx_proto.js';
export { decodeFields, int64Of, ProtobufError, ProtoWriter, WireType, type ProtoField } from './protobuf.js';

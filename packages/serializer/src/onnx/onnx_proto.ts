/**
 * The part of ONNX's protobuf schema (onnx/onnx.proto, IR version 8) that export writes:
 * ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto and ValueInfoProto, as plain
 * objects, and `encodeModel` to turn them into bytes with field numbers from the schema.
 */
import type { DType } from '@kiln/core';
import { littleEndianBytes, ProtoWriter } from './protobuf.js';

/** TensorProto.DataType values for the element types export uses. */
export const OnnxDataType = { float: 1, uint8: 2, int32: 6, int64: 7, bool: 9, double: 11 } as const;
export type OnnxDataTypeCode = (typeof OnnxDataType)[keyof typeof OnnxDataType];

/** Kiln's dtype → ONNX's element type. */
export const ONNX_DTYPE: Readonly<Record<DType, OnnxDataTypeCode>> = { float32: OnnxDataType.float, float64: OnnxDataType.double, int32: OnnxDataType.int32, bool: OnnxDataType.bool };

/** A tensor stored in the model (an initializer or an attribute value); data is raw little-endian. */
export interface OnnxTensor {
  readonly name: string;
  readonly dataType: OnnxDataTypeCode;
  readonly dims: readonly number[];
  /** Elements in row-major order: Float32Array for float, BigInt64Array for int64, Uint8Array for bool… */
  readonly data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
}

export type OnnxAttribute =
  | { readonly name: string; readonly kind: 'int'; readonly value: number }
  | { readonly name: string; readonly kind: 'float'; readonly value: number }
  | { readonly name: string; readonly kind: 'string'; readonly value: string }
  | { readonly name: string; readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly name: string; readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly name: string; readonly kind: 'tensor'; readonly value: OnnxTensor }
  | { readonly name: string; readonly kind: 'graph'; readonly value: OnnxGraph };

export interface OnnxNode {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly attributes?: readonly OnnxAttribute[];
  readonly docString?: string;
}

/** A graph input or output: a name and a tensor type (a dimension may be a named symbol, or unknown: null). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly dataType: OnnxDataTypeCode;
  readonly shape: readonly (number | string | null)[];
}

export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly initializers: readonly OnnxTensor[];
  readonly valueInfo?: readonly OnnxValueInfo[];
}

export interface OnnxModel {
  readonly irVersion: number;
  readonly opsetVersion: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly docString?: string;
  readonly graph: OnnxGraph;
  readonly metadata?: Readonly<Record<string, string>>;
}

const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, tensor: 4, graph: 5, floats: 6, ints: 7 } as const;

/**
 * The ModelProto bytes of `model`.
 *
 * @example
 * ```ts
 * const bytes = encodeModel({ irVersion: 8, opsetVersion: 17, producerName: 'kiln', producerVersion: '0.1.0', graph: {
 *   name: 'g', nodes: [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }],
 *   inputs: [{ name: 'x', dataType: OnnxDataType.float, shape: [2] }],
 *   outputs: [{ name: 'y', dataType: OnnxDataType.float, shape: [2] }], initializers: [],
 * } });
 * ```
 */
export function encodeModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, model.irVersion);
  w.string(2, model.producerName);
  w.string(3, model.producerVersion);
  if (model.docString) w.string(6, model.docString);
  w.message(7, (g) => writeGraph(g, model.graph));
  w.message(8, (o) => o.string(1, '').int(2, model.opsetVersion));
  for (const [key, value] of Object.entries(model.metadata ?? {})) w.message(14, (e) => e.string(1, key).string(2, value));
  return w.finish();
}

function writeGraph(w: ProtoWriter, graph: OnnxGraph): void {
  for (const n of graph.nodes) w.message(1, (m) => writeNode(m, n));
  w.string(2, graph.name);
  for (const t of graph.initializers) w.message(5, (m) => writeTensor(m, t));
  for (const v of graph.inputs) w.message(11, (m) => writeValueInfo(m, v));
  for (const v of graph.outputs) w.message(12, (m) => writeValueInfo(m, v));
  for (const v of graph.valueInfo ?? []) w.message(13, (m) => writeValueInfo(m, v));
}

function writeNode(w: ProtoWriter, node: OnnxNode): void {
  for (const i of node.inputs) w.string(1, i);
  for (const o of node.outputs) w.string(2, o);
  if (node.name) w.string(3, node.name);
  w.string(4, node.opType);
  for (const a of node.attributes ?? []) w.message(5, (m) => writeAttribute(m, a));
  if (node.docString) w.string(6, node.docString);
}

function writeAttribute(w: ProtoWriter, a: OnnxAttribute): void {
  w.string(1, a.name);
  w.int(20, ATTRIBUTE_TYPE[a.kind]);
  switch (a.kind) {
    case 'float': w.float(2, a.value); break;
    case 'int': w.int(3, a.value); break;
    case 'string': w.string(4, a.value); break;
    case 'tensor': w.message(5, (m) => writeTensor(m, a.value)); break;
    case 'graph': w.message(6, (m) => writeGraph(m, a.value)); break;
    case 'floats': w.packedFloats(7, a.value); break;
    case 'ints': w.packedInts(8, a.value); break;
  }
}

function writeTensor(w: ProtoWriter, t: OnnxTensor): void {
  w.packedInts(1, t.dims);
  w.int(2, t.dataType);
  w.string(8, t.name);
  w.bytes(9, littleEndianBytes(t.data));
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.dataType);
      tensor.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : d === null ? undefined : dim.string(2, d)));
      });
    }),
  );
}

import type { DType, TensorType, TypedArray } from '@kiln/core';
import { ArgumentError } from '@kiln/core';
import type { Offset } from 'flatbuffers';
import { Builder } from 'flatbuffers';
import { metadataKind, writeAttr, dtypeCode } from './attrs.js';
import { DEFAULT_PRODUCER, KILN_FILE_IDENTIFIER, KILN_SCHEMA_VERSION } from './constants.js';
import { Model, SizeExpr as FbSizeExpr, TensorData, TensorType as FbTensorType, Term, Version } from './generated/kiln_generated.js';
import { LAYOUT, slotOf } from './layout.js';
import type { Metadata, Producer, SizeExpr } from './types.js';
import { alignUp, layoutWeights, writeWeights } from './weights.js';

/** The Model fields a writer fills besides the shared ones (tensors, exprs, files, metadata). */
export interface ModelFields {
  readonly ops?: Offset;
  readonly graphs?: Offset;
  readonly mainGraph?: number;
  readonly signature?: Offset;
  readonly symbols?: Offset;
  readonly symbolValues?: Offset;
}

/**
 * Builds one `.kiln` file: collects the tables' shared pools (symbolic expressions, source
 * file names, stored tensors), then lays out the FlatBuffer and the weights segment.
 */
export class FileWriter {
  readonly b = new Builder(4096);

  constructor() {
    // Every scalar is written even when it equals the schema's default: the builder would skip
    // such fields by comparing with ==, which loses -0, and explicit fields keep files uniform.
    this.b.forceDefaults(true);
  }

  private readonly exprs: SizeExpr[] = [];
  private readonly exprIndex = new Map<string, number>();
  private readonly files = new Map<string, number>();
  private readonly tensors: { name: string; dtype: DType; shape: readonly number[]; data: TypedArray }[] = [];

  /** Index of `a` in Model.exprs (equal expressions share one entry). */
  expr(a: SizeExpr): number {
    const key = JSON.stringify([a.terms.map((t) => [Object.is(t.coefficient, -0) ? '-0' : t.coefficient, t.symbols]), a.reciprocal ?? false]);
    let i = this.exprIndex.get(key);
    if (i === undefined) {
      i = this.exprs.length;
      this.exprs.push(a);
      this.exprIndex.set(key, i);
    }
    return i;
  }

  /** Index of a source file name in Model.files. */
  file(name: string): number {
    let i = this.files.get(name);
    if (i === undefined) this.files.set(name, (i = this.files.size));
    return i;
  }

  /** Stores a tensor in the weights segment; returns its index in Model.tensors. */
  addTensor(name: string, dtype: DType, shape: readonly number[], data: TypedArray): number {
    this.tensors.push({ name, dtype, shape, data });
    return this.tensors.length - 1;
  }

  /** A TensorType table; `dims` (one per axis, null for fixed) makes dimensions symbolic. */
  tensorType(type: TensorType, dims?: readonly (SizeExpr | null)[]): Offset {
    const b = this.b;
    const shape = FbTensorType.createShapeVector(b, type.shape.map((d) => BigInt(d)));
    const exprs = dims?.some((d) => d !== null) ? FbTensorType.createDimExprsVector(b, dims.map((d) => (d === null ? -1 : this.expr(d)))) : 0;
    FbTensorType.startTensorType(b);
    FbTensorType.addDtype(b, dtypeCode(type.dtype));
    FbTensorType.addShape(b, shape);
    if (exprs) FbTensorType.addDimExprs(b, exprs);
    return FbTensorType.endTensorType(b);
  }

  /** A vector of tables made by `make`, in order. */
  tables<T>(items: readonly T[], make: (item: T, i: number) => Offset): Offset {
    const offsets = items.map(make);
    this.b.startVector(4, offsets.length, 4);
    for (let i = offsets.length - 1; i >= 0; i--) this.b.addOffset(offsets[i]);
    return this.b.endVector();
  }

  /** Finishes the file: the Model table with `fields` and the pools, then the weights segment. */
  finish(fields: ModelFields, producer: Producer = DEFAULT_PRODUCER, metadata: Metadata = {}): Uint8Array {
    const b = this.b;
    if (typeof producer?.name !== 'string' || typeof producer.version !== 'string') {
      throw new ArgumentError(`producer must be { name: string, version: string }, got ${JSON.stringify(producer)}`);
    }
    const sizes = this.tensors.map((t) => t.data.byteLength);
    const layout = layoutWeights(sizes);
    const tensors = this.tables(this.tensors, (t, i) => {
      const name = b.createString(t.name);
      const type = this.tensorType({ dtype: t.dtype, shape: t.shape });
      TensorData.startTensorData(b);
      TensorData.addName(b, name);
      TensorData.addType(b, type);
      TensorData.addOffset(b, BigInt(layout.offsets[i]));
      TensorData.addSize(b, BigInt(sizes[i]));
      return TensorData.endTensorData(b);
    });
    const meta = this.tables(Object.entries(metadata), ([key, value]) => writeAttr(b, key, metadataKind(value, `metadata '${key}'`), value));
    const exprs = this.tables(this.exprs, (a) => {
      const terms = this.tables(a.terms, (t) => {
        const symbols = Term.createSymbolsVector(b, [...t.symbols]);
        Term.startTerm(b);
        Term.addCoefficient(b, t.coefficient);
        Term.addSymbols(b, symbols);
        return Term.endTerm(b);
      });
      FbSizeExpr.startSizeExpr(b);
      FbSizeExpr.addTerms(b, terms);
      FbSizeExpr.addReciprocal(b, a.reciprocal ?? false);
      return FbSizeExpr.endSizeExpr(b);
    });
    const files = Model.createFilesVector(b, [...this.files.keys()].map((f) => b.createString(f)));
    const producerName = b.createString(producer.name);
    const producerVersion = b.createString(producer.version);
    Model.startModel(b);
    Model.addVersion(b, Version.createVersion(b, KILN_SCHEMA_VERSION.major, KILN_SCHEMA_VERSION.minor));
    Model.addProducerName(b, producerName);
    Model.addProducerVersion(b, producerVersion);
    if (fields.ops) Model.addOps(b, fields.ops);
    if (fields.graphs) Model.addGraphs(b, fields.graphs);
    Model.addMainGraph(b, fields.mainGraph ?? -1);
    if (fields.signature) Model.addSignature(b, fields.signature);
    if (fields.symbols) Model.addSymbols(b, fields.symbols);
    if (fields.symbolValues) Model.addSymbolValues(b, fields.symbolValues);
    Model.addExprs(b, exprs);
    Model.addFiles(b, files);
    Model.addTensors(b, tensors);
    Model.addWeightsOffset(b, 0n); // patched once the FlatBuffer's length is known
    Model.addWeightsSize(b, BigInt(layout.size));
    Model.addMetadata(b, meta);
    b.finish(Model.endModel(b), KILN_FILE_IDENTIFIER);
    const table = b.asUint8Array();
    const segmentStart = alignUp(table.length);
    const file = new Uint8Array(segmentStart + layout.size);
    file.set(table, 0);
    patchWeightsOffset(file, segmentStart);
    writeWeights(file, segmentStart, this.tensors.map((t) => t.data), layout.offsets);
    return file;
  }
}

const WEIGHTS_OFFSET_FIELD = LAYOUT.Model.findIndex((f) => f.name === 'weights_offset');

/** Writes Model.weights_offset in place. */
function patchWeightsOffset(file: Uint8Array, value: number): void {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const root = view.getUint32(0, true);
  const vtable = root - view.getInt32(root, true);
  const field = view.getUint16(vtable + slotOf(WEIGHTS_OFFSET_FIELD), true);
  view.setBigUint64(root + field, BigInt(value), true);
}

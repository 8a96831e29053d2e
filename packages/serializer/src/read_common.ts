import type { DType, TypedArray } from '@kiln/core';
import type { AttrValue } from '@kiln/core';
import { readAttr, dtypeOfCode, safeInteger } from './attrs.js';
import { CheckedByteBuffer } from './checked_buffer.js';
import { KILN_SCHEMA_VERSION } from './constants.js';
import { FormatError } from './errors.js';
import type { TensorType as FbTensorType } from './generated/kiln_generated.js';
import { Model } from './generated/kiln_generated.js';
import type { Producer, SchemaVersion, SizeExpr, SymbolDef } from './types.js';
import { readVersion, verifyBuffer } from './verify_buffer.js';
import { checkSegment, checkedByteSize, readWeights } from './weights.js';

/** Parts every `.kiln` file has, models and checkpoints alike. */
export interface FileParts {
  readonly model: Model;
  readonly version: SchemaVersion;
  readonly producer: Producer;
  readonly metadata: Record<string, AttrValue>;
  readonly tensorNames: readonly string[];
  readonly tensorTypes: readonly { dtype: DType; shape: readonly number[] }[];
  readonly tensorData: readonly TypedArray[];
  readonly zeroCopyTensors: number;
}

/**
 * Refuses a file another major version wrote, with both versions in the message. Files of
 * this major version are read whatever their minor (see docs/format.md, "Compatibility").
 */
export function checkVersion(file: SchemaVersion): void {
  const ours = KILN_SCHEMA_VERSION;
  if (file.major === ours.major) return;
  const have = `schema version ${file.major}.${file.minor}`;
  const can = `this Kiln reads version ${ours.major}.x (it writes ${ours.major}.${ours.minor})`;
  if (file.major > ours.major) throw new FormatError(`the file has ${have}, made by a newer Kiln; ${can}. Upgrade Kiln to load it`);
  throw new FormatError(`the file has ${have}, made by an older Kiln; ${can}. Load and save it again with a Kiln that reads ${file.major}.x`);
}

/**
 * Checks the header and the version, verifies the FlatBuffer, and reads the parts every file
 * has: producer, metadata and the stored tensors (views into `bytes` where aligned).
 */
export function openFile(bytes: Uint8Array): FileParts {
  const version = readVersion(bytes);
  checkVersion(version);
  verifyBuffer(bytes);
  const model = Model.getRootAsModel(new CheckedByteBuffer(bytes));
  const producer = { name: model.producerName() ?? '', version: model.producerVersion() ?? '' };
  const metadata: Record<string, AttrValue> = {};
  for (let i = 0; i < model.metadataLength(); i++) {
    const a = readAttr(model.metadata(i)!, `metadata ${i}`);
    if (Object.hasOwn(metadata, a.key)) throw new FormatError(`metadata key '${a.key}' appears twice`);
    if (a.exprs.length) throw new FormatError(`metadata '${a.key}' has symbolic numbers; only graph attributes may`);
    metadata[a.key] = a.value;
  }
  const count = model.tensorsLength();
  const tensorNames: string[] = [];
  const placements = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const t = model.tensors(i)!;
    const name = t.name()!;
    if (seen.has(name)) throw new FormatError(`tensor ${i}: the name '${name}' is used by two tensors`);
    seen.add(name);
    tensorNames.push(name);
    const type = readTensorType(t.type()!, `tensor ${i} ('${name}')`, 0);
    if (type.dims) throw new FormatError(`tensor ${i} ('${name}'): stored data has a fixed shape, but its type has symbolic dimensions`);
    placements.push({ dtype: type.dtype, shape: type.shape, offset: u64(t.offset(), `tensor ${i} offset`), size: u64(t.size(), `tensor ${i} size`) });
  }
  const start = u64(model.weightsOffset(), 'Model.weights_offset');
  const size = u64(model.weightsSize(), 'Model.weights_size');
  checkSegment(bytes, start, size);
  const { data, views } = readWeights(bytes, start, size, placements, tensorNames);
  return {
    model, version, producer, metadata, tensorNames,
    tensorTypes: placements.map((p) => ({ dtype: p.dtype, shape: p.shape })), tensorData: data, zeroCopyTensors: views,
  };
}

function u64(x: bigint, where: string): number {
  return safeInteger(x, where);
}

/** A decoded TensorType; `dims` (indices into Model.exprs, -1 fixed) only when some dimension is symbolic. */
export interface ReadType {
  readonly dtype: DType;
  readonly shape: number[];
  readonly dims?: readonly number[];
}

/**
 * Reads a TensorType: dtype code, every dimension a non-negative integer, the byte size within
 * `maxBytes` (no overflowing products), dim_exprs one per dimension indexing `exprCount` exprs.
 */
export function readTensorType(t: FbTensorType, where: string, exprCount: number, maxBytes?: number): ReadType {
  const dtype = dtypeOfCode(t.dtype(), `${where} dtype`);
  const shape = Array.from({ length: t.shapeLength() }, (_, a) => {
    const d = safeInteger(t.shape(a)!, `${where} dimension ${a}`);
    if (d < 0) throw new FormatError(`${where}: dimension ${a} is ${d}; dimensions are non-negative`);
    return d;
  });
  checkedByteSize(dtype, shape, where, maxBytes);
  const n = t.dimExprsLength();
  if (n === 0) return { dtype, shape };
  if (n !== shape.length) throw new FormatError(`${where}: dim_exprs has ${n} entries for ${shape.length} dimensions`);
  const dims = Array.from({ length: n }, (_, a) => {
    const e = t.dimExprs(a)!;
    if (e < -1 || e >= exprCount) throw new FormatError(`${where}: dimension ${a} refers to expression ${e}, but the file has ${exprCount} (Model.exprs)`);
    return e;
  });
  return dims.some((e) => e >= 0) ? { dtype, shape, dims } : { dtype, shape };
}

/** Symbols, their sizes at the saved example, and the expressions (all checked for shape, not yet for meaning). */
export function readSymbols(model: Model): { symbols: SymbolDef[]; sizes: number[]; exprs: SizeExpr[] } {
  const symbols = Array.from({ length: model.symbolsLength() }, (_, i): SymbolDef => {
    const s = model.symbols(i)!;
    const min = safeInteger(s.min(), `symbol ${i} min`);
    const max = safeInteger(s.max(), `symbol ${i} max`);
    if (max < -1) throw new FormatError(`symbol ${i} max is ${max}; -1 means unbounded, otherwise it must be ≥ min`);
    return { name: s.name()!, min, ...(max === -1 ? {} : { max }) };
  });
  const sizes = Array.from({ length: model.symbolValuesLength() }, (_, i) => safeInteger(model.symbolValues(i)!, `symbol_values[${i}]`));
  if (sizes.length !== symbols.length) throw new FormatError(`the file has ${symbols.length} symbols but ${sizes.length} symbol_values`);
  const exprs = Array.from({ length: model.exprsLength() }, (_, i): SizeExpr => {
    const e = model.exprs(i)!;
    const terms = Array.from({ length: e.termsLength() }, (_, j) => {
      const t = e.terms(j)!;
      const coefficient = t.coefficient();
      if (!Number.isFinite(coefficient)) throw new FormatError(`expression ${i} term ${j}: the coefficient ${coefficient} is not finite`);
      const syms = Array.from({ length: t.symbolsLength() }, (_, k) => {
        const s = t.symbols(k)!;
        if (s >= symbols.length) throw new FormatError(`expression ${i} term ${j} refers to symbol ${s}, but the file has ${symbols.length} symbols`);
        return s;
      });
      return { coefficient, symbols: syms };
    });
    return { terms, ...(e.reciprocal() ? { reciprocal: true } : {}) };
  });
  return { symbols, sizes, exprs };
}

import type { AttrKind, AttrValue, DType } from '@kiln/core';
import type { Builder, Offset } from 'flatbuffers';
import { FormatError } from './errors.js';
import { Attr, AttrExpr, AttrKind as FbAttrKind, DType as FbDType } from './generated/kiln_generated.js';

/** Typed attributes to and from their FlatBuffers form. */

const DTYPE_CODE: Readonly<Record<DType, FbDType>> = { float32: FbDType.Float32, float64: FbDType.Float64, int32: FbDType.Int32, bool: FbDType.Bool };
const DTYPE_OF_CODE: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

export function dtypeCode(dtype: DType): FbDType {
  return DTYPE_CODE[dtype];
}

/** The dtype of a code read from a file, or a FormatError naming `where`. */
export function dtypeOfCode(code: number, where: string): DType {
  const dtype = DTYPE_OF_CODE[code];
  if (dtype === undefined) throw new FormatError(`${where}: unknown dtype code ${code}; valid codes are 0-3 (${DTYPE_OF_CODE.join(', ')})`);
  return dtype;
}

const KIND_NAMES = ['null', 'int', 'float', 'bool', 'string', 'dtype', 'ints', 'floats'] as const;

/** The stored kinds an op's attribute of each declared kind accepts. */
const ACCEPTS: Readonly<Record<AttrKind, readonly FbAttrKind[]>> = {
  int: [FbAttrKind.Int], 'int?': [FbAttrKind.Int, FbAttrKind.Null], float: [FbAttrKind.Float], 'float?': [FbAttrKind.Float, FbAttrKind.Null],
  bool: [FbAttrKind.Bool], string: [FbAttrKind.String], dtype: [FbAttrKind.DType], ints: [FbAttrKind.Ints], floats: [FbAttrKind.Floats],
};

/** The stored kind for a value of an op attribute declared as `kind`. */
export function storedKind(kind: AttrKind, value: AttrValue): FbAttrKind {
  if (value === null) return FbAttrKind.Null;
  return ACCEPTS[kind][0];
}

/** The stored kind of a metadata value (no schema: numbers are stored as doubles). */
export function metadataKind(value: AttrValue, where: string): FbAttrKind {
  if (value === null) return FbAttrKind.Null;
  if (typeof value === 'boolean') return FbAttrKind.Bool;
  if (typeof value === 'string') return FbAttrKind.String;
  if (typeof value === 'number') return FbAttrKind.Float;
  if (Array.isArray(value) && value.every((x) => typeof x === 'number')) return FbAttrKind.Floats;
  throw new FormatError(`${where}: a metadata value must be a number, boolean, string, null or array of numbers, got ${JSON.stringify(value)}`);
}

/** Symbolic numbers of an attribute: element index → index into Model.exprs. */
export type AttrExprRefs = readonly { readonly element: number; readonly expr: number }[];

/** Writes one attribute; `kind` is the stored kind (see storedKind). */
export function writeAttr(b: Builder, key: string, kind: FbAttrKind, value: AttrValue, exprs: AttrExprRefs = []): Offset {
  const keyOffset = b.createString(key);
  const stringOffset = kind === FbAttrKind.String ? b.createString(value as string) : 0;
  let intsOffset = 0;
  let floatsOffset = 0;
  if (kind === FbAttrKind.Ints) intsOffset = Attr.createIntsVector(b, (value as readonly number[]).map((x) => BigInt(x)));
  if (kind === FbAttrKind.Floats) floatsOffset = Attr.createFloatsVector(b, [...(value as readonly number[])]);
  let exprsOffset = 0;
  if (exprs.length) {
    Attr.startExprsVector(b, exprs.length);
    for (let i = exprs.length - 1; i >= 0; i--) AttrExpr.createAttrExpr(b, exprs[i].element, exprs[i].expr);
    exprsOffset = b.endVector();
  }
  Attr.startAttr(b);
  Attr.addKey(b, keyOffset);
  Attr.addKind(b, kind);
  if (kind === FbAttrKind.Int) Attr.addIntValue(b, BigInt(value as number));
  if (kind === FbAttrKind.Float) Attr.addFloatValue(b, value as number);
  if (kind === FbAttrKind.Bool) Attr.addBoolValue(b, value as boolean);
  if (kind === FbAttrKind.DType) Attr.addDtypeValue(b, dtypeCode(value as DType));
  if (stringOffset) Attr.addStringValue(b, stringOffset);
  if (intsOffset) Attr.addInts(b, intsOffset);
  if (floatsOffset) Attr.addFloats(b, floatsOffset);
  if (exprsOffset) Attr.addExprs(b, exprsOffset);
  return Attr.endAttr(b);
}

/** A 64-bit integer from a file as a number, or a FormatError when it is not exactly representable. */
export function safeInteger(x: bigint, where: string): number {
  if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new FormatError(`${where}: ${x} is outside the integers JavaScript represents exactly (±2^53)`);
  }
  return Number(x);
}

export interface ReadAttr {
  readonly key: string;
  readonly kind: FbAttrKind;
  readonly value: AttrValue;
  readonly exprs: AttrExprRefs;
}

/** Reads one attribute (in a verified file), checking its kind's value. */
export function readAttr(a: Attr, where: string): ReadAttr {
  const key = a.key()!;
  const at = `${where} attribute '${key}'`;
  const kind = a.kind();
  let value: AttrValue;
  switch (kind) {
    case FbAttrKind.Null: value = null; break;
    case FbAttrKind.Int: value = safeInteger(a.intValue(), at); break;
    case FbAttrKind.Float: value = a.floatValue(); break;
    case FbAttrKind.Bool: value = a.boolValue(); break;
    case FbAttrKind.String: {
      const s = a.stringValue();
      if (s === null) throw new FormatError(`${at}: a string attribute without its string_value`);
      value = s;
      break;
    }
    case FbAttrKind.DType: value = dtypeOfCode(a.dtypeValue(), at); break;
    case FbAttrKind.Ints: value = Array.from({ length: a.intsLength() }, (_, i) => safeInteger(a.ints(i)!, `${at}[${i}]`)); break;
    case FbAttrKind.Floats: value = Array.from({ length: a.floatsLength() }, (_, i) => a.floats(i)!); break;
    default: throw new FormatError(`${at}: unknown attribute kind ${kind}; valid kinds are 0-7 (${KIND_NAMES.join(', ')})`);
  }
  const exprs = Array.from({ length: a.exprsLength() }, (_, i) => {
    const e = a.exprs(i)!;
    return { element: e.element(), expr: e.expr() };
  });
  return { key, kind, value, exprs };
}

/** Throws unless a stored kind is one the op's declared kind accepts. */
export function checkAttrKind(declared: AttrKind, stored: FbAttrKind, where: string): void {
  if (!ACCEPTS[declared].includes(stored)) {
    throw new FormatError(`${where} is stored as ${KIND_NAMES[stored] ?? `kind ${stored}`}, but the op declares it ${declared}`);
  }
}

/**
 * The tables of schema/kiln.fbs as data, for the structural verifier: every field in id
 * order with how it is stored. test/layout.test.ts checks this against the generated code,
 * so a schema change that is not mirrored here fails the build's tests.
 */

/** How a field is stored. Scalars and structs are inline; the others are offsets to an object. */
export type FieldKind =
  | { readonly kind: 'scalar'; readonly size: 1 | 2 | 4 | 8 }
  | { readonly kind: 'struct'; readonly size: number; readonly align: number }
  | { readonly kind: 'string' }
  | { readonly kind: 'table'; readonly table: TableName }
  | { readonly kind: 'vector'; readonly elementSize: number; readonly align: number }
  | { readonly kind: 'strings' }
  | { readonly kind: 'tables'; readonly table: TableName };

export interface FieldLayout {
  readonly name: string;
  readonly type: FieldKind;
  readonly required?: boolean;
}

export type TableName =
  | 'Term' | 'SizeExpr' | 'SymbolDef' | 'TensorType' | 'Attr' | 'OpEntry' | 'Location' | 'Value' | 'Node' | 'Graph'
  | 'SignatureInput' | 'SignatureOutput' | 'Signature' | 'TensorData' | 'Model';

const scalar = (size: 1 | 2 | 4 | 8): FieldKind => ({ kind: 'scalar', size });
const vector = (elementSize: number, align = elementSize): FieldKind => ({ kind: 'vector', elementSize, align });
const table = (name: TableName): FieldKind => ({ kind: 'table', table: name });
const tables = (name: TableName): FieldKind => ({ kind: 'tables', table: name });
const string: FieldKind = { kind: 'string' };
const f = (name: string, type: FieldKind, required = false): FieldLayout => ({ name, type, ...(required ? { required } : {}) });

/** Size of the `Version` struct (two u16) and of `AttrExpr` (two u32). */
export const VERSION_STRUCT_SIZE = 4;
export const ATTR_EXPR_SIZE = 8;

export const LAYOUT: Readonly<Record<TableName, readonly FieldLayout[]>> = {
  Term: [f('coefficient', scalar(8)), f('symbols', vector(2))],
  SizeExpr: [f('terms', tables('Term')), f('reciprocal', scalar(1))],
  SymbolDef: [f('name', string, true), f('min', scalar(8)), f('max', scalar(8))],
  TensorType: [f('dtype', scalar(1)), f('shape', vector(8)), f('dim_exprs', vector(4))],
  Attr: [
    f('key', string, true), f('kind', scalar(1)), f('int_value', scalar(8)), f('float_value', scalar(8)),
    f('bool_value', scalar(1)), f('string_value', string), f('dtype_value', scalar(1)), f('ints', vector(8)),
    f('floats', vector(8)), f('exprs', vector(ATTR_EXPR_SIZE, 4)),
  ],
  OpEntry: [f('name', string, true), f('version', scalar(4))],
  Location: [f('file', scalar(4)), f('line', scalar(4)), f('column', scalar(4))],
  Value: [f('name', string), f('type', table('TensorType'), true)],
  Node: [
    f('op', scalar(4)), f('inputs', vector(4)), f('attrs', tables('Attr')), f('outputs', tables('Value')),
    f('subgraphs', vector(4)), f('loc', table('Location')),
  ],
  Graph: [f('inputs', tables('Value')), f('nodes', tables('Node')), f('outputs', vector(4))],
  SignatureInput: [f('name', string, true), f('role', scalar(1)), f('tensor', scalar(4)), f('target', scalar(4))],
  SignatureOutput: [f('name', string, true), f('role', scalar(1)), f('target', scalar(4))],
  Signature: [f('inputs', tables('SignatureInput')), f('outputs', tables('SignatureOutput')), f('rng_keys_per_run', scalar(4))],
  TensorData: [f('name', string, true), f('type', table('TensorType'), true), f('offset', scalar(8)), f('size', scalar(8))],
  Model: [
    f('version', { kind: 'struct', size: VERSION_STRUCT_SIZE, align: 2 }, true), f('producer_name', string), f('producer_version', string),
    f('ops', tables('OpEntry')), f('graphs', tables('Graph')), f('main_graph', scalar(4)), f('signature', table('Signature')),
    f('symbols', tables('SymbolDef')), f('symbol_values', vector(8)), f('exprs', tables('SizeExpr')), f('files', { kind: 'strings' }),
    f('tensors', tables('TensorData')), f('weights_offset', scalar(8)), f('weights_size', scalar(8)), f('metadata', tables('Attr')),
  ],
};

/** The vtable slot (byte offset within the vtable) of field `id`, as generated code uses it. */
export function slotOf(id: number): number {
  return 4 + 2 * id;
}

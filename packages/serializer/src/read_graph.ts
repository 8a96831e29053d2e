import type { AttrKind, Attrs, AttrValue, Graph, Node, OpDef, SourceLocation } from '@kiln/core';
import { getOp, hasOp, Value } from '@kiln/core';
import { checkAttrKind, readAttr } from './attrs.js';
import { FormatError } from './errors.js';
import type { Model, Node as FbNode, Value as FbValue } from './generated/kiln_generated.js';
import { opVersion } from './op_versions.js';
import { readTensorType } from './read_common.js';
import type { SizeExpr } from './types.js';

/** Most levels of sub-graphs inside sub-graphs a file may have. */
export const MAX_SUBGRAPH_DEPTH = 64;

/** The op table: every name a known op, each at most once, at a version this Kiln implements. */
export function readOpTable(model: Model): OpDef[] {
  const seen = new Set<string>();
  return Array.from({ length: model.opsLength() }, (_, i) => {
    const e = model.ops(i)!;
    const name = e.name()!;
    const version = e.version();
    if (!hasOp(name)) throw new FormatError(`op table entry ${i}: unknown op '${name}' (made by a newer Kiln, or corrupted)`);
    if (seen.has(name)) throw new FormatError(`op table entry ${i}: '${name}' is listed twice`);
    seen.add(name);
    if (version < 1 || version > opVersion(name)) {
      throw new FormatError(`op table entry ${i}: '${name}' has version ${version}, but this Kiln implements versions 1 to ${opVersion(name)}${version > opVersion(name) ? ' (the file needs a newer Kiln)' : ''}`);
    }
    return getOp(name);
  });
}

/** Decoded graphs and their symbolic parts. */
export interface ReadGraphs {
  readonly graphs: readonly Graph[];
  readonly dims: Map<Value, readonly (SizeExpr | null)[]>;
  readonly attrs: Map<Node, Record<string, (SizeExpr | null)[]>>;
}

interface Context {
  readonly ops: readonly OpDef[];
  readonly exprs: readonly SizeExpr[];
  readonly files: readonly string[];
  readonly maxValueBytes: number;
  readonly maxNodes: number;
}

/**
 * Decodes Model.graphs, last to first (a node's sub-graphs come after its own graph), checking
 * every value reference, op index, attribute, sub-graph index and location, and limiting the
 * nodes counted through sub-graphs and how deep sub-graphs nest.
 */
export function readGraphs(model: Model, ctx: Context): ReadGraphs {
  const n = model.graphsLength();
  const graphs: Graph[] = new Array(n);
  const dims = new Map<Value, readonly (SizeExpr | null)[]>();
  const attrs = new Map<Node, Record<string, (SizeExpr | null)[]>>();
  const expanded = new Array<number>(n).fill(0);
  const depth = new Array<number>(n).fill(0);
  const used = new Array<boolean>(n).fill(false);
  for (let gi = n - 1; gi >= 0; gi--) {
    const fb = model.graphs(gi)!;
    const where = `graph ${gi}`;
    const values: Value[] = [];
    const value = (v: FbValue, at: string): Value => {
      const type = readTensorType(v.type()!, at, ctx.exprs.length, ctx.maxValueBytes);
      const out = new Value({ dtype: type.dtype, shape: type.shape }, v.name() ?? undefined);
      if (type.dims) dims.set(out, type.dims.map((e) => (e < 0 ? null : ctx.exprs[e])));
      values.push(out);
      return out;
    };
    const inputs = Array.from({ length: fb.inputsLength() }, (_, i) => value(fb.inputs(i)!, `${where} input ${i}`));
    let count = fb.nodesLength();
    const nodes = Array.from({ length: fb.nodesLength() }, (_, j): Node => {
      const node = readNode(fb.nodes(j)!, `${where} node ${j}`, values, value, ctx, attrs, gi, graphs);
      for (const s of node.subs) {
        used[s] = true;
        count += expanded[s];
        depth[gi] = Math.max(depth[gi], depth[s] + 1);
      }
      if (count > ctx.maxNodes) throw new FormatError(`${where} holds more than ${ctx.maxNodes} nodes, counting each sub-graph once per node that uses it (ReadOptions.maxNodes)`);
      if (depth[gi] > MAX_SUBGRAPH_DEPTH) throw new FormatError(`${where}: sub-graphs nest more than ${MAX_SUBGRAPH_DEPTH} deep`);
      return node.node;
    });
    expanded[gi] = count;
    const outputs = Array.from({ length: fb.outputsLength() }, (_, i) => valueAt(values, fb.outputs(i)!, `${where} output ${i}`));
    graphs[gi] = { inputs, nodes, outputs };
  }
  const main = model.mainGraph();
  const unused = used.findIndex((u, i) => !u && i !== main);
  if (unused >= 0) throw new FormatError(`graph ${unused} is neither the main graph nor a sub-graph of any node`);
  return { graphs, dims, attrs };
}

function valueAt(values: readonly Value[], id: number, where: string): Value {
  if (id >= values.length) throw new FormatError(`${where} refers to value ${id}, but only ${values.length} values are defined at that point`);
  return values[id];
}

function readNode(
  fb: FbNode, where: string, values: Value[], value: (v: FbValue, at: string) => Value, ctx: Context,
  symbolicAttrs: Map<Node, Record<string, (SizeExpr | null)[]>>, graphIndex: number, graphs: readonly Graph[],
): { node: Node; subs: number[] } {
  const graphCount = graphs.length;
  const opIndex = fb.op();
  if (opIndex >= ctx.ops.length) throw new FormatError(`${where}: op index ${opIndex}, but the op table has ${ctx.ops.length} entries`);
  const op = ctx.ops[opIndex];
  const at = `${where} (${op.name})`;
  const inputs = Array.from({ length: fb.inputsLength() }, (_, i) => valueAt(values, fb.inputs(i)!, `${at} input ${i}`));
  const schema = op.attrs as Record<string, AttrKind>;
  const attrs: Record<string, AttrValue> = {};
  const symbolic: Record<string, (SizeExpr | null)[]> = {};
  for (let i = 0; i < fb.attrsLength(); i++) {
    const a = readAttr(fb.attrs(i)!, at);
    const attrAt = `${at} attribute '${a.key}'`;
    if (!Object.hasOwn(schema, a.key)) {
      const valid = Object.keys(schema);
      throw new FormatError(`${attrAt}: ${op.name} has no such attribute (${valid.length ? `it has ${valid.join(', ')}` : 'it has none'})`);
    }
    if (Object.hasOwn(attrs, a.key)) throw new FormatError(`${attrAt} appears twice`);
    checkAttrKind(schema[a.key], a.kind, attrAt);
    attrs[a.key] = a.value;
    if (a.exprs.length) symbolic[a.key] = attrExprs(a.value, a.exprs, ctx.exprs, attrAt);
  }
  const missing = Object.keys(schema).filter((k) => !Object.hasOwn(attrs, k));
  if (missing.length) throw new FormatError(`${at}: attribute${missing.length > 1 ? 's' : ''} ${missing.map((k) => `'${k}'`).join(', ')} missing`);
  const subs = Array.from({ length: fb.subgraphsLength() }, (_, i) => {
    const s = fb.subgraphs(i)!;
    if (s <= graphIndex || s >= graphCount) {
      throw new FormatError(`${at} sub-graph ${i} refers to graph ${s}; it must be a graph after this one (${graphIndex + 1} to ${graphCount - 1}), so references cannot form a cycle`);
    }
    return s;
  });
  const loc = readLocation(fb, ctx.files, at);
  const outputs = Array.from({ length: fb.outputsLength() }, (_, i) => value(fb.outputs(i)!, `${at} output ${i}`));
  const node: Node = {
    op: op.name, inputs, attrs: attrs as Attrs, outputs,
    ...(subs.length ? { subgraphs: subs.map((s) => graphs[s]) } : {}), ...(loc ? { loc } : {}),
  };
  if (Object.keys(symbolic).length) symbolicAttrs.set(node, symbolic);
  return { node, subs };
}

function attrExprs(value: AttrValue, refs: readonly { element: number; expr: number }[], exprs: readonly SizeExpr[], where: string): (SizeExpr | null)[] {
  const length = typeof value === 'number' ? 1 : Array.isArray(value) ? value.length : 0;
  if (length === 0) throw new FormatError(`${where}: only numbers can be symbolic, but it holds ${JSON.stringify(value)}`);
  const out = new Array<SizeExpr | null>(length).fill(null);
  for (const { element, expr } of refs) {
    if (element >= length) throw new FormatError(`${where}: a symbolic entry for element ${element} of ${length}`);
    if (expr >= exprs.length) throw new FormatError(`${where}: refers to expression ${expr}, but the file has ${exprs.length}`);
    if (out[element]) throw new FormatError(`${where}: element ${element} has two expressions`);
    out[element] = exprs[expr];
  }
  return out;
}

function readLocation(fb: FbNode, files: readonly string[], where: string): SourceLocation | undefined {
  const loc = fb.loc();
  if (!loc) return undefined;
  const file = loc.file();
  if (file >= files.length) throw new FormatError(`${where} location: file index ${file}, but the file lists ${files.length} source files`);
  const column = loc.column();
  if (column < -1) throw new FormatError(`${where} location: column ${column}; -1 means unknown`);
  return { file: files[file], line: loc.line(), ...(column >= 0 ? { column } : {}) };
}

import type { Attrs, AttrValue, Graph, SourceLocation, TensorType, Value } from '@kiln/core';
import { getOp, GraphBuilder, ShapeError, TraceError } from '@kiln/core';

/**
 * Symbolic dimensions by sampling. A function whose argument has a dynamic dimension is traced
 * at several sizes of it; the graphs must be the same except for numbers (attributes such as a
 * reshape's shape, a `full`'s value, the inputs' shapes) that are affine in the sizes — or whose
 * reciprocal is, as a mean's `1/n`. Those numbers become {@link Formula}s, and the graph for a
 * new size is rebuilt from the template ({@link specialize}) with every type inferred again by
 * the ops' shape rules, without running the function. See docs/design/compile.md.
 */

/** `c + Σ a[k]·size[k]`, or its reciprocal; `integer` numbers (shapes, int attrs) must come out whole. */
export class Formula {
  constructor(
    readonly c: number,
    readonly a: readonly number[],
    readonly reciprocal: boolean,
    readonly integer: boolean,
    /** Where the number sits, for messages: `node %3 (reshape) shape[0]`. */
    readonly where: string,
  ) {}

  at(sizes: readonly number[]): number {
    const affine = this.a.reduce((acc, a, k) => acc + a * sizes[k], this.c);
    return this.reciprocal ? 1 / affine : affine;
  }

  /** `2·s0 + 1`, `1/(s0)`. */
  toString(): string {
    const terms = this.a.flatMap((a, k) => (a === 0 ? [] : [`${a === 1 ? '' : a === -1 ? '-' : `${a}·`}s${k}`]));
    if (this.c !== 0 || terms.length === 0) terms.push(String(this.c));
    const affine = terms.join(' + ').replace(/\+ -/g, '- ');
    return this.reciprocal ? `1/(${affine})` : affine;
  }
}

/** A graph with some numbers replaced by formulas. */
type Leaf = number | string | boolean | null | Formula;
type Tree = Leaf | readonly Tree[];
interface TemplateNode {
  readonly op: string;
  readonly inputs: readonly number[];
  readonly attrs: Readonly<Record<string, Tree>>;
  readonly subgraphs?: readonly TemplateGraph[];
  readonly loc?: SourceLocation;
}
export interface TemplateGraph {
  readonly inputs: readonly { readonly dtype: string; readonly shape: Tree }[];
  readonly nodes: readonly TemplateNode[];
  readonly outputs: readonly number[];
}

/** Every formula in a template, in order (for explain()). */
export function formulasOf(t: TemplateGraph, out: Formula[] = []): Formula[] {
  const visit = (x: Tree): void => {
    if (x instanceof Formula) out.push(x);
    else if (Array.isArray(x)) x.forEach(visit);
  };
  t.inputs.forEach((i) => visit(i.shape));
  for (const n of t.nodes) {
    Object.values(n.attrs).forEach(visit);
    n.subgraphs?.forEach((g) => formulasOf(g, out));
  }
  return out;
}

/**
 * Fits a template to graphs traced at `points` (one size vector each): `points[0]` is the base,
 * `points[1..k]` change one size each, and the last point changes all of them, to check the fit.
 * Throws a TraceError naming the first difference that is structural or not affine.
 */
export function fitTemplate(graphs: readonly Graph[], points: readonly (readonly number[])[], describeSizes: (p: readonly number[]) => string): TemplateGraph {
  const fail = (why: string): never => {
    throw new TraceError(`compile: dynamic dimensions: the function traced at ${points.map(describeSizes).join(', ')} ${why}`);
  };
  const fitNumbers = (values: readonly number[], integer: boolean, where: string): Leaf => {
    if (values.every((v) => Object.is(v, values[0]))) return values[0];
    const k = points[0].length;
    for (const reciprocal of [false, true]) {
      const ys = values.map((v) => (reciprocal ? 1 / v : v));
      if (!ys.every(Number.isFinite)) continue;
      const a = points[0].map((_, j) => snap((ys[j + 1] - ys[0]) / (points[j + 1][j] - points[0][j])));
      const c = snap(ys[0] - a.reduce((acc, aj, j) => acc + aj * points[0][j], 0));
      const f = new Formula(c, a, reciprocal, integer, where);
      if (points.every((p, i) => close(f.at(p), values[i]))) return f;
    }
    return fail(`gives ${where} = ${values.join(', ')}, which is not affine in the size${k > 1 ? 's' : ''} (nor is its reciprocal); keep that dimension out of dynamic, or compute the value with tensor ops`);
  };
  const merge = (trees: readonly unknown[], integer: boolean, where: string): Tree => {
    const first = trees[0];
    if (typeof first === 'number') {
      if (!trees.every((t) => typeof t === 'number')) fail(`gives different kinds of value for ${where}`);
      return fitNumbers(trees as number[], integer, where);
    }
    if (Array.isArray(first)) {
      if (!trees.every((t) => Array.isArray(t) && t.length === first.length)) {
        fail(`gives ${where} different lengths (${trees.map((t) => (Array.isArray(t) ? t.length : '?')).join(', ')}): the number of elements depends on the size`);
      }
      return first.map((_, i) => merge(trees.map((t) => (t as unknown[])[i]), integer, `${where}[${i}]`));
    }
    if (!trees.every((t) => t === first)) fail(`gives ${where} = ${trees.map((t) => JSON.stringify(t)).join(', ')}`);
    return first as Leaf;
  };
  const mergeGraphs = (gs: readonly Graph[], at: string): TemplateGraph => {
    const g0 = gs[0];
    if (!gs.every((g) => g.inputs.length === g0.inputs.length)) fail(`has a different number of graph inputs${at}`);
    if (!gs.every((g) => g.nodes.length === g0.nodes.length)) {
      fail(`records a different number of ops${at} (${gs.map((g) => g.nodes.length).join(', ')}): what the function does depends on the size`);
    }
    const ids = gs.map(valueIds);
    const inputs = g0.inputs.map((v, i) => {
      if (!gs.every((g) => g.inputs[i].type.dtype === v.type.dtype)) fail(`gives graph input ${i}${at} different dtypes`);
      return { dtype: v.type.dtype as string, shape: merge(gs.map((g) => g.inputs[i].type.shape), true, `input ${i}${at} shape`) };
    });
    const nodes = g0.nodes.map((n, j): TemplateNode => {
      const ns = gs.map((g) => g.nodes[j]);
      const name = `node ${j} (${n.op})${at}`;
      if (!ns.every((m) => m.op === n.op)) fail(`records different ops at node ${j}${at}: ${ns.map((m) => m.op).join(', ')}`);
      const inputIds = ns.map((m, t) => m.inputs.map((v) => ids[t].get(v)));
      if (!inputIds.every((x) => x.join() === inputIds[0].join())) fail(`wires ${name} to different inputs`);
      const keys = Object.keys(n.attrs).sort();
      if (!ns.every((m) => Object.keys(m.attrs).sort().join() === keys.join())) fail(`gives ${name} different attributes`);
      const schema = getOp(n.op).attrs as Record<string, string>;
      const attrs = Object.fromEntries(keys.map((k) => [k, merge(ns.map((m) => m.attrs[k]), (schema[k] ?? '').startsWith('int'), `${name} ${k}`)]));
      const count = n.subgraphs?.length ?? 0;
      if (!ns.every((m) => (m.subgraphs?.length ?? 0) === count)) fail(`gives ${name} different sub-graphs`);
      const subgraphs = count ? n.subgraphs!.map((_, b) => mergeGraphs(ns.map((m) => m.subgraphs![b]), ` in sub-graph ${b} of node ${j}${at}`)) : undefined;
      return { op: n.op, inputs: inputIds[0] as number[], attrs, ...(subgraphs ? { subgraphs } : {}), ...(n.loc ? { loc: n.loc } : {}) };
    });
    const outs = gs.map((g, t) => g.outputs.map((v) => ids[t].get(v)!));
    if (!outs.every((o) => o.join() === outs[0].join())) fail(`returns different values${at}`);
    return { inputs, nodes, outputs: outs[0] };
  };
  return mergeGraphs(graphs, '');
}

/** Numbers each value of a graph level: inputs first, then node outputs in order. */
function valueIds(g: Graph): Map<Value, number> {
  const ids = new Map<Value, number>();
  for (const v of g.inputs) ids.set(v, ids.size);
  for (const n of g.nodes) for (const v of n.outputs) ids.set(v, ids.size);
  return ids;
}

/** Rounds to an integer when within rounding error of one (coefficients of shape arithmetic). */
function snap(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - r) <= 1e-9 * Math.max(1, Math.abs(x)) ? r : x;
}

function close(x: number, y: number): boolean {
  return Object.is(x, y) || Math.abs(x - y) <= 1e-12 * Math.max(1, Math.abs(y));
}

/**
 * The graph for one size vector: every formula evaluated, every node added again through
 * `GraphBuilder.add`, so the ops' shape rules check the new sizes. A rule that rejects them (or a
 * shape formula that is not a whole number there) throws a ShapeError naming the node.
 */
export function specialize(template: TemplateGraph, sizes: readonly number[], describeSizes: string): Graph {
  const value = (x: Tree): AttrValue => {
    if (x instanceof Formula) {
      const v = x.at(sizes);
      if (!x.integer) return v;
      const r = Math.round(v);
      if (Math.abs(v - r) > 1e-9) throw new ShapeError(`compile: dynamic dimensions: ${x.where} is ${x} = ${v} at ${describeSizes}, not a whole number; this size does not fit the function`);
      return r;
    }
    return Array.isArray(x) ? (x.map(value) as number[]) : (x as AttrValue);
  };
  const build = (t: TemplateGraph): Graph => {
    const b = new GraphBuilder();
    const values: Value[] = t.inputs.map((i) => b.input({ dtype: i.dtype as TensorType['dtype'], shape: value(i.shape) as number[] }));
    t.nodes.forEach((n, j) => {
      const attrs = Object.fromEntries(Object.entries(n.attrs).map(([k, v]) => [k, value(v)])) as Attrs;
      const subgraphs = n.subgraphs?.map(build);
      try {
        values.push(...b.add(getOp(n.op), n.inputs.map((id) => values[id]), attrs, { ...(subgraphs ? { subgraphs } : {}), ...(n.loc ? { loc: n.loc } : {}) }));
      } catch (e) {
        const where = n.loc ? ` (recorded at ${n.loc.file}:${n.loc.line})` : '';
        const why = e instanceof Error ? e.message : String(e);
        throw new ShapeError(`compile: dynamic dimensions: the graph does not fit ${describeSizes}: node ${j} (${n.op})${where}: ${why}`);
      }
    });
    return b.build(t.outputs.map((id) => values[id]));
  };
  return build(template);
}

import type { Attrs, AttrValue, Graph, SourceLocation, TensorType, Value } from '@kiln/core';
import { getOp, GraphBuilder, ShapeError, TraceError } from '@kiln/core';
import { fitFormula, Formula } from './formula.js';

export { Formula };

/**
 * Symbolic dimensions by sampling. A function whose argument has a dynamic dimension is traced
 * at several sizes of it; the graphs must be the same except for numbers (attributes such as a
 * reshape's shape, a `full`'s value, the inputs' shapes) that are polynomials of degree ≤ 2 in
 * the sizes — or whose reciprocal is, as a mean's `1/n`. Those numbers become `Formula`s
 * (formula.ts), and the graph for a
 * new size is rebuilt from the template ({@link specialize}) with every type inferred again by
 * the ops' shape rules, without running the function. See docs/design/compile.md.
 */

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
  readonly inputs: readonly { readonly dtype: string; readonly shape: Tree; readonly name?: string }[];
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
 * Fits a template to graphs traced at `points` (from `probePoints`). Throws a TraceError naming
 * the first difference that is structural or not a formula of the sizes.
 */
export function fitTemplate(graphs: readonly Graph[], points: readonly (readonly number[])[], describeSizes: (p: readonly number[]) => string): TemplateGraph {
  const fail = (why: string): never => {
    throw new TraceError(`compile: dynamic dimensions: the function traced at ${points.map(describeSizes).join(', ')} ${why}`);
  };
  const fitNumbers = (values: readonly number[], integer: boolean, where: string): Leaf => {
    if (values.every((v) => Object.is(v, values[0]))) return values[0];
    const f = fitFormula(values, points, integer, where);
    if (f) return f;
    const k = points[0].length;
    return fail(`gives ${where} = ${values.join(', ')}, which is not ${k > 1 ? 'a polynomial of degree ≤ 2 in the sizes' : 'a polynomial of degree ≤ 2 in the size'} (nor is its reciprocal); keep that dimension out of dynamic, or compute the value with tensor ops`);
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
      return { dtype: v.type.dtype as string, shape: merge(gs.map((g) => g.inputs[i].type.shape), true, `input ${i}${at} shape`), ...(v.name ? { name: v.name } : {}) };
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
    const values: Value[] = t.inputs.map((i) => b.input({ dtype: i.dtype as TensorType['dtype'], shape: value(i.shape) as number[] }, i.name));
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

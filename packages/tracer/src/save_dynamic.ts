import type { Graph, Node, Value } from '@kiln/core';
import { ArgumentError } from '@kiln/core';
import { Tensor, zeros } from '@kiln/eager';
import type { SizeExpr, SymbolicShapes } from '@kiln/serializer';
import type { TemplateGraph } from './dynamic.js';
import { fitTemplate } from './dynamic.js';
import { Formula, probePoints } from './formula.js';
import type { Entry } from './entry.js';
import { signatureOf, signatureOptions } from './signature.js';
import { tracedEntry } from './traced.js';

/** A symbol's name and the sizes a saved model accepts (inclusive). */
export interface SymbolOptions {
  readonly name?: string;
  /** Default 1. */
  readonly min?: number;
  readonly max?: number;
}

/**
 * The symbolic dimensions of a saved graph: the function's graphs at the example sizes and at
 * the probe sizes `compile`'s `dynamic` uses are fitted into a template (a compiled function
 * declared with the same `dynamic` makes them without tracing), and every number of the
 * template that varies becomes a size expression (a polynomial in the sizes, or a reciprocal).
 */
export function symbolicFor(
  compiled: unknown, exampleArgs: readonly unknown[], entry: Entry,
  dynamic: Readonly<Record<number, readonly number[]>>, symbolOptions: readonly SymbolOptions[],
): SymbolicShapes {
  const sig = signatureOf(exampleArgs, signatureOptions({ dynamic }));
  for (const [arg, axes] of Object.entries(dynamic)) {
    for (const a of axes) {
      const t = exampleArgs[Number(arg)] as Tensor;
      const axis = a < 0 ? a + t.shape.length : a;
      if (!sig.symbols.some((s) => s.dims.some((d) => d.arg === Number(arg) && d.axis === axis))) {
        throw new ArgumentError(`save: dynamic: arg ${arg} axis ${a} has size ${t.shape[axis]} in the example; use an example size of at least 2 for a dimension that varies`);
      }
    }
  }
  if (symbolOptions.length > sig.symbols.length) throw new ArgumentError(`save: symbols lists ${symbolOptions.length} symbols, but the dynamic dimensions make ${sig.symbols.length}`);
  const sizes = sig.symbols.map((s) => s.size);
  const points = probePoints(sizes);
  const describe = (p: readonly number[]) => sig.symbols.map((s, k) => `${s.dims.map((d) => `arg ${d.arg} axis ${d.axis}`).join(' = ')} = ${p[k]}`).join(', ');
  const argsAt = (p: readonly number[]): unknown[] => {
    const args = [...exampleArgs];
    const shapes = new Map<number, number[]>();
    sig.symbols.forEach((s, k) => {
      for (const d of s.dims) {
        const shape = shapes.get(d.arg) ?? [...(exampleArgs[d.arg] as Tensor).shape];
        shape[d.axis] = p[k];
        shapes.set(d.arg, shape);
      }
    });
    for (const [arg, shape] of shapes) args[arg] = zeros(shape, (exampleArgs[arg] as Tensor).dtype);
    return args;
  };
  const probes = points.slice(1).map((p) => {
    const args = argsAt(p);
    try {
      return tracedEntry(compiled, args, 'save').graph;
    } finally {
      args.forEach((a, i) => a !== exampleArgs[i] && a instanceof Tensor && a.dispose());
    }
  });
  const template = fitTemplate([entry.graph, ...probes], points, describe);
  const dims = new Map<Value, (SizeExpr | null)[]>();
  const attrs = new Map<Node, Record<string, (SizeExpr | null)[]>>();
  collect(template, entry.graph, dims, attrs);
  const symbols = sig.symbols.map((_, k) => {
    const o = symbolOptions[k] ?? {};
    return { name: o.name ?? `s${k}`, min: o.min ?? 1, ...(o.max !== undefined ? { max: o.max } : {}) };
  });
  return { symbols, sizes, dims, attrs };
}

type Tree = number | string | boolean | null | Formula | readonly Tree[];

const exprOf = (x: Tree): SizeExpr | null =>
  x instanceof Formula ? { terms: x.terms.map(([m, c]) => ({ coefficient: c, symbols: [...m] })), ...(x.reciprocal ? { reciprocal: true } : {}) } : null;

/** Walks the template beside the graph it was fitted from, recording each formula where it sits. */
function collect(t: TemplateGraph, g: Graph, dims: Map<Value, (SizeExpr | null)[]>, attrs: Map<Node, Record<string, (SizeExpr | null)[]>>): void {
  t.inputs.forEach((input, i) => {
    const shape = input.shape as readonly Tree[];
    const exprs = shape.map(exprOf);
    if (exprs.some((e) => e !== null)) dims.set(g.inputs[i], exprs);
  });
  t.nodes.forEach((tn, j) => {
    const node = g.nodes[j];
    const byKey: Record<string, (SizeExpr | null)[]> = {};
    for (const [key, tree] of Object.entries(tn.attrs)) {
      const exprs = Array.isArray(tree) ? (tree as readonly Tree[]).map(exprOf) : [exprOf(tree as Tree)];
      if (exprs.some((e) => e !== null)) byKey[key] = exprs;
    }
    if (Object.keys(byKey).length) attrs.set(node, byKey);
    tn.subgraphs?.forEach((sub, b) => collect(sub, node.subgraphs![b], dims, attrs));
  });
}

import type { Attrs, AttrValue, Graph, Node, TensorType, Value } from '@kiln/core';
import { ArgumentError, getOp, GraphBuilder, KilnError, ShapeError, shapeToString } from '@kiln/core';
import type { Signature, SizeExpr, SymbolicShapes } from './types.js';

/**
 * Symbolic dimensions: a graph holds every number at one set of symbol sizes; `SymbolicShapes`
 * says which numbers are polynomials in the sizes (or reciprocals of one). `specializeGraph` rebuilds the graph for other
 * sizes with every type inferred again by the ops' shape rules.
 */

/**
 * The value of `e` at `sizes` (one per symbol).
 *
 * @example
 * ```ts
 * evalSizeExpr({ terms: [{ coefficient: 2, symbols: [0] }, { coefficient: 1, symbols: [] }] }, [5]); // 11
 * ```
 */
export function evalSizeExpr(e: SizeExpr, sizes: readonly number[]): number {
  const sum = e.terms.reduce((acc, t) => acc + t.symbols.reduce((p, k) => p * sizes[k], t.coefficient), 0);
  return e.reciprocal ? 1 / sum : sum;
}

/**
 * `2·batch + 1`, `h·w`, `1/(batch)`, for messages and signatures.
 *
 * @example
 * ```ts
 * formatSizeExpr({ terms: [{ coefficient: 1, symbols: [0] }] }, ['batch']); // 'batch'
 * ```
 */
export function formatSizeExpr(e: SizeExpr, names: readonly string[]): string {
  const parts = e.terms.filter((t) => t.coefficient !== 0).map((t) => {
    const product = t.symbols.map((k) => names[k] ?? `s${k}`).join('·');
    if (!product) return String(t.coefficient);
    return t.coefficient === 1 ? product : `${t.coefficient}·${product}`;
  });
  const text = parts.join(' + ') || '0';
  return e.reciprocal ? `1/(${text})` : text;
}

const isIntegerKind = (op: string, key: string) => {
  const kind = (getOp(op).attrs as Record<string, string>)[key] ?? '';
  return kind.startsWith('int');
};

/** Every graph reachable from `graph` (itself first), each once. */
export function graphsOf(graph: Graph): Graph[] {
  const seen = new Set<Graph>([graph]);
  const out: Graph[] = [graph];
  for (let i = 0; i < out.length; i++) {
    for (const n of out[i].nodes) for (const s of n.subgraphs ?? []) if (!seen.has(s)) seen.add(s), out.push(s);
  }
  return out;
}

function close(x: number, want: number, integer: boolean): boolean {
  if (integer) return Math.abs(x - want) <= 1e-9 && Number.isInteger(want);
  return Object.is(x, want) || Math.abs(x - want) <= 1e-12 * Math.max(1, Math.abs(want));
}

/**
 * The first way `symbolic` does not describe `graph` consistently, or undefined: symbol
 * names and bounds, each expression's arity, every expression equal to the number it stands
 * for at `sizes`, and every symbol readable from a user input's dimension.
 */
export function symbolicProblem(graph: Graph, signature: Signature, s: SymbolicShapes): string | undefined {
  const k = s.symbols.length;
  const names = new Set<string>();
  for (const [i, sym] of s.symbols.entries()) {
    if (typeof sym?.name !== 'string' || sym.name === '' || names.has(sym.name)) return `symbol ${i} needs a unique non-empty name`;
    names.add(sym.name);
    if (!Number.isSafeInteger(sym.min) || sym.min < 0) return `symbol '${sym.name}': min must be a non-negative integer, got ${sym.min}`;
    if (sym.max !== undefined && (!Number.isSafeInteger(sym.max) || sym.max < sym.min)) return `symbol '${sym.name}': max must be an integer ≥ min (${sym.min}), got ${sym.max}`;
  }
  if (s.sizes.length !== k) return `${s.sizes.length} sizes given for ${k} symbols`;
  for (const [i, sym] of s.symbols.entries()) {
    const n = s.sizes[i];
    if (!Number.isSafeInteger(n) || n < sym.min || (sym.max !== undefined && n > sym.max)) return `symbol '${sym.name}' has size ${n} in the graph, outside its bounds ${boundsOf(sym.min, sym.max)}`;
  }
  const symbolNames = s.symbols.map((x) => x.name);
  const exprProblem = (e: SizeExpr, where: string): string | undefined => {
    if (e === null || typeof e !== 'object' || !Array.isArray(e.terms)) return `${where}: an expression must be { terms, reciprocal? }`;
    for (const t of e.terms) {
      if (!Number.isFinite(t?.coefficient) || !Array.isArray(t.symbols)) return `${where}: each term needs a finite coefficient and a list of symbols`;
      if (!t.symbols.every((j: number) => Number.isInteger(j) && j >= 0 && j < k)) return `${where}: a term refers to a symbol outside 0..${k - 1}`;
    }
    return undefined;
  };
  const graphs = graphsOf(graph);
  const values = new Set<Value>(graphs.flatMap((g) => [...g.inputs, ...g.nodes.flatMap((n) => n.outputs)]));
  const nodes = new Set<Node>(graphs.flatMap((g) => g.nodes));
  for (const [v, dims] of s.dims) {
    if (!values.has(v)) return 'a symbolic value is not in the graph';
    if (dims.length !== v.type.shape.length) return `a value of shape ${shapeToString(v.type.shape)} has ${dims.length} symbolic dimension entries`;
    for (const [axis, a] of dims.entries()) {
      if (a === null) continue;
      const where = `dimension ${axis} of a ${shapeToString(v.type.shape)} value`;
      const bad = exprProblem(a, where);
      if (bad) return bad;
      const at = evalSizeExpr(a, s.sizes);
      if (!close(at, v.type.shape[axis], true)) return `${where} is ${formatSizeExpr(a, symbolNames)} = ${at} at the graph's sizes, not ${v.type.shape[axis]}`;
    }
  }
  for (const [node, byKey] of s.attrs) {
    if (!nodes.has(node)) return `a node with symbolic attributes (${node.op}) is not in the graph`;
    for (const [key, exprs] of Object.entries(byKey)) {
      const value: AttrValue | undefined = node.attrs[key];
      const numbers = typeof value === 'number' ? [value] : Array.isArray(value) ? value : undefined;
      if (!numbers || exprs.length !== numbers.length) return `${node.op} attribute '${key}': symbolic entries must be one per number of a numeric attribute`;
      const integer = isIntegerKind(node.op, key);
      for (const [i, a] of exprs.entries()) {
        if (a === null) continue;
        const where = `${node.op} attribute '${key}'[${i}]`;
        const bad = exprProblem(a, where);
        if (bad) return bad;
        const at = evalSizeExpr(a, s.sizes);
        if (!close(at, numbers[i], integer)) return `${where} is ${formatSizeExpr(a, symbolNames)} = ${at} at the graph's sizes, not ${numbers[i]}`;
      }
    }
  }
  for (const [i, sym] of s.symbols.entries()) {
    if (!bindingOf(graph, signature, s, i)) return `symbol '${sym.name}' is not any user input's dimension: a caller's inputs could not tell its size`;
  }
  for (const [i, input] of signature.inputs.entries()) {
    if (input.role !== 'input' && s.dims.get(graph.inputs[i])?.some((a) => a !== null)) return `input ${i} ('${input.name}') is stored data of a fixed size, but has symbolic dimensions`;
  }
  return undefined;
}

function boundsOf(min: number, max: number | undefined): string {
  return `[${min}, ${max ?? '∞'}]`;
}

/** The (input, axis) whose dimension is exactly symbol `k`, if any. */
function bindingOf(graph: Graph, signature: Signature, s: SymbolicShapes, k: number): { input: number; axis: number } | undefined {
  for (const [i, v] of graph.inputs.entries()) {
    if (signature.inputs[i]?.role !== 'input') continue;
    const axis = (s.dims.get(v) ?? []).findIndex((e) => e !== null && !e.reciprocal && e.terms.length === 1 && e.terms[0].coefficient === 1 && e.terms[0].symbols.length === 1 && e.terms[0].symbols[0] === k);
    if (axis >= 0) return { input: i, axis };
  }
  return undefined;
}

/**
 * The symbol sizes that `shapes` (one per user input, in signature order) imply; throws a
 * ShapeError naming the input and dimension that do not fit, or a symbol out of its bounds.
 *
 * @example
 * ```ts
 * const file = readModel(bytes); // x: f32[batch, 784]
 * bindSizes(file.graph, file.signature, file.symbolic!, [[32, 784]]); // [32]
 * ```
 */
export function bindSizes(graph: Graph, signature: Signature, s: SymbolicShapes, shapes: readonly (readonly number[])[]): number[] {
  const userInputs = signature.inputs.flatMap((x, i) => (x.role === 'input' ? [i] : []));
  const shapeOf = new Map(userInputs.map((i, j) => [i, shapes[j]]));
  const names = s.symbols.map((x) => x.name);
  const sizes = s.symbols.map((sym, k) => {
    const { input, axis } = bindingOf(graph, signature, s, k)!;
    const n = shapeOf.get(input)![axis];
    if (n < sym.min || (sym.max !== undefined && n > sym.max)) {
      throw new ShapeError(`input '${signature.inputs[input].name}' dimension ${axis} is ${sym.name} = ${n}, outside the sizes the model accepts ${boundsOf(sym.min, sym.max)}`);
    }
    return n;
  });
  for (const i of userInputs) {
    const want = typeAt(graph.inputs[i], s, sizes);
    const got = shapeOf.get(i)!;
    if (got.length !== want.shape.length || got.some((d, a) => d !== want.shape[a])) {
      const dims = s.dims.get(graph.inputs[i]) ?? [];
      const expected = want.shape.map((d, a) => (dims[a] ? `${formatSizeExpr(dims[a]!, names)}=${d}` : String(d))).join(',');
      throw new ShapeError(`input '${signature.inputs[i].name}' has shape ${shapeToString(got)}, but with ${names.map((n, k) => `${n} = ${sizes[k]}`).join(', ')} the model takes [${expected}]`);
    }
  }
  return sizes;
}

function typeAt(v: Value, s: SymbolicShapes, sizes: readonly number[]): TensorType {
  const dims = s.dims.get(v);
  if (!dims) return v.type;
  return { dtype: v.type.dtype, shape: v.type.shape.map((d, a) => (dims[a] ? Math.round(evalSizeExpr(dims[a]!, sizes)) : d)) };
}

/**
 * The graph at other symbol sizes: every symbolic number evaluated, every node added again
 * through `GraphBuilder.add` so that the ops' shape rules check the new sizes. Throws a
 * ShapeError naming the node when the sizes do not fit.
 *
 * @example
 * ```ts
 * const file = readModel(bytes);
 * const g = specializeGraph(file.graph, file.symbolic!, [32]); // batch = 32
 * ```
 */
export function specializeGraph(graph: Graph, s: SymbolicShapes, sizes: readonly number[]): Graph {
  if (sizes.length !== s.symbols.length || !sizes.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new ArgumentError(`specializeGraph: expected ${s.symbols.length} non-negative integer sizes (${s.symbols.map((x) => x.name).join(', ')}), got ${JSON.stringify(sizes)}`);
  }
  const done = new Map<Graph, Graph>();
  const build = (g: Graph): Graph => {
    const cached = done.get(g);
    if (cached) return cached;
    const b = new GraphBuilder();
    const env = new Map<Value, Value>();
    g.inputs.forEach((v) => env.set(v, b.input(typeAt(v, s, sizes), v.name)));
    g.nodes.forEach((n, j) => {
      const attrs = attrsAt(n, s, sizes);
      const subgraphs = n.subgraphs?.map(build);
      let outs: Value[];
      try {
        outs = b.add(getOp(n.op), n.inputs.map((v) => env.get(v)!), attrs, { ...(subgraphs ? { subgraphs } : {}), ...(n.loc ? { loc: n.loc } : {}) });
      } catch (e) {
        if (!(e instanceof KilnError)) throw e;
        const at = s.symbols.map((x, k) => `${x.name} = ${sizes[k]}`).join(', ');
        throw new ShapeError(`the model does not fit ${at}: node ${j} (${n.op}): ${e.message}`);
      }
      n.outputs.forEach((v, i) => env.set(v, outs[i]));
    });
    const out = b.build(g.outputs.map((v) => env.get(v)!));
    done.set(g, out);
    return out;
  };
  return build(graph);
}

function attrsAt(n: Node, s: SymbolicShapes, sizes: readonly number[]): Attrs {
  const exprs = s.attrs.get(n);
  if (!exprs) return n.attrs;
  const attrs: Record<string, AttrValue> = { ...n.attrs };
  for (const [key, list] of Object.entries(exprs)) {
    const integer = isIntegerKind(n.op, key);
    const at = (a: SizeExpr | null, old: number) => {
      if (!a) return old;
      const v = evalSizeExpr(a, sizes);
      if (!integer) return v;
      const r = Math.round(v);
      if (Math.abs(v - r) > 1e-9) throw new ShapeError(`${n.op} attribute '${key}' is ${v} at these sizes, not a whole number: the sizes do not fit the model`);
      return r;
    };
    const value = n.attrs[key];
    attrs[key] = Array.isArray(value) ? value.map((x, i) => at(list[i], x)) : at(list[0], value as number);
  }
  return attrs;
}

/**
 * Symbolic dimensions in ONNX export: a batch-dynamic Kiln graph becomes an ONNX model whose
 * inputs have named dimensions (`dim_param: "batch"`) and whose shape-dependent attributes
 * (a reshape's target, a broadcast's shape, a slice's end) are computed from the inputs' shapes
 * while the model runs. Which dimensions of every value vary is found by rebuilding the graph at
 * other sizes and comparing; a lowering that needs a varying dimension as a number is refused.
 */
import type { Graph, Node, Value } from '@kiln/core';
import { formatSizeExpr, specializeGraph } from '../symbolic.js';
import type { SizeExpr, SymbolicShapes } from '../types.js';
import type { NodeSink } from './emitter.js';
import { attr } from './emitter.js';
import { OnnxExportError } from './errors.js';

/** Where to read each symbol while the model runs: a dimension of a named ONNX input. */
interface Binding {
  readonly input: string;
  readonly axis: number;
}

const isSymbol = (e: SizeExpr, k: number) => !e.reciprocal && e.terms.length === 1 && e.terms[0].coefficient === 1 && e.terms[0].symbols.length === 1 && e.terms[0].symbols[0] === k;

/** Pairs every value of `a` with the value at the same place in `b` (same structure, other sizes). */
function zipValues(a: Graph, b: Graph, visit: (x: Value, y: Value) => void): void {
  a.inputs.forEach((v, i) => visit(v, b.inputs[i]));
  a.nodes.forEach((n, j) => {
    n.outputs.forEach((v, i) => visit(v, b.nodes[j].outputs[i]));
    n.subgraphs?.forEach((g, k) => zipValues(g, b.nodes[j].subgraphs![k], visit));
  });
}

function rebuilt(graph: Graph, symbolic: SymbolicShapes, sizes: readonly number[]): Graph | undefined {
  try {
    return specializeGraph(graph, symbolic, sizes);
  } catch {
    return undefined;
  }
}

/**
 * What export knows about a graph's symbolic dimensions: where each symbol is read from, which
 * dimensions of each value vary, and how to compute a size expression as an ONNX tensor.
 */
export class DynamicShapes {
  private readonly bindings: Binding[];
  private readonly varying = new Map<Value, boolean[]>();
  readonly names: readonly string[];

  constructor(
    graph: Graph,
    readonly symbolic: SymbolicShapes,
    /** ONNX names of the graph's inputs; undefined for those that are initializers. */
    inputNames: readonly (string | undefined)[],
  ) {
    this.names = symbolic.symbols.map((s) => s.name);
    this.bindings = symbolic.symbols.map((s, k) => {
      for (const [i, v] of graph.inputs.entries()) {
        const axis = (symbolic.dims.get(v) ?? []).findIndex((e) => e !== null && isSymbol(e, k));
        if (axis >= 0 && inputNames[i] !== undefined) return { input: inputNames[i]!, axis };
      }
      throw new OnnxExportError(`exportOnnx: symbol '${s.name}' is not a dimension of any model input, so an ONNX runtime could not tell its size`);
    });
    symbolic.symbols.forEach((s, k) => {
      const n = symbolic.sizes[k];
      const others = [n + 1, n + 2, n - 1].filter((m) => m >= s.min && (s.max === undefined || m <= s.max));
      const moved = others.map((m) => rebuilt(graph, symbolic, symbolic.sizes.map((x, j) => (j === k ? m : x)))).find((g) => g !== undefined);
      if (!moved) {
        if (others.length === 0) return; // the symbol has one size: nothing varies with it
        throw new OnnxExportError(`exportOnnx: the graph cannot be rebuilt at sizes of '${s.name}' other than ${n} (${others.join(', ')} do not fit its shapes); export it at fixed sizes`);
      }
      zipValues(graph, moved, (x, y) => {
        const flags = this.varying.get(x) ?? x.type.shape.map(() => false);
        x.type.shape.forEach((d, a) => (flags[a] ||= d !== y.type.shape[a]));
        this.varying.set(x, flags);
      });
    });
  }

  /** Whether dimension `axis` of `v` changes with the symbols. */
  varies(v: Value, axis: number): boolean {
    return this.varying.get(v)?.[axis] ?? false;
  }

  /** A value's dimensions for an ONNX type: numbers where fixed, the expression's text or unknown (null) where they vary. */
  dimsOf(v: Value): (number | string | null)[] {
    const exprs = this.symbolic.dims.get(v);
    return v.type.shape.map((d, a) => (exprs?.[a] ? formatSizeExpr(exprs[a]!, this.names) : this.varies(v, a) ? null : d));
  }

  /** The symbolic entries of a node's attribute, if any entry is symbolic. */
  attrExprs(node: Node, key: string): readonly (SizeExpr | null)[] | undefined {
    const exprs = this.symbolic.attrs.get(node)?.[key];
    return exprs?.some((e) => e !== null) ? exprs : undefined;
  }

  /** An int64 [1] tensor holding `e` (a polynomial in the symbols) while the model runs. */
  intExpr(sink: NodeSink, e: SizeExpr, int64s: (values: readonly number[]) => string): string {
    if (e.reciprocal) throw new OnnxExportError(`exportOnnx: 1/(${formatSizeExpr(e, this.names)}) where an integer is needed`);
    const terms = e.terms.filter((t) => t.coefficient !== 0).map((t) => {
      if (!Number.isInteger(t.coefficient)) throw new OnnxExportError(`exportOnnx: the size ${formatSizeExpr(e, this.names)} has a fractional coefficient`);
      let acc: string | undefined = t.coefficient === 1 && t.symbols.length ? undefined : int64s([t.coefficient]);
      for (const k of t.symbols) {
        const dim = this.symbolTensor(sink, k);
        acc = acc === undefined ? dim : sink.emit('Mul', [acc, dim])[0];
      }
      return acc!;
    });
    if (terms.length === 0) return int64s([0]);
    return terms.slice(1).reduce((sum, t) => sink.emit('Add', [sum, t])[0], terms[0]);
  }

  /** A float tensor of shape [1] holding `e` (or its reciprocal) in `onnxType`. */
  floatExpr(sink: NodeSink, e: SizeExpr, onnxType: number, int64s: (values: readonly number[]) => string): string {
    const [asFloat] = sink.emit('Cast', [this.intExpr(sink, { terms: e.terms }, int64s)], [attr.int('to', onnxType)]);
    return e.reciprocal ? sink.emit('Reciprocal', [asFloat])[0] : asFloat;
  }

  /** An int64 1-D tensor of `values`, with the symbolic entries computed while the model runs. */
  intsTensor(sink: NodeSink, values: readonly number[], exprs: readonly (SizeExpr | null)[] | undefined, int64s: (values: readonly number[]) => string): string {
    if (!exprs) return int64s(values);
    const parts: string[] = [];
    let run: number[] = [];
    values.forEach((v, i) => {
      const e = exprs[i];
      if (!e) return void run.push(v);
      if (run.length) parts.push(int64s(run));
      run = [];
      parts.push(this.intExpr(sink, e, int64s));
    });
    if (run.length) parts.push(int64s(run));
    return parts.length === 1 ? parts[0] : sink.emit('Concat', parts, [attr.int('axis', 0)])[0];
  }

  private symbolTensor(sink: NodeSink, k: number): string {
    const { input, axis } = this.bindings[k];
    // Each read is its own Shape node (a body cannot reuse one made in another scope); ONNX runtimes fold them.
    return sink.emit('Shape', [input], [attr.int('start', axis), attr.int('end', axis + 1)])[0];
  }
}

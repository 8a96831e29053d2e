import type { Attrs, Graph, Node, SourceLocation, TensorType } from '@kiln/core';
import { formatType, getOp, inferTypes, KilnError, shapesEqual, Value } from '@kiln/core';

/**
 * Whether two tensor types are the same dtype and shape.
 *
 * @example
 * ```ts
 * sameType({ dtype: 'float32', shape: [2] }, { dtype: 'float32', shape: [2] }); // true
 * ```
 */
export function sameType(a: TensorType, b: TensorType): boolean {
  return a.dtype === b.dtype && shapesEqual(a.shape, b.shape);
}

/**
 * Rebuilds a graph node by node for a pass: nodes are kept (with their inputs remapped through
 * the replacements made so far), dropped, or replaced by new nodes; a value can be replaced by
 * another of the same type. `build()` returns the original graph object when nothing changed,
 * so a pass that finds nothing to do is the identity.
 *
 * @example
 * ```ts
 * const rw = new GraphRewriter(graph, 'simplify');
 * for (const node of graph.nodes) {
 *   const n = rw.remap(node);
 *   if (n.op === 'neg' && rw.definer(n.inputs[0])?.op === 'neg') rw.replace(n.outputs[0], rw.definer(n.inputs[0])!.inputs[0]);
 *   else rw.keep(n);
 * }
 * const simplified = rw.build();
 * ```
 */
export class GraphRewriter {
  private readonly subst = new Map<Value, Value>();
  private readonly defs = new Map<Value, Node>();
  private readonly nodes: Node[] = [];

  constructor(
    readonly graph: Graph,
    private readonly passName: string,
  ) {}

  /** The value that now stands for `v` (itself unless replaced). */
  resolve(v: Value): Value {
    return this.subst.get(v) ?? v;
  }

  /** `node` with its inputs resolved: the same object when none changed. */
  remap(node: Node): Node {
    const inputs = node.inputs.map((v) => this.resolve(v));
    return inputs.every((v, i) => v === node.inputs[i]) ? node : { ...node, inputs };
  }

  /** Appends a node (inputs resolved) to the new graph. */
  keep(node: Node): void {
    const n = this.remap(node);
    this.nodes.push(n);
    for (const out of n.outputs) this.defs.set(out, n);
  }

  /** Appends a new node whose output types are inferred; returns its outputs. */
  emit(op: string, inputs: readonly Value[], attrs: Attrs, loc?: SourceLocation): Value[] {
    const def = getOp(op);
    const outputs = inferTypes(def, inputs.map((v) => v.type), attrs).map((t) => new Value(t));
    this.keep({ op, inputs: inputs.map((v) => this.resolve(v)), attrs, outputs, ...(loc ? { loc } : {}) });
    return outputs;
  }

  /** From now on, uses of `old` read `by` instead. Their types must be equal. */
  replace(old: Value, by: Value): void {
    const target = this.resolve(by);
    if (!sameType(old.type, target.type)) {
      throw new KilnError(`pass '${this.passName}': internal error: replacing a ${formatType(old.type)} value by a ${formatType(target.type)} one`);
    }
    this.subst.set(old, target);
  }

  /** The node (kept or emitted so far) that defines `v`, or undefined for graph inputs. */
  definer(v: Value): Node | undefined {
    return this.defs.get(this.resolve(v));
  }

  build(): Graph {
    const outputs = this.graph.outputs.map((v) => this.resolve(v));
    const same = this.nodes.length === this.graph.nodes.length && this.nodes.every((n, i) => n === this.graph.nodes[i]) && outputs.every((v, i) => v === this.graph.outputs[i]);
    return same ? this.graph : { inputs: this.graph.inputs, nodes: this.nodes, outputs };
  }
}

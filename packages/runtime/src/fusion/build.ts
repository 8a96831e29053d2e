import type { Graph, Node } from '@kiln/core';
import { KilnError, Value } from '@kiln/core';

/**
 * Building fused nodes and putting a graph back in order. A fused node's body is a closed
 * graph: fresh values for the node's inputs, copies of the member nodes (and of the `full`
 * constants they read) over fresh values, returning the members' values that are read outside.
 * The fused node itself defines the members' original output values, so nothing downstream
 * needs renaming.
 */

/** What `fuseNodes` makes from a set of member nodes. */
export interface FusedNode {
  readonly node: Node;
  /** Indices (in the source graph) of `full` nodes copied into the body. */
  readonly copiedConstants: readonly number[];
}

/**
 * One node of `op` computing `members` (indices into `graph.nodes`, in order). `leading`
 * values become the first inputs even when no member reads them (a matmul's operands), and
 * `prelude` nodes go first in the body (the matmul), reading body inputs by position.
 *
 * @example
 * ```ts
 * const { node } = fuseNodes(graph, [3, 4, 5], 'fusedElementwise', outsideUses);
 * ```
 */
export function fuseNodes(
  graph: Graph, members: readonly number[], op: string, isUsedOutside: (v: Value) => boolean,
  options: { leading?: readonly Value[]; prelude?: (inputs: readonly Value[]) => Node[] } = {},
): FusedNode {
  const producer = new Map<Value, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((v) => producer.set(v, i)));
  const memberSet = new Set(members);
  const inner = new Map<Value, Value>(); // outer value → body value
  const inputs: Value[] = [];
  const bodyInputs: Value[] = [];
  const addInput = (v: Value) => {
    const b = new Value(v.type);
    inputs.push(v);
    bodyInputs.push(b);
    return b;
  };
  const leadingInner = (options.leading ?? []).map(addInput);
  const prelude = options.prelude?.(leadingInner) ?? [];
  const bodyNodes: Node[] = [...prelude];
  const copiedConstants: number[] = [];
  const outputs: Value[] = [];
  const bodyOutputs: Value[] = [];
  for (const m of members) {
    const node = graph.nodes[m];
    const args = node.inputs.map((v) => {
      const known = inner.get(v);
      if (known) return known;
      const p = producer.get(v);
      let b: Value;
      if (p !== undefined && graph.nodes[p].op === 'full' && !memberSet.has(p)) {
        const full = graph.nodes[p];
        b = new Value(v.type);
        bodyNodes.push({ op: 'full', inputs: [], attrs: full.attrs, outputs: [b] });
        copiedConstants.push(p);
      } else b = addInput(v);
      inner.set(v, b);
      return b;
    });
    const outs = node.outputs.map((v) => new Value(v.type));
    node.outputs.forEach((v, i) => inner.set(v, outs[i]));
    bodyNodes.push({ op: node.op, inputs: args, attrs: node.attrs, outputs: outs });
    node.outputs.forEach((v, i) => {
      if (isUsedOutside(v)) {
        outputs.push(v);
        bodyOutputs.push(outs[i]);
      }
    });
  }
  const loc = graph.nodes[members[0]].loc;
  const body: Graph = { inputs: bodyInputs, nodes: bodyNodes, outputs: bodyOutputs };
  return { node: { op, inputs, attrs: {}, outputs, subgraphs: [body], ...(loc ? { loc } : {}) }, copiedConstants };
}

/**
 * Orders nodes so every value is defined before it is read, keeping the given priority order
 * (usually the original positions) wherever the dependencies allow.
 *
 * @example
 * ```ts
 * const nodes = topoSort([{ node: a, priority: 3 }, { node: b, priority: 1 }]);
 * ```
 */
export function topoSort(items: readonly { node: Node; priority: number }[]): Node[] {
  const definer = new Map<Value, number>();
  items.forEach(({ node }, i) => node.outputs.forEach((v) => definer.set(v, i)));
  const waiting = items.map(({ node }) => new Set(node.inputs.map((v) => definer.get(v)).filter((d): d is number => d !== undefined)).size);
  const dependents = items.map(() => [] as number[]);
  items.forEach(({ node }, i) => {
    for (const d of new Set(node.inputs.map((v) => definer.get(v)).filter((x): x is number => x !== undefined))) dependents[d].push(i);
  });
  const heap = new MinHeap((a: number, b: number) => items[a].priority - items[b].priority || a - b);
  waiting.forEach((w, i) => w === 0 && heap.push(i));
  const order: Node[] = [];
  while (heap.size) {
    const i = heap.pop();
    order.push(items[i].node);
    for (const d of dependents[i]) if (--waiting[d] === 0) heap.push(d);
  }
  if (order.length !== items.length) throw new KilnError('fusion: internal error: the fused graph has a cycle');
  return order;
}

class MinHeap {
  private readonly a: number[] = [];
  constructor(private readonly less: (x: number, y: number) => number) {}
  get size(): number {
    return this.a.length;
  }
  push(x: number): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.less(a[i], a[p]) >= 0) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): number {
    const a = this.a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l], a[m]) < 0) m = l;
        if (r < a.length && this.less(a[r], a[m]) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

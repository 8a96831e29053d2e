import type { Graph, Value } from '@kiln/core';
import { getOp, GraphBuilder } from '@kiln/core';

const hasComposite = (g: Graph): boolean => g.nodes.some((n) => getOp(n.op).kind === 'composite' || n.subgraphs?.some(hasComposite));

/**
 * `graph` with every composite node (kept by `GraphBuilder({ keepComposites: true })`) replaced
 * by its expansion into primitives, in sub-graphs too. The same graph object when there is none.
 *
 * @example
 * ```ts
 * expandComposites(graphWithSoftmax).nodes.map((n) => n.op); // ['max', 'sub', 'exp', 'sum', 'div']
 * ```
 */
export function expandComposites(graph: Graph): Graph {
  if (!hasComposite(graph)) return graph;
  const b = new GraphBuilder();
  const map = new Map<Value, Value>();
  graph.inputs.forEach((v) => map.set(v, b.input(v.type, v.name)));
  for (const node of graph.nodes) {
    const inputs = node.inputs.map((v) => map.get(v)!);
    const op = getOp(node.op);
    const subgraphs = node.subgraphs?.map(expandComposites);
    const outputs = op.kind === 'composite'
      ? b.bind(op, inputs, node.attrs)
      : b.add(op, inputs, node.attrs, { ...(subgraphs ? { subgraphs } : {}), ...(node.loc ? { loc: node.loc } : {}) });
    node.outputs.forEach((v, k) => map.set(v, outputs[k]));
  }
  return b.build(graph.outputs.map((v) => map.get(v)!));
}

import type { Graph, Value } from '@kiln/core';
import type { Pass, PassContext } from './pass.js';
import { NO_CONTEXT } from './pass.js';
import { CONTROL_OPS } from './values.js';

/**
 * Dead-code elimination: drops every node none of whose outputs reaches a graph output, and
 * does the same inside control-flow bodies. Graph inputs are kept even when unused (callers
 * feed inputs by position), and so are all outputs: state updates and gradients are outputs,
 * so they always survive. Kiln ops have no side effects, so nothing else needs keeping.
 *
 * @example
 * ```ts
 * dce(graph); // `%1 = exp %x` disappears if nothing reads %1
 * ```
 */
export function dce(graph: Graph, context: PassContext = NO_CONTEXT): Graph {
  const live = new Set<Value>(graph.outputs);
  const keep: boolean[] = new Array<boolean>(graph.nodes.length).fill(false);
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i];
    if (!node.outputs.some((v) => live.has(v))) continue;
    keep[i] = true;
    for (const v of node.inputs) live.add(v);
  }
  let changed = false;
  const nodes = [];
  for (let i = 0; i < graph.nodes.length; i++) {
    const node = graph.nodes[i];
    if (!keep[i]) {
      context.note(`removed ${node.op}`);
      changed = true;
      continue;
    }
    if (node.subgraphs && CONTROL_OPS.has(node.op)) {
      const bodies = node.subgraphs.map((g) => dce(g, context));
      if (bodies.some((b, k) => b !== node.subgraphs![k])) {
        nodes.push({ ...node, subgraphs: bodies });
        changed = true;
        continue;
      }
    }
    nodes.push(node);
  }
  return changed ? { inputs: graph.inputs, nodes, outputs: graph.outputs } : graph;
}

export const DCE: Pass = { name: 'dce', doc: 'drop nodes whose outputs are never used (graph inputs and outputs are kept)', run: dce };

import type { Graph, Value } from '@kiln/core';
import type { Pass, PassContext } from './pass.js';
import { NO_CONTEXT } from './pass.js';
import { GraphRewriter } from './rewrite.js';
import { attrsKey, COMMUTATIVE_OPS, CONTROL_OPS, RANDOM_OPS } from './values.js';

/**
 * Common-subexpression elimination: a node with the same op, attributes (compared exactly:
 * -0 ≠ 0, NaN = NaN) and inputs as an earlier one is dropped and its outputs read the earlier
 * node's. Operands of commutative ops (add, mul, maximum, minimum, eq, ne, logicalAnd,
 * logicalOr) are compared as a set, which is exact in IEEE arithmetic. Random ops are never
 * merged (each draw is its own, even with the same key), nor are control-flow nodes; their
 * bodies are simplified on their own.
 *
 * @example
 * ```ts
 * cse(graph); // two `full {value=0}` nodes, or two `exp %x`, become one
 * ```
 */
export function cse(graph: Graph, context: PassContext = NO_CONTEXT): Graph {
  const rw = new GraphRewriter(graph, 'cse');
  const ids = new Map<Value, number>();
  const idOf = (v: Value): number => {
    let id = ids.get(v);
    if (id === undefined) ids.set(v, (id = ids.size));
    return id;
  };
  const seen = new Map<string, readonly Value[]>();
  for (const original of graph.nodes) {
    const node = rw.remap(original);
    if (node.subgraphs) {
      const bodies = CONTROL_OPS.has(node.op) ? node.subgraphs.map((g) => cse(g, context)) : node.subgraphs;
      rw.keep(bodies.some((b, k) => b !== node.subgraphs![k]) ? { ...node, subgraphs: bodies } : node);
      continue;
    }
    if (RANDOM_OPS.has(node.op)) {
      rw.keep(node);
      continue;
    }
    const inputIds = node.inputs.map(idOf);
    if (COMMUTATIVE_OPS.has(node.op)) inputIds.sort((a, b) => a - b);
    const key = `${node.op}(${inputIds.join(',')}){${attrsKey(node.attrs)}}`;
    const earlier = seen.get(key);
    if (earlier) {
      node.outputs.forEach((v, i) => rw.replace(v, earlier[i]));
      context.note(`merged ${node.op}`);
    } else {
      seen.set(key, node.outputs);
      rw.keep(node);
    }
  }
  return rw.build();
}

export const CSE: Pass = { name: 'cse', doc: 'merge nodes with the same op, attributes and inputs (never random ops)', run: cse };

import type { Graph, Node, Value } from '@kiln/core';
import type { Pass, PassContext } from '../passes/pass.js';
import { NO_CONTEXT } from '../passes/pass.js';
import { fuseNodes, topoSort } from './build.js';
import type { Group } from './groups.js';
import { partition } from './groups.js';
import { mapControlBodies } from '../control.js';

/** Users of each value, by node index, and the graph's outputs. */
export function usesOf(graph: Graph): { users: Map<Value, number[]>; outputs: Set<Value> } {
  const users = new Map<Value, number[]>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((v) => {
    const list = users.get(v);
    if (list) list.push(i);
    else users.set(v, [i]);
  }));
  return { users, outputs: new Set(graph.outputs) };
}

/**
 * Elementwise fusion: chains of elementwise ops (unary, binary, `where`, `cast`, the selects
 * `clamp` expands to), broadcasts (`broadcastTo` and implicit broadcasting) and an optional
 * trailing reduction (`sum`, `prod`, `max`, `min` of the whole chain's domain) become one
 * `fusedElementwise` node whose body holds them; the scalar constants they read are copied into
 * the body. Values read after the chain stay available as extra outputs of the fused node.
 * A group of one op is left alone. Backends run a fused node as one kernel: the CPU backend
 * generates a JavaScript loop for it, so intermediate tensors are never allocated.
 *
 * @example
 * ```ts
 * fuseElementwise(graph);
 * // %3 = fusedElementwise %x %bias
 * //     body0(%arg0: f32[64,256], %arg1: f32[256]) { … add, tanh, mul … }
 * ```
 */
export function fuseElementwise(graph: Graph, context: PassContext = NO_CONTEXT): Graph {
  graph = mapControlBodies(graph, (body) => fuseElementwise(body, context)); // loop and branch bodies too
  const groupOf = partition(graph);
  const groups = [...new Set(groupOf.filter((g): g is Group => g !== undefined))].filter((g) => g.members.length >= 2);
  const { users, outputs } = usesOf(graph);
  const items: { node: Node; priority: number }[] = [];
  const replaced = new Set<number>();
  const copied = new Map<number, number>(); // full node → uses taken over by bodies
  for (const group of groups) {
    const members = new Set(group.members);
    const outside = (v: Value) => outputs.has(v) || (users.get(v) ?? []).some((u) => !members.has(u));
    // Dead groups (nothing reads them: dce's business) are left as they are.
    if (!group.members.some((m) => graph.nodes[m].outputs.some(outside))) continue;
    const { node, copiedConstants } = fuseNodes(graph, group.members, 'fusedElementwise', outside);
    // A group that reads only constants would have no inputs (fused ops need one): left for folding.
    if (node.inputs.length === 0) continue;
    items.push({ node, priority: group.members[group.members.length - 1] });
    group.members.forEach((m) => replaced.add(m));
    for (const c of copiedConstants) copied.set(c, (copied.get(c) ?? 0) + (users.get(graph.nodes[c].outputs[0]) ?? []).filter((u) => members.has(u)).length);
    context.note('fused elementwise kernel');
    context.note('ops fused', group.members.length);
  }
  if (items.length === 0) return graph;
  graph.nodes.forEach((node, i) => {
    if (replaced.has(i)) return;
    // A constant whose every use was copied into bodies is dropped.
    if (copied.has(i) && !outputs.has(node.outputs[0]) && copied.get(i) === (users.get(node.outputs[0]) ?? []).length) return;
    items.push({ node, priority: i });
  });
  return { inputs: graph.inputs, nodes: topoSort(items), outputs: graph.outputs };
}

export const FUSE_ELEMENTWISE: Pass = {
  name: 'fuse-elementwise',
  doc: 'fuse chains of elementwise ops, broadcasts and a trailing reduction into fusedElementwise nodes (one generated kernel each)',
  run: fuseElementwise,
};

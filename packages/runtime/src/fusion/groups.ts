import type { Graph, Node, Shape, Value } from '@kiln/core';
import { FUSIBLE_ELEMENTWISE_OPS, FUSIBLE_REDUCTIONS, shapesEqual, sizeOf } from '@kiln/core';

/**
 * Partitioning a graph into fusion groups. A group is a set of nodes (by index) that one fused
 * kernel computes: elementwise ops and broadcasts over one iteration domain, optionally ending
 * in reductions of that whole domain. `full` constants never join a group: each group copies
 * the constants it reads into its body.
 */
export interface Group {
  readonly members: number[];
  /** The shape every member's values broadcast to, and every member reduction reads. */
  domain: Shape;
  hasReduction: boolean;
  /** Whether a member is an expensive call (exp, tanh, …), not worth repeating per broadcast copy. */
  heavy: boolean;
}

/** Ops worth computing once rather than once per element of a larger domain. */
const HEAVY = new Set(['exp', 'log', 'log1p', 'expm1', 'sin', 'cos', 'tanh', 'sigmoid', 'erf', 'pow', 'mod', 'round', 'sqrt', 'rsqrt', 'div']);

/** Whether `node` may be a member of an elementwise group (`full` is copied in, not a member). */
export function isFusible(node: Node): boolean {
  if (node.subgraphs || node.op === 'full') return false;
  return FUSIBLE_ELEMENTWISE_OPS.has(node.op) || FUSIBLE_REDUCTIONS.has(node.op);
}

/** The shape of the whole-domain computation a node contributes: a reduction reads its input's. */
function domainOf(node: Node): Shape {
  return FUSIBLE_REDUCTIONS.has(node.op) ? node.inputs[0].type.shape : node.outputs[0].type.shape;
}

/** NumPy broadcast of two shapes, or undefined when they do not broadcast. */
function broadcast(a: Shape, b: Shape): Shape | undefined {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/**
 * Groups the fusible nodes of `graph` greedily in node order: each node joins the groups of the
 * fusible nodes it reads, when (1) no member of the merged set reads a reduction's result in it,
 * (2) the domains broadcast together (to a non-empty domain, unless all were empty) and a group
 * with a reduction keeps its domain, (3) a group with expensive
 * ops is not recomputed over a larger domain, and (4) no path leaves the merged set through
 * another node or group and comes back, which would make a fused node depend on itself. Returns each node's group (undefined for nodes that are not fusible).
 *
 * @example
 * ```ts
 * const groups = partition(graph); // groups[i]: the group of node i
 * ```
 */
export function partition(graph: Graph): (Group | undefined)[] {
  const nodes = graph.nodes;
  const producer = new Map<Value, number>();
  nodes.forEach((n, i) => n.outputs.forEach((v) => producer.set(v, i)));
  const users = new Map<Value, number[]>();
  nodes.forEach((n, i) => n.inputs.forEach((v) => {
    const list = users.get(v) ?? [];
    if (list[list.length - 1] !== i) list.push(i);
    users.set(v, list);
  }));
  const groupOf: (Group | undefined)[] = new Array(nodes.length).fill(undefined);

  const createsCycle = (members: ReadonlySet<number>, last: number): boolean => {
    // From every member, walk to users outside the set (no further than the last member); a
    // walk that re-enters the set is a path through an outside node. Other groups will be one
    // node each, so reaching any of their members reaches all of them.
    const seen = new Set<number>();
    const stack: number[] = [];
    for (const m of members) {
      for (const v of nodes[m].outputs) for (const u of users.get(v) ?? []) if (!members.has(u) && u < last) stack.push(u);
    }
    while (stack.length) {
      const i = stack.pop()!;
      if (seen.has(i)) continue;
      for (const k of groupOf[i]?.members ?? [i]) {
        seen.add(k);
        for (const v of nodes[k].outputs) {
          for (const u of users.get(v) ?? []) {
            if (members.has(u)) return true;
            if (u < last && !seen.has(u)) stack.push(u);
          }
        }
      }
    }
    return false;
  };

  const readsReductionWithin = (members: ReadonlySet<number>): boolean =>
    [...members].some((m) => nodes[m].inputs.some((v) => {
      const p = producer.get(v);
      return p !== undefined && members.has(p) && FUSIBLE_REDUCTIONS.has(nodes[p].op);
    }));

  nodes.forEach((node, i) => {
    if (!isFusible(node)) return;
    let group: Group = { members: [i], domain: domainOf(node), hasReduction: FUSIBLE_REDUCTIONS.has(node.op), heavy: HEAVY.has(node.op) };
    const candidates: Group[] = [];
    for (const v of node.inputs) {
      const p = producer.get(v);
      const g = p === undefined ? undefined : groupOf[p];
      if (!g || candidates.includes(g)) continue;
      if (FUSIBLE_REDUCTIONS.has(nodes[p!].op)) continue; // (1)
      candidates.push(g);
    }
    for (const g of candidates) {
      if (node.inputs.some((v) => producer.has(v) && groupOf[producer.get(v)!] === g && FUSIBLE_REDUCTIONS.has(nodes[producer.get(v)!].op))) continue;
      const domain = broadcast(g.domain, group.domain);
      if (!domain) continue; // (2)
      // An empty domain runs no iterations, so members with values would never be computed.
      if (sizeOf(domain) === 0 && (sizeOf(g.domain) > 0 || sizeOf(group.domain) > 0)) continue;
      if (g.hasReduction && !shapesEqual(domain, g.domain)) continue;
      if (group.hasReduction && !shapesEqual(domain, group.domain)) continue;
      if ((g.heavy && sizeOf(g.domain) < sizeOf(domain)) || (group.heavy && sizeOf(group.domain) < sizeOf(domain))) continue; // (3)
      const members = new Set([...g.members, ...group.members]);
      if (readsReductionWithin(members)) continue; // (1), across the two groups
      if (createsCycle(members, i)) continue; // (4)
      const merged: Group = {
        members: [...members].sort((a, b) => a - b), domain, hasReduction: g.hasReduction || group.hasReduction, heavy: g.heavy || group.heavy,
      };
      for (const m of merged.members) groupOf[m] = merged;
      group = merged;
    }
    for (const m of group.members) groupOf[m] = group;
  });
  return groupOf;
}

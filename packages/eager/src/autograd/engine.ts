import type { TensorType } from '@kiln/core';
import { AnomalyError, ArgumentError, KilnError, ShapeError, shapeToString } from '@kiln/core';
import { rawOps } from '../dispatch.js';
import { keep, tidy } from '../memory.js';
import { profiling } from '../profile/hook.js';
import { Tensor } from '../tensor.js';
import { checkFinite } from './anomaly.js';
import { enableGrad, isAnomalyDetectionEnabled, noGrad } from './mode.js';
import type { Edge, GradNode, SavedValue } from './node.js';

export interface BackwardOptions {
  /** Keep the tape after this backward so another backward can run through it (default: createGraph). */
  retainGraph?: boolean;
  /** Record the gradient computation itself, for gradients of gradients (default false). */
  createGraph?: boolean;
}

const typeOf = (t: Tensor): TensorType => t;

/** Nodes reachable from `root`, ordered so every node comes after the nodes that feed it. */
function topoOrder(root: GradNode): GradNode[] {
  const order: GradNode[] = [];
  const seen = new Set<GradNode>([root]);
  const stack: [GradNode, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const parents = top[0].parents;
    if (top[1] < parents.length) {
      const p = parents[top[1]++];
      if (p && 'node' in p && !seen.has(p.node)) {
        seen.add(p.node);
        stack.push([p.node, 0]);
      }
    } else {
      stack.pop();
      order.push(top[0]);
    }
  }
  return order;
}

function checkRoot(root: Tensor, where: string): void {
  if (root.requiresGrad) return;
  const why = root.gradBlockedBy
    ? ` It was computed through ${root.gradBlockedBy}: gradients cannot flow through it.`
    : ' None of the tensors it was computed from requires grad: set requiresGrad = true on the leaves (parameters) you want gradients for, before computing it.';
  throw new ArgumentError(`${where}: the tensor (${root.dtype}${shapeToString(root.shape)}) does not require grad.${why}`);
}

function seedGradient(root: Tensor, gradient: Tensor | undefined, where: string): Tensor {
  if (gradient === undefined) {
    if (root.size !== 1) {
      throw new ArgumentError(`${where}: a gradient can be implied only for a tensor with one element, but this one has shape ${shapeToString(root.shape)}; pass a gradient of that shape (backward(gradient)), or reduce it first (e.g. loss.mean())`);
    }
    return rawOps.onesLike(root);
  }
  if (gradient.shape.length !== root.shape.length || gradient.shape.some((d, i) => d !== root.shape[i])) {
    throw new ShapeError(`${where}: the gradient has shape ${shapeToString(gradient.shape)} but the tensor has shape ${shapeToString(root.shape)}; they must match`);
  }
  return rawOps.add(rawOps.cast(gradient, root.dtype), 0); // a fresh tensor: the caller keeps theirs
}

/**
 * A Tensor for a saved value, attached to the graph where it came from (so that, with
 * createGraph, gradients of the gradient flow back through it). Leaves are used as they are.
 */
function materialize(saved: SavedValue, edge: Edge | { self: GradNode; index: number }): Tensor {
  if (edge && 'leaf' in edge && !edge.leaf.isDisposed) return edge.leaf;
  const t = new Tensor(saved.shape, saved.dtype, saved.buffer?.retain());
  t.payload = saved.payload;
  if (edge && 'node' in edge) t.attachGradNode(edge.node, edge.index);
  else if (edge && 'self' in edge) t.attachGradNode(edge.self, edge.index);
  return t;
}

interface SweepResult {
  /** Cotangents of leaf tensors that require grad. */
  leaves: Map<Tensor, Tensor>;
  /** Cotangents of node outputs, by node. */
  nodes: Map<GradNode, (Tensor | null)[]>;
}

/**
 * Reverse-mode sweep from `root`, seeded with `seed`. Only nodes that lead to `targets` run
 * when targets are given. Gradient rules run through the op surface, so under enableGrad they
 * are recorded too (createGraph).
 */
function sweep(root: Tensor, seed: Tensor, retainGraph: boolean, where: string, targets?: readonly Tensor[]): SweepResult {
  const leaves = new Map<Tensor, Tensor>();
  const nodes = new Map<GradNode, (Tensor | null)[]>();
  const add = (map: Map<Tensor, Tensor>, key: Tensor, g: Tensor) => {
    const prev = map.get(key);
    map.set(key, prev ? rawOps.add(prev, g) : g);
  };
  if (!root.gradNode) {
    leaves.set(root, seed);
    return { leaves, nodes };
  }
  const order = topoOrder(root.gradNode);
  // Hold every node until the sweep ends: releasing a processed node lets go of its parents, and
  // a parent whose tensors were already disposed (a tidy around the forward pass) would be freed
  // before the sweep reaches it.
  for (const node of order) node.incref();
  try {
    const run = () => sweepNodes(root.gradNode!, root.outputIndex, seed, retainGraph, where, order, leaves, nodes, add, targets);
    return profiling.active === null ? run() : profiling.active.backward(undefined, run);
  } finally {
    for (const node of order) node.decref();
  }
}

function sweepNodes(
  rootNode: GradNode,
  rootIndex: number,
  seed: Tensor,
  retainGraph: boolean,
  where: string,
  order: GradNode[],
  leaves: Map<Tensor, Tensor>,
  nodes: Map<GradNode, (Tensor | null)[]>,
  add: (map: Map<Tensor, Tensor>, key: Tensor, g: Tensor) => void,
  targets?: readonly Tensor[],
): SweepResult {
  let relevant: Set<GradNode> | undefined;
  if (targets) {
    const leafTargets = new Set(targets.filter((t) => !t.gradNode));
    const nodeTargets = new Set(targets.flatMap((t) => (t.gradNode ? [t.gradNode] : [])));
    relevant = new Set();
    for (const node of order) {
      const leads = node.parents.some((p) => p && ('leaf' in p ? leafTargets.has(p.leaf) : nodeTargets.has(p.node) || relevant!.has(p.node)));
      if (leads) relevant.add(node);
    }
  }
  const seedRow: (Tensor | null)[] = rootNode.outputs.map(() => null);
  seedRow[rootIndex] = seed;
  nodes.set(rootNode, seedRow);
  const anomaly = isAnomalyDetectionEnabled();
  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k];
    const cotangents = nodes.get(node);
    if (!cotangents || cotangents.every((c) => c === null)) continue;
    for (const [i, t] of node.retainers) if (cotangents[i]) add(leaves, t, cotangents[i]!);
    if (relevant && !relevant.has(node)) continue;
    if (node.freed) {
      throw new ArgumentError(`${where}: the graph through '${node.op.name}' was already freed by an earlier backward(). Pass { retainGraph: true } to the first backward() if you need to run backward through it again.`);
    }
    const vjp = node.op.vjp;
    if (!vjp) throw new KilnError(`${where}: op '${node.op.name}' has no gradient rule yet`);
    const parents = node.parents;
    const needsGrad = parents.map((p) => p !== null && (!relevant || 'leaf' in p || relevant.has(p.node) || targets!.some((t) => t.gradNode === p.node)));
    const inputs = node.inputs.map((v, i) => materialize(v, parents[i]));
    const outputs = node.outputs.map((v, i) => materialize(v, { self: node, index: i }));
    let grads: (Tensor | null)[];
    try {
      const args = { inputs, outputs, attrs: node.attrs, cotangents, needsGrad, typeOf };
      grads = profiling.active === null ? vjp(rawOps, args) : profiling.active.backward(node.op.name, () => vjp(rawOps, args));
    } catch (e) {
      if (e instanceof AnomalyError) throw new AnomalyError(`${where}: in the gradient of '${node.op.name}': ${e.message}`);
      throw e;
    }
    parents.forEach((p, i) => {
      const g = grads[i];
      if (!p || !needsGrad[i] || !g) return;
      const input = node.inputs[i];
      if (g.shape.length !== input.shape.length || g.shape.some((d, j) => d !== input.shape[j])) {
        throw new KilnError(`${where}: the gradient rule of '${node.op.name}' returned shape ${shapeToString(g.shape)} for input ${i} of shape ${shapeToString(input.shape)} (a bug in the rule)`);
      }
      const gi = g.dtype === input.dtype ? g : rawOps.cast(g, input.dtype);
      if (anomaly) checkFinite(gi, `the gradient of '${node.op.name}' for its input '${node.op.inputs[i] ?? i}'`);
      if ('leaf' in p) {
        add(leaves, p.leaf, gi);
      } else {
        let row = nodes.get(p.node);
        if (!row) nodes.set(p.node, (row = p.node.outputs.map(() => null)));
        row[p.index] = row[p.index] ? rawOps.add(row[p.index]!, gi) : gi;
      }
    });
    for (const t of [...inputs, ...outputs]) if (!t.isLeaf || !parents.some((p) => p && 'leaf' in p && p.leaf === t)) t.dispose();
    if (!retainGraph) node.release();
  }
  return { leaves, nodes };
}

/** Returns its argument the first time, a copy after: one tensor object must not become two results. */
function distinct(): (g: Tensor) => Tensor {
  const seen = new Set<Tensor>();
  return (g) => {
    if (!seen.has(g)) {
      seen.add(g);
      return g;
    }
    return rawOps.add(g, 0);
  };
}

/** `tensor.backward()`: accumulates d(root)/d(leaf) into the `.grad` of every leaf that requires grad. */
export function backward(root: Tensor, gradient: Tensor | undefined, options: BackwardOptions = {}): void {
  const where = 'backward';
  checkRoot(root, where);
  const createGraph = options.createGraph ?? false;
  const run = () => {
    const seed = seedGradient(root, gradient, where);
    const { leaves } = sweep(root, seed, options.retainGraph ?? createGraph, where);
    const fresh = distinct();
    for (const [t, g] of leaves) {
      if (t.isDisposed) continue;
      const old = t.grad;
      t.grad = keep(old ? rawOps.add(old, g) : fresh(g));
      old?.dispose();
    }
  };
  // The sweep's temporaries are freed at once; what a recorded gradient graph (createGraph)
  // needs, its nodes hold themselves.
  if (createGraph) enableGrad(() => tidy(run));
  else noGrad(() => tidy(run));
}

/**
 * d(root)/d(target) for each target, without touching any `.grad`. Used by `grad` and
 * `valueAndGrad`. Targets the root does not depend on get zeros.
 */
export function gradients(root: Tensor, targets: readonly Tensor[], options: { createGraph: boolean; where: string }): Tensor[] {
  const { where, createGraph } = options;
  checkRoot(root, where);
  const run = () => {
    const seed = seedGradient(root, undefined, where);
    const { leaves, nodes } = sweep(root, seed, true, where, targets);
    const fresh = distinct();
    return targets.map((t) => fresh((t.gradNode ? nodes.get(t.gradNode)?.[t.outputIndex] : leaves.get(t)) ?? (t === root ? seed : rawOps.zerosLike(t))));
  };
  return createGraph ? enableGrad(() => tidy(run)) : noGrad(() => tidy(run));
}

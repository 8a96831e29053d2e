import type { Graph, Node, ScanAttrs, Value, VjpRule, WhileLoopAttrs } from '@kiln/core';
import { getOp, isControlOp, isFloating } from '@kiln/core';
import { gradients } from '../autograd/engine.js';
import { enableGrad } from '../autograd/mode.js';
import { dispatcher, rawOps } from '../dispatch.js';
import { Tensor } from '../tensor.js';
import { condFlat, scanFlat, whileFlat } from './flat.js';
import type { ControlFlowNode, FlatFn } from './hook.js';

// Gradients of traced control flow, built from the recorded sub-graphs (so they hold for
// whatever the user's functions read from their closures: those reads are explicit inputs).
//
// - cond: the backward is a cond over the branches' backward functions.
// - scan: a scan recomputes the carry entering each step, then a scan in the other direction
//   runs each step's backward, carrying the gradient of the carry and summing the constants'.
//
// A step's backward re-evaluates its sub-graph on fresh leaves and differentiates it; the
// backward graphs are themselves cond/scan nodes with rules, so gradients of gradients work.

/**
 * Runs a graph's ops on tensors through the dispatcher (so the current interpreter records
 * them and autograd sees them). Only the nodes that `wanted` outputs (default: all) need run.
 *
 * @example
 * ```ts
 * const [y] = evalGraph(compiled.graph(x), [x, ...capturedTensors]); // eagerly, recorded by autograd
 * ```
 */
export function evalGraph(graph: Graph, inputs: readonly Tensor[], wanted?: readonly number[]): Tensor[] {
  const outputs = wanted ?? graph.outputs.map((_, i) => i);
  const needed = neededNodes(graph, outputs.map((k) => graph.outputs[k]));
  const env = new Map<Value, Tensor>();
  graph.inputs.forEach((v, i) => env.set(v, inputs[i]));
  for (const node of graph.nodes) {
    if (!needed.has(node)) continue;
    const args = node.inputs.map((v) => env.get(v)!);
    const outs = isControlOp(node.op) ? evalControlNode(node, args) : dispatcher.bind(getOp(node.op), args, node.attrs);
    node.outputs.forEach((v, i) => env.set(v, outs[i]));
  }
  return outputs.map((k) => env.get(graph.outputs[k])!);
}

function neededNodes(graph: Graph, roots: readonly Value[]): Set<Node> {
  const live = new Set<Value>(roots);
  const needed = new Set<Node>();
  for (let n = graph.nodes.length - 1; n >= 0; n--) {
    const node = graph.nodes[n];
    if (!node.outputs.some((v) => live.has(v))) continue;
    needed.add(node);
    for (const v of node.inputs) live.add(v);
  }
  return needed;
}

/** A control-flow node of a sub-graph, run again through the control-flow functions. */
function evalControlNode(node: Node, args: readonly Tensor[]): Tensor[] {
  const bodies = node.subgraphs ?? [];
  const run = (g: Graph, before: readonly Tensor[]): FlatFn => (xs) => evalGraph(g, [...before, ...xs]);
  if (node.op === 'cond') return condFlat(args[0], [run(bodies[0], []), run(bodies[1], [])], args.slice(1));
  if (node.op === 'whileLoop') {
    const { condConsts, bodyConsts } = node.attrs as WhileLoopAttrs;
    const consts = [args.slice(0, condConsts), args.slice(condConsts, condConsts + bodyConsts)];
    return whileFlat([run(bodies[0], consts[0]), run(bodies[1], consts[1])], args.slice(condConsts + bodyConsts));
  }
  const { numConsts, numCarry, length, reverse } = node.attrs as ScanAttrs;
  const rest = args.slice(numConsts);
  return scanFlat(run(bodies[0], []), rest.slice(0, numCarry), rest.slice(numCarry), length, reverse, args.slice(0, numConsts));
}

/** A new leaf standing for `t` (same data or traced value) that requires grad. */
function freshLeaf(t: Tensor): Tensor {
  const leaf = new Tensor(t.shape, t.dtype, t.isConcrete ? t.shareStorage() : undefined);
  leaf.payload = t.payload;
  return leaf.requireGrad();
}

/**
 * The vector-Jacobian product of a graph: the gradients of `Σ_j ⟨outputs[outIdx[j]], cts[j]⟩`
 * with respect to the inputs marked in `wrt` (in order), at `inputs`.
 */
export function graphVjp(graph: Graph, inputs: readonly Tensor[], wrt: readonly boolean[], outIdx: readonly number[], cts: readonly Tensor[]): Tensor[] {
  return enableGrad(() => {
    const leaves = inputs.map((t, i) => (wrt[i] ? freshLeaf(t) : t));
    const targets = leaves.filter((_, i) => wrt[i]);
    const outs = evalGraph(graph, leaves, outIdx);
    let root: Tensor | undefined;
    outs.forEach((o, j) => {
      if (!o.requiresGrad) return;
      const term = rawOps.sum(rawOps.mul(o, cts[j]));
      root = root ? rawOps.add(root, term) : term;
    });
    if (!root) return targets.map((t) => rawOps.zerosLike(t));
    return gradients(root, targets, { createGraph: false, where: 'the gradient of a control-flow body' });
  });
}

const floating = (t: Tensor) => isFloating(t.dtype);
const indicesWhere = (flags: readonly boolean[]) => flags.flatMap((f, i) => (f ? [i] : []));

/** The gradient rule of one traced cond node: a cond over the branches' backward functions. */
export function condVjp(node: ControlFlowNode): VjpRule {
  const [thenGraph, elseGraph] = node.subgraphs;
  const rule = (_ops: unknown, { inputs, outputs, cotangents, needsGrad }: { inputs: readonly Tensor[]; outputs: readonly Tensor[]; cotangents: readonly (Tensor | null)[]; needsGrad: readonly boolean[] }) => {
    const [pred, ...args] = inputs;
    const wrt = args.map((a, i) => needsGrad[i + 1] && floating(a));
    const outIdx = indicesWhere(outputs.map(floating));
    const cts = outIdx.map((k) => cotangents[k] ?? rawOps.zerosLike(outputs[k]));
    const backward = (g: Graph): FlatFn => (flat) => graphVjp(g, flat.slice(0, args.length), wrt, outIdx, flat.slice(args.length));
    const grads = condFlat(pred, [backward(thenGraph), backward(elseGraph)], [...args, ...cts]);
    let next = 0;
    return [null, ...wrt.map((w) => (w ? grads[next++] : null))];
  };
  return rule as unknown as VjpRule;
}

/**
 * The gradient rule of one traced scan node. A first scan recomputes the carry entering every
 * step (stacked); a second scan, in the other direction, runs each step's backward on that
 * step's carry, slice and output cotangents, carrying the carry's cotangent and the sum of the
 * constants' gradients, and stacking the slices' gradients.
 */
export function scanVjp(node: ControlFlowNode): VjpRule {
  const [body] = node.subgraphs;
  const { numConsts: nk, numCarry: nc, length, reverse } = node.attrs as ScanAttrs;
  const rule = (_ops: unknown, { inputs, outputs, cotangents, needsGrad }: { inputs: readonly Tensor[]; outputs: readonly Tensor[]; cotangents: readonly (Tensor | null)[]; needsGrad: readonly boolean[] }) => {
    const consts = inputs.slice(0, nk);
    const carry = inputs.slice(nk, nk + nc);
    const xs = inputs.slice(nk + nc);
    const nx = xs.length;
    const wantK = consts.map((k, i) => needsGrad[i] && floating(k));
    const floatCarry = carry.map(floating);
    const wantX = xs.map((x, i) => needsGrad[nk + nc + i] && floating(x));
    const kIdx = indicesWhere(wantK);
    const cIdx = indicesWhere(floatCarry);
    const yIdx = indicesWhere(outputs.slice(nc).map(floating));
    const cotangent = (k: number) => cotangents[k] ?? rawOps.zerosLike(outputs[k]);

    // The carry entering each step, stacked: ys of a scan that also returns its input carry.
    const carryIdx = carry.map((_, i) => i);
    // Constants are passed as the steps' first arguments, so a step differentiates values of its own graph.
    const history = nc === 0 ? [] : scanFlat((a) => [...evalGraph(body, a, carryIdx), ...a.slice(nk, nk + nc)], carry, xs, length, reverse, consts).slice(nc);

    const nAcc = kIdx.length;
    const nGc = cIdx.length;
    const wrt = [...wantK, ...floatCarry, ...wantX];
    const outIdx = [...cIdx, ...yIdx.map((j) => nc + j)];
    const step: FlatFn = (all) => {
      const k = all.slice(0, nk);
      const a = all.slice(nk);
      const acc = a.slice(0, nAcc);
      const gCarry = a.slice(nAcc, nAcc + nGc);
      let p = nAcc + nGc;
      const carryIn = a.slice(p, (p += nc));
      const slice = a.slice(p, (p += nx));
      const gY = a.slice(p);
      const g = graphVjp(body, [...k, ...carryIn, ...slice], wrt, outIdx, [...gCarry, ...gY]);
      return [...acc.map((s, i) => rawOps.add(s, g[i])), ...g.slice(nAcc)];
    };
    const init = [...kIdx.map((i) => rawOps.zerosLike(consts[i])), ...cIdx.map(cotangent)];
    const res = scanFlat(step, init, [...history, ...xs, ...yIdx.map((j) => cotangent(nc + j))], length, !reverse, consts);
    const gK = res.slice(0, nAcc);
    const gC = res.slice(nAcc, nAcc + nGc);
    const gX = res.slice(nAcc + nGc);
    const grads: (Tensor | null)[] = inputs.map(() => null);
    kIdx.forEach((i, j) => (grads[i] = gK[j]));
    cIdx.forEach((i, j) => (grads[nk + i] = needsGrad[nk + i] ? gC[j] : null));
    indicesWhere(wantX).forEach((i, j) => (grads[nk + nc + i] = gX[j]));
    return grads;
  };
  return rule as unknown as VjpRule;
}

import type { Graph, Node, ScanAttrs, Value, VjpRule, WhileLoopAttrs } from '@kiln/core';
import { getOp, isControlOp, isFloating, KilnError } from '@kiln/core';
import { gradients } from '../autograd/engine.js';
import { enableGrad } from '../autograd/mode.js';
import { record } from '../autograd/record.js';
import { dispatcher, rawOps } from '../dispatch.js';
import { Tensor } from '../tensor.js';
import { condFlat, scanFlat, whileFlat } from './flat.js';
import type { ControlFlowNode, FlatFn } from './hook.js';
import { placeholder, scanResiduals } from './residuals.js';

// Gradients of traced control flow, built from the recorded sub-graphs (so they hold for
// whatever the user's functions read from their closures: those reads are explicit inputs).
//
// - cond: the backward is a cond over the branches' backward functions.
// - scan: the forward node keeps each step's carry and intermediate values (its residuals);
//   a scan in the other direction runs each step's backward on them, carrying the gradient of
//   the carry and summing the constants'.
//
// A backward function re-evaluates its sub-graph on fresh leaves — replaying kept values
// instead of recomputing them — and differentiates it; the backward graphs are themselves
// cond/scan nodes with rules, so gradients of gradients work.

/**
 * Runs a graph's ops on tensors through the dispatcher (so the current interpreter records
 * them and autograd sees them). Only the nodes that `wanted` outputs (default: all) need run.
 *
 * @example
 * ```ts
 * const [y] = evalGraph(compiled.graph(x), [x, ...capturedTensors]); // eagerly, recorded by autograd
 * ```
 */
export function evalGraph(graph: Graph, inputs: readonly Tensor[], wanted?: readonly number[], replay?: Replay): Tensor[] {
  const outputs = wanted ?? graph.outputs.map((_, i) => i);
  const needed = neededNodes(graph, outputs.map((k) => graph.outputs[k]));
  const env = new Map<Value, Tensor>();
  graph.inputs.forEach((v, i) => env.set(v, inputs[i]));
  for (const node of graph.nodes) {
    if (!needed.has(node)) continue;
    const args = node.inputs.map((v) => env.get(v)!);
    let outs: Tensor[];
    if (isControlOp(node.op)) outs = evalControlNode(node, args);
    else if (replay && node.outputs.every((v) => replay.values.has(v))) {
      // Replayed: kept values (or placeholders nothing reads) stand for the outputs, and
      // autograd records the op on them.
      outs = node.outputs.map((v) => (replay.kept.has(v) ? alias(replay.kept.get(v)!) : placeholder(v.type)));
      record(getOp(node.op), args, outs, node.attrs);
    } else outs = dispatcher.bind(getOp(node.op), args, node.attrs);
    node.outputs.forEach((v, i) => env.set(v, outs[i]));
  }
  return outputs.map((k) => env.get(graph.outputs[k])!);
}

/** Values a backward replays instead of recomputing: `kept` ones have tensors, the rest are not read. */
export interface Replay {
  readonly values: ReadonlySet<Value>;
  readonly kept: ReadonlyMap<Value, Tensor>;
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

/** A new tensor standing for `t` (same data or traced value), with no autograd history. */
function alias(t: Tensor): Tensor {
  const a = new Tensor(t.shape, t.dtype, t.isConcrete ? t.shareStorage() : undefined);
  a.payload = t.payload;
  return a;
}

/** A new leaf standing for `t` that requires grad. */
const freshLeaf = (t: Tensor): Tensor => alias(t).requireGrad();

/**
 * The vector-Jacobian product of a graph: the gradients of `Σ_j ⟨outputs[outIdx[j]], cts[j]⟩`
 * with respect to the inputs marked in `wrt` (in order), at `inputs`; `replay` values are
 * replayed rather than recomputed.
 */
export function graphVjp(graph: Graph, inputs: readonly Tensor[], wrt: readonly boolean[], outIdx: readonly number[], cts: readonly Tensor[], replay?: Replay): Tensor[] {
  return enableGrad(() => {
    const leaves = inputs.map((t, i) => (wrt[i] ? freshLeaf(t) : t));
    const targets = leaves.filter((_, i) => wrt[i]);
    const outs = evalGraph(graph, leaves, outIdx, replay);
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
 * The gradient rule of one traced scan node. The carry entering every step and the step's
 * intermediate values are the node's residual outputs (stacked; without them, a first scan
 * recomputes the carries); a scan in the other direction runs each step's backward on them,
 * the slice and the output cotangents, carrying the carry's cotangent and the sum of the
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
    const residuals = node.residuals ?? 0;
    const yIdx = indicesWhere(outputs.slice(nc, outputs.length - residuals).map(floating));
    const cotangent = (k: number) => cotangents[k] ?? rawOps.zerosLike(outputs[k]);

    // The carry entering each step (then the kept intermediates), stacked: the forward node's
    // residuals, or recomputed by a scan that also returns its input carry. Constants are passed
    // as the steps' first arguments, so a step differentiates values of its own graph.
    const ny = outputs.length - nc - residuals;
    const plan = residuals ? scanResiduals(body, nk, nc, ny) : { kept: [], replayed: new Set<Value>() };
    const kept = plan.kept;
    if (kept.length !== residuals) throw new KilnError(`scan: internal: the node keeps ${residuals} residuals, the gradient expects ${kept.length}`);
    const carryIdx = carry.map((_, i) => i);
    const history = residuals
      ? outputs.slice(outputs.length - residuals)
      : nc === 0 ? [] : scanFlat((a) => [...evalGraph(body, a, carryIdx), ...a.slice(nk, nk + nc)], carry, xs, length, reverse, consts).slice(nc);
    const nh = history.length;
    // The ys the backward replays come from the node's own stacked ys.
    const yValues = body.outputs.slice(nc, nc + ny);
    const yReplayed = indicesWhere(yValues.map((v, j) => plan.replayed.has(v) && yValues.indexOf(v) === j));

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
      const carryIn = a.slice(p, p + nc);
      const intermediates = a.slice(p + nc, (p += nh));
      const ySlices = a.slice(p, (p += yReplayed.length));
      const slice = a.slice(p, (p += nx));
      const gY = a.slice(p);
      const keptValues = new Map(kept.slice(nc).map((v, j) => [v, intermediates[j]]));
      yReplayed.forEach((j, r) => keptValues.set(yValues[j], ySlices[r]));
      const replay: Replay = { values: plan.replayed, kept: keptValues };
      const g = graphVjp(body, [...k, ...carryIn, ...slice], wrt, outIdx, [...gCarry, ...gY], replay);
      return [...acc.map((s, i) => rawOps.add(s, g[i])), ...g.slice(nAcc)];
    };
    const init = [...kIdx.map((i) => rawOps.zerosLike(consts[i])), ...cIdx.map(cotangent)];
    const res = scanFlat(step, init, [...history, ...yReplayed.map((j) => outputs[nc + j]), ...xs, ...yIdx.map((j) => cotangent(nc + j))], length, !reverse, consts);
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

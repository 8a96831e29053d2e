import type { Graph, Node, TensorType, Value } from '@kiln/core';
import { createOps, getOp, GraphBuilder, isControlOp, isFloating, KilnError } from '@kiln/core';
import type { SymbolicPayload } from '../tensor.js';
import { Tensor } from '../tensor.js';

/**
 * What a scan keeps for its gradient, as values of its body: `kept` — the carry entering the
 * step, then the results of ops that depend on the step (on its carry or slice) and that a
 * gradient rule or the backward reads, except the ys (the node returns those anyway);
 * `replayed` — every result of those ops, which the backward replays (kept values and ys as
 * they were, the others as placeholders nothing reads) instead of recomputing.
 */
export interface ScanResiduals {
  readonly kept: readonly Value[];
  readonly replayed: ReadonlySet<Value>;
}

/**
 * Finds a scan body's residuals. Which inputs and outputs each op's gradient rule reads is
 * found by running the rule over placeholders (a rule that cannot be run so counts as reading
 * everything). The carry results, and the inputs of what the backward recomputes — nested
 * control flow, and shape ops (cheaper to redo than to keep) whose result is read — count as
 * read; values that depend only on constants are recomputed too.
 *
 * @example
 * ```ts
 * scanResiduals(body, 1, 1, 0).kept; // [%carry0, %tanhOut] for a body (k, carry, x) → tanh(carry·k + x)
 * ```
 */
export function scanResiduals(body: Graph, numConsts: number, numCarry: number, numYs: number): ScanResiduals {
  const params = body.inputs.slice(numConsts);
  const varying = new Set<Value>(params);
  const steps = body.nodes.filter((node) => {
    if (!node.inputs.some((v) => varying.has(v))) return false;
    node.outputs.forEach((v) => varying.add(v));
    return true;
  });
  const ys = new Set(body.outputs.slice(numCarry, numCarry + numYs));
  const read = new Set<Value>(body.outputs.slice(0, numCarry));
  const replayed = new Set<Value>();
  // Backwards, so that whether a value is read is known before its producer is visited.
  for (let n = steps.length - 1; n >= 0; n--) {
    const node = steps[n];
    const recompute = isControlOp(node.op) || (RECOMPUTED.has(node.op) && node.outputs.some((v) => read.has(v) && !ys.has(v)));
    if (recompute) {
      node.inputs.forEach((v) => read.add(v));
      continue;
    }
    const reads = ruleReads(node);
    node.inputs.forEach((v, i) => reads.inputs[i] && read.add(v));
    node.outputs.forEach((v, i) => reads.outputs[i] && read.add(v));
    node.outputs.forEach((v) => replayed.add(v));
  }
  const produced = steps.flatMap((node) => node.outputs.filter((v) => replayed.has(v) && read.has(v) && !ys.has(v)));
  return { kept: [...params.slice(0, numCarry), ...produced], replayed };
}

/** Which of a node's inputs and outputs its op's gradient rule reads. */
function ruleReads(node: Node): { inputs: boolean[]; outputs: boolean[] } {
  const op = getOp(node.op);
  const none = { inputs: node.inputs.map(() => false), outputs: node.outputs.map(() => false) };
  if (op.kind !== 'primitive' || !op.differentiable || !op.vjp || !node.outputs.some((v) => isFloating(v.type.dtype))) return none;
  const b = new GraphBuilder();
  const ins = node.inputs.map((v) => b.input(v.type));
  const outs = node.outputs.map((v) => b.input(v.type));
  const cotangents = node.outputs.map((v) => (isFloating(v.type.dtype) ? b.input(v.type) : null));
  let grads: (Value | null)[];
  try {
    grads = op.vjp(createOps(b), { inputs: ins, outputs: outs, attrs: node.attrs, cotangents, needsGrad: ins.map(() => true), typeOf: (v: Value) => v.type });
  } catch {
    return { inputs: node.inputs.map(() => true), outputs: node.outputs.map(() => true) };
  }
  const g = b.build(grads.filter((x): x is Value => x !== null));
  const used = new Set<Value>([...g.outputs, ...g.nodes.flatMap((n) => n.inputs)]);
  return { inputs: ins.map((v) => used.has(v)), outputs: outs.map((v) => used.has(v)) };
}

const RECOMPUTED: ReadonlySet<string> = new Set(['reshape', 'permute', 'broadcastTo']);

const UNREAD: SymbolicPayload = {
  readError: (where) =>
    new KilnError(`${where}: internal: the gradient of a scan read a value the scan does not keep (its gradient rules read more than the residual analysis found)`),
};

/** A tensor standing for a replayed value nothing reads: reading it is an internal error. */
export function placeholder(type: TensorType): Tensor {
  const t = new Tensor(type.shape, type.dtype, undefined);
  t.payload = UNREAD;
  return t;
}

import type { PrimitiveDef } from '@kiln/core';
import { ArgumentError, checkPredicate, COND, SCAN, WHILE_LOOP } from '@kiln/core';
import { isGradEnabled, noGrad } from '../autograd/mode.js';
import { record } from '../autograd/record.js';
import { currentInterpreter, rawOps } from '../dispatch.js';
import { ops } from '../ops.js';
import type { Tensor } from '../tensor.js';
import { condVjp, scanVjp } from './grad.js';
import type { ControlFlowCall, ControlFlowNode, FlatFn } from './hook.js';
import { LoopScope } from './loop_scope.js';

// The control-flow constructs over flat lists of tensors. Under an interpreter that traces
// control flow (the tracer) each becomes one node with sub-graphs, recorded for autograd with a
// structural gradient rule; otherwise the functions run now, as JavaScript, and autograd records
// whatever ops they run.

/** The op as the tape stores it (its attrs type erased). */
const asDef = (op: unknown) => op as PrimitiveDef;

const WHILE_NO_GRADIENT =
  'whileLoop is not differentiable in reverse mode: its number of steps is known only when it runs, so the values of every step cannot be kept for backward. ' +
  'Use scan with a fixed number of steps (with cond inside to stop updating early), or cut the gradient with detach() or noGrad().';

/** whileLoop's gradient rule: there is none, and reaching it says why. */
const WHILE_BLOCKED: PrimitiveDef = {
  ...asDef(WHILE_LOOP),
  differentiable: true,
  vjp: () => {
    throw new ArgumentError(`backward: ${WHILE_NO_GRADIENT}`);
  },
};

/** Offers the call to the current interpreter; undefined when it runs control flow eagerly. */
function traced(call: ControlFlowCall): ControlFlowNode | undefined {
  const interpreter = currentInterpreter();
  if (!interpreter.controlFlow) return undefined;
  // Tracing the functions must not record them on the tape: the node is recorded instead.
  return noGrad(() => interpreter.controlFlow!(call));
}

/** Reads a predicate eagerly: a bool scalar. */
export function readPredicate(op: string, what: string, pred: Tensor): boolean {
  checkPredicate(op, what, pred);
  return pred.item() as boolean;
}

/** `cond` over flat operands: `fns[0](operands)` if pred, else `fns[1](operands)`. */
export function condFlat(pred: Tensor, fns: readonly [FlatFn, FlatFn], operands: readonly Tensor[]): Tensor[] {
  const node = traced({ kind: 'cond', fns, operands: [pred, ...operands] });
  if (node) {
    record({ ...asDef(COND), vjp: condVjp(node) }, node.inputs, node.outputs, node.attrs);
    return [...node.outputs];
  }
  return (readPredicate('cond', 'the predicate', pred) ? fns[0] : fns[1])(operands);
}

/** `whileLoop` over a flat carry: `carry = fns[1](carry)` while `fns[0](carry)[0]`. */
export function whileFlat(fns: readonly [FlatFn, FlatFn], carry: readonly Tensor[]): Tensor[] {
  const node = traced({ kind: 'whileLoop', fns, operands: carry });
  if (node) {
    record(WHILE_BLOCKED, node.inputs, node.outputs, node.attrs);
    return [...node.outputs];
  }
  const scope = new LoopScope();
  let cur = [...carry];
  for (;;) {
    const [p] = scope.step(() => fns[0](cur));
    const go = readPredicate('whileLoop', "the cond function's result", p);
    scope.release([p], new Set(cur));
    if (!go) break;
    const next = scope.step(() => fns[1](cur));
    scope.release(cur, new Set(next));
    cur = next;
  }
  if (!isGradEnabled() || !cur.some((t) => t.requiresGrad)) return cur;
  // Results that would carry a gradient get one that fails, naming whileLoop (as compiled code does).
  const outs = cur.map((t) => t.detach());
  record(WHILE_BLOCKED, cur, outs, {});
  scope.release(cur, new Set());
  return outs;
}

/**
 * `scan` over flat lists: `fn([...consts, ...carry, ...slices])` returns `[...carry, ...ys]` for
 * each of `length` slices of the xs along axis 0 (from the last one when `reverse`); returns the
 * final carry and the ys stacked along a new axis 0, in the slices' order.
 */
export function scanFlat(fn: FlatFn, carry: readonly Tensor[], xs: readonly Tensor[], length: number, reverse: boolean, consts: readonly Tensor[] = []): Tensor[] {
  const numCarry = carry.length;
  const node = traced({ kind: 'scan', fns: [fn], operands: [...carry, ...xs], numCarry, length, reverse, consts });
  if (node) {
    record({ ...asDef(SCAN), vjp: scanVjp(node) }, node.inputs, node.outputs, node.attrs);
    return [...node.outputs];
  }
  if (length === 0) {
    throw new ArgumentError('scan: a scan of length 0 cannot run eagerly: the shapes of its ys are known only from a step. Skip it, or run it in a compiled function (which traces the step once).');
  }
  const scope = new LoopScope();
  let cur = [...carry];
  const steps: Tensor[][] = new Array<Tensor[]>(length);
  const pending = new Set<Tensor>();
  for (let t = 0; t < length; t++) {
    const i = reverse ? length - 1 - t : t;
    const out = scope.step(() => fn([...consts, ...cur, ...xs.map((x) => rawOps.slice(x, [i]))]));
    const next = out.slice(0, numCarry);
    steps[i] = out.slice(numCarry);
    for (const y of steps[i]) pending.add(y);
    scope.release(cur, new Set([...next, ...pending]));
    cur = next;
  }
  const ys = steps[0].map((_, j) => ops.stack(steps.map((s) => s[j]), 0));
  scope.release(pending, new Set(cur));
  return [...cur, ...ys];
}

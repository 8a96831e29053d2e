import type { Graph, PrimitiveDef } from '@kiln/core';
import { ArgumentError, checkPredicate, COND, SCAN, WHILE_LOOP } from '@kiln/core';
import { isGradEnabled } from '../autograd/mode.js';
import { record } from '../autograd/record.js';
import { currentInterpreter, eagerInterpreter, rawOps, withInterpreter } from '../dispatch.js';
import { ops } from '../ops.js';
import type { Tensor } from '../tensor.js';
import { condVjp, scanVjp } from './grad.js';
import { scanResiduals } from './residuals.js';
import type { ControlFlowCall, ControlFlowResult, FlatFn } from './hook.js';
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

/** What the current interpreter makes of the call: a node, outputs it ran, or undefined (run it here, eagerly). */
function offer(call: ControlFlowCall): ControlFlowResult | undefined {
  return currentInterpreter().controlFlow?.(call);
}

/** Reads a predicate eagerly: a bool scalar. */
export function readPredicate(op: string, what: string, pred: Tensor): boolean {
  checkPredicate(op, what, pred);
  return pred.item() as boolean;
}

/** `cond` over flat operands: `fns[0](operands)` if pred, else `fns[1](operands)`. */
export function condFlat(pred: Tensor, fns: readonly [FlatFn, FlatFn], operands: readonly Tensor[]): Tensor[] {
  const r = offer({ kind: 'cond', fns, operands: [pred, ...operands] });
  if (r && 'ranEagerly' in r) return [...r.outputs];
  if (r) {
    record({ ...asDef(COND), vjp: condVjp(r) }, r.inputs, r.outputs, r.attrs);
    return [...r.outputs];
  }
  return condEager(pred, fns, operands);
}

function condEager(pred: Tensor, fns: readonly FlatFn[], operands: readonly Tensor[]): Tensor[] {
  return (readPredicate('cond', 'the predicate', pred) ? fns[0] : fns[1])(operands);
}

/** `whileLoop` over a flat carry: `carry = fns[1](carry)` while `fns[0](carry)[0]`. */
export function whileFlat(fns: readonly [FlatFn, FlatFn], carry: readonly Tensor[]): Tensor[] {
  const r = offer({ kind: 'whileLoop', fns, operands: carry });
  if (r && 'ranEagerly' in r) return [...r.outputs];
  if (r) {
    record(WHILE_BLOCKED, r.inputs, r.outputs, r.attrs);
    return [...r.outputs];
  }
  return whileEager(fns, carry);
}

function whileEager(fns: readonly FlatFn[], carry: readonly Tensor[]): Tensor[] {
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
  // When autograd will record the node, keep what its gradient reads: each step's carry and intermediates.
  const residualsFor = (inputs: readonly Tensor[], body: Graph) =>
    isGradEnabled() && inputs.some((t) => t.requiresGrad) ? scanResiduals(body, body.inputs.length - carry.length - xs.length, carry.length, body.outputs.length - carry.length).kept : [];
  const call: ControlFlowCall = { kind: 'scan', fns: [fn], operands: [...carry, ...xs], numCarry: carry.length, length, reverse, consts, residualsFor };
  const r = offer(call);
  if (r && 'ranEagerly' in r) return [...r.outputs];
  if (r) {
    record({ ...asDef(SCAN), vjp: scanVjp(r) }, r.inputs, r.outputs, r.attrs);
    return r.outputs.slice(0, r.outputs.length - (r.residuals ?? 0));
  }
  return scanEager(call);
}

function scanEager({ fns: [fn], operands, numCarry = 0, length = 0, reverse = false, consts = [] }: ControlFlowCall): Tensor[] {
  if (length === 0) {
    throw new ArgumentError('scan: a scan of length 0 cannot run eagerly: the shapes of its ys are known only from a step. Skip it, or run it in a compiled function (which traces the step once).');
  }
  const xs = operands.slice(numCarry);
  const scope = new LoopScope();
  let cur = operands.slice(0, numCarry);
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

/**
 * Runs a control-flow call eagerly, as JavaScript, whatever interpreter is current: for an
 * interpreter that observes a construct as one unit (compile's check mode runs it this way and
 * compares its outputs with the graph's node) and returns `{ outputs, ranEagerly: true }`.
 *
 * @example
 * ```ts
 * controlFlow(call) { const outputs = runControlFlow(call); log(call.kind, outputs); return { outputs, ranEagerly: true }; }
 * ```
 */
export function runControlFlow(call: ControlFlowCall): Tensor[] {
  return withInterpreter(eagerInterpreter, () => {
    if (call.kind === 'cond') return condEager(call.operands[0], call.fns, call.operands.slice(1));
    if (call.kind === 'whileLoop') return whileEager(call.fns, call.operands);
    return scanEager(call);
  });
}

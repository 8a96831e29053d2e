import type { Attrs, Graph, Value } from '@kiln/core';
import type { Tensor } from '../tensor.js';

/** The structured control-flow constructs. */
export type ControlKind = 'cond' | 'whileLoop' | 'scan';

/** A function over a flat list of tensors, returning a flat list: how control flow hands user functions to an interpreter. */
export type FlatFn = (args: readonly Tensor[]) => Tensor[];

/**
 * A control-flow construct offered to an interpreter (`TensorInterpreter.controlFlow`), with the
 * user's functions already flattened:
 *
 * - `cond`: `fns` = [then, else], each called with the operands (not the predicate);
 *   `operands` = [pred, ...operands].
 * - `whileLoop`: `fns` = [cond (carry → [bool scalar]), body (carry → carry)]; `operands` = the carry.
 * - `scan`: `fns` = [body (consts ++ carry ++ one slice of each xs → carry ++ ys)];
 *   `operands` = [...carry, ...xs]; `numCarry`, `length` and `reverse` say how to read them;
 *   `consts` are passed to every step first (as values of the sub-graph when traced).
 */
export interface ControlFlowCall {
  readonly kind: ControlKind;
  readonly fns: readonly FlatFn[];
  readonly operands: readonly Tensor[];
  readonly numCarry?: number;
  readonly length?: number;
  readonly reverse?: boolean;
  readonly consts?: readonly Tensor[];
  /**
   * scan: asked, once the body is traced, with every input the node will have (closure
   * captures included) and the body graph: the body values to keep for the gradient (the
   * node also returns them, stacked over the steps, after the ys), or none.
   */
  readonly residualsFor?: (inputs: readonly Tensor[], body: Graph) => readonly Value[];
}

/**
 * What an interpreter that traces control flow returns: the node it recorded. `inputs` are
 * every input of the node in order as tensors — the operands and the values the functions read
 * from outside them (closure captures become explicit inputs) — so autograd can record the node
 * and differentiate through its `subgraphs`. The interpreter traces the functions without
 * recording them for autograd (`noGrad`): the node is recorded instead.
 */
export interface ControlFlowNode {
  readonly outputs: readonly Tensor[];
  readonly inputs: readonly Tensor[];
  readonly attrs: Attrs;
  readonly subgraphs: readonly Graph[];
  /** How many of the last outputs are residuals for the gradient (scan's carry history), not results. */
  readonly residuals?: number;
}

/**
 * What `TensorInterpreter.controlFlow` returns: the node it recorded, or — for an interpreter
 * that ran the construct itself as one unit, eagerly (`runControlFlow`) — its outputs; autograd
 * then recorded the ops that ran, as for any eager code.
 */
export type ControlFlowResult = ControlFlowNode | { readonly outputs: readonly Tensor[]; readonly ranEagerly: true };

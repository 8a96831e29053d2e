import type { DType } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { shapesEqual, shapeToString } from '../shape.js';
import type { Attrs, OpDef, PrimitiveDef, TensorType } from './op.js';
import { checkAttrs } from './op.js';

/**
 * Structured control flow: ops whose bodies are sub-graphs in `node.subgraphs`. Their output
 * types depend on those sub-graphs, so the ordinary shape/dtype rules (which see only input
 * types and attrs) cannot compute them: their `bodyTypes` rule (`inferControlTypes`) does, so
 * `GraphBuilder.add(op, inputs, attrs, { subgraphs })` and `verifyGraph` check them. They have no
 * backend kernel: the runtime runs them by executing their sub-graphs.
 *
 * - `cond %pred %args…` with sub-graphs [then, else]: both take the args and return the same
 *   types; the node returns the branch `pred` (a bool scalar) picks.
 * - `whileLoop %condConsts… %bodyConsts… %carry…` with sub-graphs [cond, body]:
 *   `cond(condConsts…, carry…) → bool[]`, `body(bodyConsts…, carry…) → carry…` (same types).
 * - `scan %consts… %carry… %xs…` with sub-graph [body]:
 *   `body(consts…, carry…, x…) → (carry…, y…)` where each x is one slice of an xs along axis 0;
 *   the node returns the final carry and every y stacked along a new axis 0 (`length` of them).
 *   `reverse` runs the steps from the last slice to the first (ys keep the slices' order).
 */

/** cond has no attrs: its inputs are the predicate and the branches' arguments. */
export type CondAttrs = Record<string, never>;
/** How many of whileLoop's leading inputs are constants of the cond and of the body sub-graph. */
export type WhileLoopAttrs = { condConsts: number; bodyConsts: number };
/** scan's input layout (consts, carry, then xs), trip count and direction. */
export type ScanAttrs = { numConsts: number; numCarry: number; length: number; reverse: boolean };

function needsSubgraphs(name: string): () => never {
  return () => {
    throw new ArgumentError(`${name}: the output types of a control-flow op come from its sub-graphs; build it with GraphBuilder.add(op, inputs, attrs, { subgraphs })`);
  };
}

/** A control-flow op's definition; typed over plain `Attrs` so it can be passed wherever an `OpDef` goes. */
function controlDef(name: string, inputs: string[], attrs: PrimitiveDef['attrs'], doc: string, differentiable: boolean): PrimitiveDef {
  return {
    kind: 'primitive', name, inputs, attrs, doc, shape: needsSubgraphs(name), dtype: needsSubgraphs(name), differentiable,
    bodyTypes: (inputs, attrs, bodies) => inferControlTypes(name, inputs, attrs, bodies),
  };
}

export const COND = controlDef('cond', ['pred', '...args'], {}, 'Runs sub-graph 0 (then) or 1 (else) on the args, as the bool scalar pred says (lax.cond).', true);
export const WHILE_LOOP = controlDef(
  'whileLoop', ['...inputs'], { condConsts: 'int', bodyConsts: 'int' },
  'Repeats carry = body(carry) while cond(carry) is true (lax.while_loop); not reverse-differentiable.', false,
);
export const SCAN = controlDef(
  'scan', ['...inputs'], { numConsts: 'int', numCarry: 'int', length: 'int', reverse: 'bool' },
  'Loops body over slices of xs along axis 0, threading a carry and stacking the ys (lax.scan).', true,
);

export const controlDefs: readonly OpDef<any>[] = [COND, WHILE_LOOP, SCAN];

const CONTROL_NAMES: ReadonlySet<string> = new Set(controlDefs.map((op) => op.name));

/**
 * Whether `name` is a control-flow op (cond, whileLoop, scan): run by the runtime, not a kernel.
 *
 * @example
 * ```ts
 * isControlOp('scan'); // true
 * isControlOp('add');  // false
 * ```
 */
export function isControlOp(name: string): boolean {
  return CONTROL_NAMES.has(name);
}

const fmt = (t: TensorType) => `${t.dtype}${shapeToString(t.shape)}`;

/** Throws a ShapeError or DTypeError unless `got` has the type `want`. */
function expectType(got: TensorType, want: TensorType, message: (what: 'shape' | 'dtype') => string): void {
  if (got.dtype !== want.dtype) throw new DTypeError(message('dtype'));
  if (!shapesEqual(got.shape, want.shape)) throw new ShapeError(message('shape'));
}

/** Checks that a sub-graph takes exactly `want` (its inputs' types, in order). */
function checkParams(op: string, body: string, graph: Graph, want: readonly TensorType[]): void {
  if (graph.inputs.length !== want.length) {
    throw new ArgumentError(`${op}: the ${body} sub-graph takes ${graph.inputs.length} inputs, but the node passes it ${want.length}`);
  }
  graph.inputs.forEach((v, i) => {
    expectType(v.type, want[i], () => `${op}: input ${i} of the ${body} sub-graph is ${fmt(v.type)}, but the node passes ${fmt(want[i])}`);
  });
}

function checkCount(op: string, got: number, want: number, what: string): void {
  if (got !== want) throw new ArgumentError(`${op}: expects ${want} ${what}, got ${got}`);
}

function checkLayout(op: string, counts: readonly [string, number][], total: number): void {
  let sum = 0;
  for (const [name, n] of counts) {
    if (n < 0) throw new ArgumentError(`${op}: attribute '${name}' must be non-negative, got ${n}`);
    sum += n;
  }
  if (sum > total) throw new ArgumentError(`${op}: the attributes ${counts.map(([k, n]) => `${k}=${n}`).join(', ')} count ${sum} inputs, but the node has ${total}`);
}

/**
 * Checks a predicate's type: a bool scalar, else a DTypeError or ShapeError naming `op` and `what`.
 *
 * @example
 * ```ts
 * checkPredicate('cond', 'pred', { dtype: 'float32', shape: [] }); // DTypeError: cond: pred must be a bool scalar, got float32[] …
 * ```
 */
export function checkPredicate(op: string, what: string, t: TensorType): void {
  if (t.dtype !== 'bool') throw new DTypeError(`${op}: ${what} must be a bool scalar, got ${fmt(t)}; compare to make one (x.sum().gt(0))`);
  if (t.shape.length !== 0) throw new ShapeError(`${op}: ${what} must be a scalar (shape []), got ${fmt(t)}; reduce it to one element first (x.sum().gt(0), x.max().gt(0))`);
}

function inferCond(inputs: readonly TensorType[], graphs: readonly Graph[]): TensorType[] {
  if (inputs.length < 1) throw new ArgumentError('cond: expects the predicate as its first input');
  checkPredicate('cond', 'the predicate (input 0)', inputs[0]);
  const args = inputs.slice(1);
  const [thenG, elseG] = graphs;
  checkParams('cond', 'then', thenG, args);
  checkParams('cond', 'else', elseG, args);
  if (thenG.outputs.length !== elseG.outputs.length) {
    throw new ArgumentError(`cond: the then branch returns ${thenG.outputs.length} values but the else branch returns ${elseG.outputs.length}; both must return the same`);
  }
  thenG.outputs.forEach((v, i) => {
    const e = elseG.outputs[i].type;
    expectType(e, v.type, (what) => `cond: output ${i} has ${what} ${what === 'dtype' ? v.type.dtype : shapeToString(v.type.shape)} in the then branch but ${what === 'dtype' ? e.dtype : shapeToString(e.shape)} in the else branch; both branches must return the same shapes and dtypes`);
  });
  return thenG.outputs.map((v) => v.type);
}

function inferWhile(inputs: readonly TensorType[], { condConsts, bodyConsts }: WhileLoopAttrs, graphs: readonly Graph[]): TensorType[] {
  checkLayout('whileLoop', [['condConsts', condConsts], ['bodyConsts', bodyConsts]], inputs.length);
  const carry = inputs.slice(condConsts + bodyConsts);
  const [condG, bodyG] = graphs;
  checkParams('whileLoop', 'cond', condG, [...inputs.slice(0, condConsts), ...carry]);
  checkParams('whileLoop', 'body', bodyG, [...inputs.slice(condConsts, condConsts + bodyConsts), ...carry]);
  checkCount('whileLoop', condG.outputs.length, 1, 'one output of the cond sub-graph (a bool scalar)');
  checkPredicate('whileLoop', 'the cond sub-graph\'s output', condG.outputs[0].type);
  checkCount('whileLoop', bodyG.outputs.length, carry.length, 'outputs of the body sub-graph (one per carry)');
  bodyG.outputs.forEach((v, i) => {
    expectType(v.type, carry[i], (what) => `whileLoop: the body returns carry ${i} as ${fmt(v.type)} but it enters as ${fmt(carry[i])}; the body must keep each carry's ${what}`);
  });
  return [...carry];
}

function inferScan(inputs: readonly TensorType[], { numConsts, numCarry, length }: ScanAttrs, graphs: readonly Graph[]): TensorType[] {
  checkLayout('scan', [['numConsts', numConsts], ['numCarry', numCarry]], inputs.length);
  if (length < 0) throw new ArgumentError(`scan: attribute 'length' must be non-negative, got ${length}`);
  const carry = inputs.slice(numConsts, numConsts + numCarry);
  const xs = inputs.slice(numConsts + numCarry);
  xs.forEach((x, i) => {
    if (x.shape.length === 0 || x.shape[0] !== length) {
      throw new ShapeError(`scan: xs ${i} has shape ${shapeToString(x.shape)}, but its leading axis must be the scan length ${length}`);
    }
  });
  const slices = xs.map((x): TensorType => ({ dtype: x.dtype, shape: x.shape.slice(1) }));
  const [body] = graphs;
  checkParams('scan', 'body', body, [...inputs.slice(0, numConsts), ...carry, ...slices]);
  if (body.outputs.length < numCarry) {
    throw new ArgumentError(`scan: the body sub-graph returns ${body.outputs.length} values, fewer than the ${numCarry} carries`);
  }
  body.outputs.slice(0, numCarry).forEach((v, i) => {
    expectType(v.type, carry[i], (what) => `scan: the body returns carry ${i} as ${fmt(v.type)} but it enters as ${fmt(carry[i])}; the body must keep each carry's ${what}`);
  });
  const ys = body.outputs.slice(numCarry).map((v): TensorType => ({ dtype: v.type.dtype as DType, shape: [length, ...v.type.shape] }));
  return [...carry, ...ys];
}

/**
 * The output types of a control-flow node, checking its sub-graphs against its inputs: branch
 * and body signatures, matching branch outputs, loop-invariant carries, a bool scalar
 * predicate, and xs whose leading axis is the scan length. Throws ShapeError, DTypeError or
 * ArgumentError naming the op and the offending input or output.
 *
 * @example
 * ```ts
 * inferControlTypes('cond', [{ dtype: 'bool', shape: [] }, f32x3], {}, [thenGraph, elseGraph]);
 * // [f32[3]]: the branches' output types
 * ```
 */
export function inferControlTypes(name: string, inputs: readonly TensorType[], attrs: Attrs, subgraphs: readonly Graph[]): TensorType[] {
  const op = controlDefs.find((d) => d.name === name);
  if (!op) throw new ArgumentError(`inferControlTypes: '${name}' is not a control-flow op (cond, whileLoop, scan)`);
  checkAttrs(op, attrs);
  const want = name === 'scan' ? 1 : 2;
  if (subgraphs.length !== want) throw new ArgumentError(`${name}: expects ${want} sub-graph${want > 1 ? 's' : ''}, got ${subgraphs.length}`);
  if (name === 'cond') return inferCond(inputs, subgraphs);
  if (name === 'whileLoop') return inferWhile(inputs, attrs as WhileLoopAttrs, subgraphs);
  return inferScan(inputs, attrs as ScanAttrs, subgraphs);
}

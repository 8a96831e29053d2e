import type { TensorType } from '@kiln/core';
import { ArgumentError, checkPredicate, ShapeError, shapeToString } from '@kiln/core';
import { tensor } from '../create.js';
import { Tensor } from '../tensor.js';
import { condFlat, scanFlat, whileFlat } from './flat.js';
import type { FlatTree, TreeSpec } from './tree.js';
import { checkSameTypes, flattenTree, typeOfTensor, unflattenTree } from './tree.js';

/** What a function returned, flattened: remembered to check the next function (or step) against. */
interface Signature {
  readonly spec: TreeSpec;
  readonly types: readonly TensorType[];
}

const signatureOf = (flat: FlatTree): Signature => ({ spec: flat.spec, types: flat.leaves.map(typeOfTensor) });
const typesOf = (flat: FlatTree) => ({ spec: flat.spec, types: flat.leaves.map(typeOfTensor), paths: flat.paths });

function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return `an array of ${x.length}`;
  return typeof x === 'object' ? `an instance of ${(x as object).constructor?.name ?? 'Object'}` : `a ${typeof x}`;
}

/**
 * Runs `thenFn(...operands)` if `pred` is true, else `elseFn(...operands)` — JAX's `lax.cond`.
 * `pred` is a bool scalar tensor (or a JavaScript boolean, which just picks a function). The
 * operands and results may be tensors, numbers, booleans, null, and arrays or plain objects of
 * them. Eagerly, only the chosen function runs (and autograd records it). In a compiled
 * function both are traced into one `cond` node, so both must return the same structure,
 * shapes and dtypes; tensors they read from their closure become inputs of the node, and the
 * node is differentiable.
 *
 * @example
 * ```ts
 * const f = compile((x: Tensor) => cond(x.sum().gt(0), (v) => v.mul(2), (v) => v.neg(), [x]));
 * f(tensor([1, 2])).toArray(); // [2, 4]
 * ```
 */
export function cond<A extends readonly unknown[], R>(pred: Tensor | boolean, thenFn: (...operands: A) => R, elseFn: (...operands: A) => R, operands?: A): R {
  const args = operands ?? ([] as unknown as A);
  if (typeof pred === 'boolean') return pred ? thenFn(...args) : elseFn(...args);
  if (!(pred instanceof Tensor)) throw new ArgumentError(`cond: pred must be a bool scalar tensor or a boolean, got ${describe(pred)}`);
  checkPredicate('cond', 'pred', pred);
  if (!Array.isArray(args)) throw new ArgumentError(`cond: operands must be an array (its elements are passed as the functions' arguments), got ${describe(args)}`);
  const input = flattenTree(args, 'operands', 'cond');
  let first: (Signature & { name: string }) | undefined;
  const branch = (fn: (...operands: A) => R, name: string) => (leaves: readonly Tensor[]) => {
    const out = flattenTree(fn(...(unflattenTree(input.spec, leaves) as A)), 'result', `cond (${name} branch)`);
    if (!first) first = { ...signatureOf(out), name };
    else {
      const other = first.name;
      checkSameTypes(first, typesOf(out), (path, want, have) =>
        path === null
          ? `cond: the ${name} branch returns ${have} but the ${other} branch returns ${want}; both branches must return the same structure`
          : `cond: the ${name} branch returns ${path} as ${have} but the ${other} branch returns it as ${want}; both branches must return the same shapes and dtypes`,
      );
    }
    return out.leaves;
  };
  const outs = condFlat(pred, [branch(thenFn, 'then'), branch(elseFn, 'else')], input.leaves);
  return unflattenTree(first!.spec, outs) as R;
}

/**
 * Repeats `carry = bodyFn(carry)` while `condFn(carry)` is true and returns the last carry —
 * JAX's `lax.while_loop`. The carry may be a tensor or arrays/plain objects of tensors (numbers
 * become tensors); every step must keep each carry's shape and dtype (ShapeError/DTypeError
 * naming the carry otherwise), so a compiled function holds the loop as one `whileLoop` node.
 * Not differentiable in reverse mode: backward through its result throws (use `scan`). Eagerly,
 * a carry the body replaces is freed at once.
 *
 * @example
 * ```ts
 * const { i, x } = whileLoop(({ i }) => i.lt(10), ({ i, x }) => ({ i: i.add(1), x: x.mul(2) }), { i: 0, x: tensor([1]) });
 * x.toArray(); // [1024]
 * ```
 */
export function whileLoop<C>(condFn: (carry: C) => Tensor | boolean, bodyFn: (carry: C) => C, init: C): C {
  const input = flattenTree(init, 'carry', 'whileLoop');
  if (input.leaves.length === 0) throw new ArgumentError('whileLoop: the initial carry holds no tensors, so no step could change what condFn sees; pass the loop state as init');
  const carry = signatureOf(input);
  const test = (leaves: readonly Tensor[]) => {
    const r = condFn(unflattenTree(input.spec, leaves) as C);
    if (!(r instanceof Tensor) && typeof r !== 'boolean') throw new ArgumentError(`whileLoop: condFn must return a bool scalar tensor, got ${describe(r)}`);
    const p = r instanceof Tensor ? r : tensor(r);
    checkPredicate('whileLoop', "condFn's result", p);
    return [p];
  };
  const body = (leaves: readonly Tensor[]) => {
    const out = flattenTree(bodyFn(unflattenTree(input.spec, leaves) as C), 'carry', 'whileLoop (body)');
    checkSameTypes(carry, typesOf(out), (path, want, have) =>
      path === null
        ? `whileLoop: the body returns ${have} but the carry is ${want}; it must return a carry of the same structure`
        : `whileLoop: the body changes ${path} from ${want} to ${have}; every step must keep each carry's shape and dtype`,
    );
    return out.leaves;
  };
  return unflattenTree(input.spec, whileFlat([test, body], input.leaves)) as C;
}

/** Options of `scan`. */
export interface ScanOptions {
  /** Number of steps; required when there are no xs, else it must equal their leading axis. */
  length?: number;
  /** Run from the last slice to the first (the ys stay in the slices' order). Default false. */
  reverse?: boolean;
}

function scanLength(xs: FlatTree, length: number | undefined): number {
  if (length !== undefined && (!Number.isInteger(length) || length < 0)) throw new ArgumentError(`scan: length must be a non-negative integer, got ${length}`);
  let found: { n: number; path: string } | undefined = length === undefined ? undefined : { n: length, path: 'options.length' };
  xs.leaves.forEach((x, i) => {
    if (x.shape.length === 0) throw new ShapeError(`scan: ${xs.paths[i]} is a scalar; every xs must have a leading axis to scan over`);
    if (found && x.shape[0] !== found.n) {
      throw new ShapeError(`scan: ${xs.paths[i]} has shape ${shapeToString(x.shape)}, so ${x.shape[0]} steps along axis 0, but ${found.path} gives ${found.n}; every xs must have the scan's length as its leading axis`);
    }
    found ??= { n: x.shape[0], path: `${xs.paths[i]} (shape ${shapeToString(x.shape)})` };
  });
  if (!found) throw new ArgumentError('scan: there are no xs to take the number of steps from; pass { length }');
  return found.n;
}

/**
 * Loops `fn(carry, x) → [carry, y]` over the slices `x` of `xs` along axis 0, and returns the
 * final carry and the ys stacked along a new axis 0 — JAX's `lax.scan`. `xs`, the carry and `y`
 * may be tensors, null, or arrays/plain objects of tensors; every step must keep the carry's
 * shapes and dtypes. Differentiable, eagerly (autograd records each step) and compiled (one
 * `scan` node whose gradient is a scan in the other direction).
 *
 * @example
 * ```ts
 * const [total, running] = scan((s: Tensor, x: Tensor) => { const t = s.add(x); return [t, t]; }, tensor(0), tensor([1, 2, 3]));
 * total.item(); running.toArray(); // 6, [1, 3, 6]
 * ```
 */
export function scan<C, X, Y>(fn: (carry: C, x: X) => readonly [C, Y], init: C, xs: X, options: ScanOptions = {}): [C, Y] {
  const carryIn = flattenTree(init, 'carry', 'scan');
  const xsIn = flattenTree(xs, 'xs', 'scan');
  const length = scanLength(xsIn, options.length);
  const numCarry = carryIn.leaves.length;
  const carry = signatureOf(carryIn);
  const xSpec = xsIn.spec;
  let ys: Signature | undefined;
  const step = (leaves: readonly Tensor[]) => {
    const r: unknown = fn(unflattenTree(carry.spec, leaves.slice(0, numCarry)) as C, unflattenTree(xSpec, leaves.slice(numCarry)) as X);
    if (!Array.isArray(r) || r.length !== 2) throw new ArgumentError(`scan: fn must return [carry, y] (y may be null), got ${describe(r)}`);
    const c = flattenTree(r[0], 'carry', 'scan (fn)');
    checkSameTypes(carry, typesOf(c), (path, want, have) =>
      path === null
        ? `scan: fn returns the carry as ${have} but it is ${want}; it must return a carry of the same structure`
        : `scan: fn changes ${path} from ${want} to ${have}; every step must keep each carry's shape and dtype`,
    );
    const y = flattenTree(r[1], 'y', 'scan (fn)');
    if (!ys) ys = signatureOf(y);
    else checkSameTypes(ys, typesOf(y), (path, want, have) => `scan: fn returns ${path ?? 'y'} as ${have} in this step but ${want} in an earlier one; every step's y must have the same structure, shapes and dtypes`);
    return [...c.leaves, ...y.leaves];
  };
  const outs = scanFlat(step, carryIn.leaves, xsIn.leaves, length, options.reverse ?? false);
  return [unflattenTree(carry.spec, outs.slice(0, numCarry)) as C, unflattenTree(ys!.spec, outs.slice(numCarry)) as Y];
}

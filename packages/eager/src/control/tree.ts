import type { TensorType } from '@kiln/core';
import { ArgumentError, DTypeError, ShapeError, shapeToString } from '@kiln/core';
import { tensor } from '../create.js';
import { Tensor } from '../tensor.js';

/**
 * The structure of a control-flow operand or result ("pytree"): tensors are leaves, and arrays,
 * plain objects (keys compared sorted), null and undefined give the structure.
 */
export type TreeSpec =
  | { readonly kind: 'leaf' }
  | { readonly kind: 'none'; readonly value: null | undefined }
  | { readonly kind: 'array'; readonly items: readonly TreeSpec[] }
  | { readonly kind: 'object'; readonly keys: readonly string[]; readonly items: readonly TreeSpec[] };

/** A flattened tree: its structure, its tensors in order, and where each tensor sits (`carry.h`). */
export interface FlatTree {
  readonly spec: TreeSpec;
  readonly leaves: Tensor[];
  readonly paths: string[];
}

/**
 * Flattens `value` (named `path` in messages, for the function `where`). Numbers and booleans
 * become tensors (`tensor(x)`: int32 for integers, float32 otherwise, bool), as JAX turns
 * Python scalars into arrays. Anything else that is not a tensor, array or plain object throws.
 */
export function flattenTree(value: unknown, path: string, where: string): FlatTree {
  const leaves: Tensor[] = [];
  const paths: string[] = [];
  const visit = (v: unknown, at: string): TreeSpec => {
    if (v instanceof Tensor || typeof v === 'number' || typeof v === 'boolean') {
      leaves.push(v instanceof Tensor ? v : tensor(v));
      paths.push(at);
      return { kind: 'leaf' };
    }
    if (v === null || v === undefined) return { kind: 'none', value: v };
    if (Array.isArray(v)) return { kind: 'array', items: v.map((x, i) => visit(x, `${at}[${i}]`)) };
    if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const keys = Object.keys(v).sort();
      return { kind: 'object', keys, items: keys.map((k) => visit((v as Record<string, unknown>)[k], `${at}.${k}`)) };
    }
    const what = typeof v === 'function' ? 'a function' : typeof v === 'object' ? `an instance of ${(v as object).constructor?.name ?? 'a class'}` : `a ${typeof v}`;
    throw new ArgumentError(`${where}: ${at} is ${what}; control-flow operands and results must be tensors (or numbers and booleans, made into tensors), null, or arrays and plain objects of them`);
  };
  return { spec: visit(value, path), leaves, paths };
}

/** Rebuilds a value of structure `spec` from its leaves, in order. */
export function unflattenTree(spec: TreeSpec, leaves: readonly Tensor[]): unknown {
  let next = 0;
  const build = (s: TreeSpec): unknown => {
    switch (s.kind) {
      case 'leaf': return leaves[next++];
      case 'none': return s.value;
      case 'array': return s.items.map(build);
      case 'object': return Object.fromEntries(s.keys.map((k, i) => [k, build(s.items[i])]));
    }
  };
  return build(spec);
}

/** `{a: tensor, b: [tensor, null]}`: a structure, for messages. */
export function describeTree(spec: TreeSpec): string {
  switch (spec.kind) {
    case 'leaf': return 'tensor';
    case 'none': return String(spec.value);
    case 'array': return `[${spec.items.map(describeTree).join(', ')}]`;
    case 'object': return `{${spec.keys.map((k, i) => `${k}: ${describeTree(spec.items[i])}`).join(', ')}}`;
  }
}

export function sameTree(a: TreeSpec, b: TreeSpec): boolean {
  return describeTree(a) === describeTree(b);
}

const fmt = (t: TensorType) => `${t.dtype}${shapeToString(t.shape)}`;

/**
 * Checks that a function's results match what was expected, leaf by leaf: the same structure
 * (ArgumentError), then each leaf's dtype (DTypeError) and shape (ShapeError). `message` words
 * the mismatch: it gets the leaf's path (or null for the structure) and the two descriptions.
 */
export function checkSameTypes(
  expected: { spec: TreeSpec; types: readonly TensorType[] },
  got: { spec: TreeSpec; types: readonly TensorType[]; paths: readonly string[] },
  message: (path: string | null, want: string, have: string) => string,
): void {
  if (!sameTree(expected.spec, got.spec)) {
    throw new ArgumentError(message(null, describeTree(expected.spec), describeTree(got.spec)));
  }
  got.types.forEach((t, i) => {
    const want = expected.types[i];
    if (t.dtype !== want.dtype) throw new DTypeError(message(got.paths[i], fmt(want), fmt(t)));
    if (t.shape.length !== want.shape.length || t.shape.some((d, j) => d !== want.shape[j])) {
      throw new ShapeError(message(got.paths[i], fmt(want), fmt(t)));
    }
  });
}

/** A tensor's type, copied (safe to keep after the tensor is disposed). */
export function typeOfTensor(t: Tensor): TensorType {
  return { dtype: t.dtype, shape: [...t.shape] };
}

import type { AttrValue, Attrs, Node } from '@kiln/core';

/** Elementwise primitives: each output element depends only on the same (broadcast) input elements. */
export const ELEMENTWISE_OPS: ReadonlySet<string> = new Set([
  'neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'reciprocal', 'sin', 'cos', 'tanh', 'sigmoid', 'relu',
  'erf', 'floor', 'ceil', 'round', 'logicalNot', 'isNaN', 'cast',
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr',
  'where',
]);

/** Ops whose two operands can be swapped without changing any bit of the result. */
export const COMMUTATIVE_OPS: ReadonlySet<string> = new Set(['add', 'mul', 'maximum', 'minimum', 'eq', 'ne', 'logicalAnd', 'logicalOr']);

/** Random primitives: never merged or folded, so each draw stays a draw of its own. */
export const RANDOM_OPS: ReadonlySet<string> = new Set(['randomUniform', 'randomNormal']);

/**
 * Control-flow ops: passes simplify their bodies too (as closed graphs with the same inputs and
 * outputs). Other nodes with bodies (fused kernels) are left whole.
 */
export const CONTROL_OPS: ReadonlySet<string> = new Set(['cond', 'whileLoop', 'scan']);

/** Ops that make a tensor from attributes alone. */
export const SOURCE_OPS: ReadonlySet<string> = new Set(['full', 'constant', 'arange', 'linspace']);

/**
 * The one value every element of a node's output holds, when the node is a `full` or a
 * `constant` whose elements are all the same (compared with Object.is: -0 ≠ 0, NaN = NaN).
 *
 * @example
 * ```ts
 * uniformValue(rewriter.definer(v)) === 1; // v is all ones
 * ```
 */
export function uniformValue(node: Node | undefined): number | undefined {
  if (!node) return undefined;
  if (node.op === 'full') return node.attrs.value as number;
  if (node.op === 'constant') {
    const data = node.attrs.data as readonly number[];
    if (data.length > 0 && data.every((v) => Object.is(v, data[0]))) return data[0];
  }
  return undefined;
}

/** A number as text that tells -0, NaN and ±Infinity apart. */
function numberKey(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

function attrKey(v: AttrValue): string {
  if (Array.isArray(v)) return `[${v.map((x) => numberKey(x)).join(',')}]`;
  if (typeof v === 'number') return numberKey(v);
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

/** Attributes as a canonical string (sorted keys, exact numbers), for comparing nodes. */
export function attrsKey(attrs: Attrs): string {
  return Object.keys(attrs).sort().map((k) => `${k}=${attrKey(attrs[k])}`).join(';');
}

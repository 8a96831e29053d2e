import type { DType, Graph, Node, Value } from '@kiln/core';
import { isFloating, shapesEqual } from '@kiln/core';
import type { Pass, PassContext } from './pass.js';
import { NO_CONTEXT } from './pass.js';
import type { GraphRewriter } from './rewrite.js';
import { GraphRewriter as Rewriter, sameType } from './rewrite.js';
import { CONTROL_OPS, uniformValue } from './values.js';

/** A rewrite: the node's output becomes an existing value, or the node becomes another node with the same outputs. */
type Rewrite = { rule: string; value: Value } | { rule: string; node: Node };
type Rule = (node: Node, rw: GraphRewriter) => Rewrite | undefined;

/**
 * Algebraic simplification. Every rewrite is **exact**: the result is bit-for-bit what the
 * unsimplified graph computes, for every input including NaN, ±Infinity and -0, so compiled
 * code never differs from eager because of it. The rules:
 *
 * | rewrite | note |
 * |---|---|
 * | `x * 1`, `1 * x`, `x / 1`, `x ** 1` → x | a broadcast of x when the other operand widens the shape |
 * | `x * -1`, `-1 * x` → `neg x` | exact, also for int32's most negative value (both wrap) |
 * | `x + (-0)`, `x - 0` → x; `x + 0`, `x - 0` → x for integer and bool x | float `x + 0` is **kept**: it turns -0 into +0 |
 * | `neg(neg x)`, `logicalNot(logicalNot x)` → x | bool x for logicalNot |
 * | `reshape` to x's own shape, `permute` by the identity, `broadcastTo` x's own shape, `cast` to x's dtype → x | |
 * | `reshape(reshape x)` → one reshape; `broadcastTo(broadcastTo x)` → one broadcastTo | |
 * | `permute(permute x)` → one permute (or x) | transposes of transposes vanish |
 * | `permute` that keeps the order of the non-unit axes → `reshape` | then merges with reshapes around it |
 * | `cast(cast x)` → one cast when the inner cast widens exactly (bool → any, int32/float32 → float64) | `float32 → float64 → float32` vanishes |
 * | `where(true, a, b)` → a, `where(false, a, b)` → b, `where(c, a, a)` → a | broadcast to the result's shape |
 *
 * Not done, because they are not exact: `x * 0 → 0` (NaN·0 and ∞·0 are NaN), `x - x → 0`,
 * float `x + 0 → x` (-0 + 0 = +0), `cast(cast x)` through a narrower dtype.
 *
 * @example
 * ```ts
 * simplify(graph); // `reshape(permute(permute(x, [1,0]), [1,0]), x.shape)` → x
 * ```
 */
export function simplify(graph: Graph, context: PassContext = NO_CONTEXT): Graph {
  const rw = new Rewriter(graph, 'simplify');
  for (const original of graph.nodes) {
    let node: Node | undefined = rw.remap(original);
    if (node.subgraphs) {
      const bodies = CONTROL_OPS.has(node.op) ? node.subgraphs.map((g) => simplify(g, context)) : node.subgraphs;
      rw.keep(bodies.some((b, k) => b !== node!.subgraphs![k]) ? { ...node, subgraphs: bodies } : node);
      continue;
    }
    // Rewrite until no rule applies (a permute may become a reshape that merges with another).
    for (let step = 0; node && step < 16; step++) {
      const r: Rewrite | undefined = Object.hasOwn(RULES, node.op) ? RULES[node.op](node, rw) : undefined;
      if (!r) break;
      context.note(r.rule);
      if ('value' in r) {
        rw.replace(node.outputs[0], r.value);
        node = undefined;
      } else node = r.node;
    }
    if (node) rw.keep(node);
  }
  return rw.build();
}

const scalarOf = (rw: GraphRewriter, v: Value): number | undefined => uniformValue(rw.definer(v));

/** The node's output becomes x: x itself when the types match, else x broadcast to the output's shape. */
function becomes(node: Node, x: Value, rule: string): Rewrite | undefined {
  const out = node.outputs[0];
  if (sameType(x.type, out.type)) return { rule, value: x };
  if (x.type.dtype !== out.type.dtype) return undefined;
  return { rule, node: { op: 'broadcastTo', inputs: [x], attrs: { shape: [...out.type.shape] }, outputs: node.outputs, ...(node.loc ? { loc: node.loc } : {}) } };
}

function replaced(node: Node, op: string, inputs: readonly Value[], attrs: Node['attrs'], rule: string): Rewrite {
  return { rule, node: { ...node, op, inputs, attrs } };
}

/** Whether adding this constant leaves every x of the dtype unchanged (-0 does; +0 only for integers). */
const addIdentity = (c: number | undefined, dtype: DType) => c !== undefined && (Object.is(c, -0) || (c === 0 && !isFloating(dtype)));
/** Whether subtracting this constant leaves every x unchanged. */
const subIdentity = (c: number | undefined, dtype: DType) => c !== undefined && (Object.is(c, 0) || (c === 0 && !isFloating(dtype)));

/** Casting from → to loses nothing, so a later cast may skip it. */
const widensExactly = (from: DType, to: DType) => from === to || from === 'bool' || (to === 'float64' && (from === 'int32' || from === 'float32'));

const RULES: Readonly<Record<string, Rule>> = {
  mul: (node, rw) => {
    const [a, b] = node.inputs;
    const out = node.outputs[0].type;
    if (scalarOf(rw, b) === 1) return becomes(node, a, 'x * 1 → x');
    if (scalarOf(rw, a) === 1) return becomes(node, b, 'x * 1 → x');
    if (scalarOf(rw, b) === -1 && sameType(a.type, out)) return replaced(node, 'neg', [a], {}, 'x * -1 → neg x');
    if (scalarOf(rw, a) === -1 && sameType(b.type, out)) return replaced(node, 'neg', [b], {}, 'x * -1 → neg x');
    return undefined;
  },
  div: (node, rw) => (scalarOf(rw, node.inputs[1]) === 1 ? becomes(node, node.inputs[0], 'x / 1 → x') : undefined),
  pow: (node, rw) => (scalarOf(rw, node.inputs[1]) === 1 ? becomes(node, node.inputs[0], 'x ** 1 → x') : undefined),
  add: (node, rw) => {
    const [a, b] = node.inputs;
    const dtype = node.outputs[0].type.dtype;
    if (addIdentity(scalarOf(rw, b), dtype)) return becomes(node, a, 'x + 0 → x');
    if (addIdentity(scalarOf(rw, a), dtype)) return becomes(node, b, 'x + 0 → x');
    return undefined;
  },
  sub: (node, rw) => (subIdentity(scalarOf(rw, node.inputs[1]), node.outputs[0].type.dtype) ? becomes(node, node.inputs[0], 'x - 0 → x') : undefined),
  neg: (node, rw) => {
    const d = rw.definer(node.inputs[0]);
    return d?.op === 'neg' ? { rule: 'neg(neg x) → x', value: d.inputs[0] } : undefined;
  },
  logicalNot: (node, rw) => {
    const d = rw.definer(node.inputs[0]);
    return d?.op === 'logicalNot' && d.inputs[0].type.dtype === 'bool' ? { rule: 'not(not x) → x', value: d.inputs[0] } : undefined;
  },
  reshape: (node, rw) => {
    const [x] = node.inputs;
    if (shapesEqual(x.type.shape, node.outputs[0].type.shape)) return { rule: 'reshape to the same shape → x', value: x };
    const d = rw.definer(x);
    if (d?.op === 'reshape') return replaced(node, 'reshape', [d.inputs[0]], node.attrs, 'reshape(reshape x) → reshape x');
    return undefined;
  },
  permute: (node, rw) => {
    const [x] = node.inputs;
    const axes = node.attrs.axes as readonly number[];
    if (axes.every((a, i) => a === i)) return { rule: 'identity permute → x', value: x };
    const d = rw.definer(x);
    if (d?.op === 'permute') {
      const inner = d.attrs.axes as readonly number[];
      return replaced(node, 'permute', [d.inputs[0]], { axes: axes.map((a) => inner[a]) }, 'permute(permute x) → permute x');
    }
    const moved = axes.filter((a) => x.type.shape[a] !== 1);
    if (moved.every((a, i) => i === 0 || a > moved[i - 1])) {
      return replaced(node, 'reshape', [x], { shape: [...node.outputs[0].type.shape] }, 'permute of unit axes → reshape');
    }
    return undefined;
  },
  broadcastTo: (node, rw) => {
    const [x] = node.inputs;
    if (shapesEqual(x.type.shape, node.outputs[0].type.shape)) return { rule: 'broadcastTo the same shape → x', value: x };
    const d = rw.definer(x);
    if (d?.op === 'broadcastTo') return replaced(node, 'broadcastTo', [d.inputs[0]], node.attrs, 'broadcastTo(broadcastTo x) → broadcastTo x');
    return undefined;
  },
  cast: (node, rw) => {
    const [x] = node.inputs;
    const to = node.attrs.dtype as DType;
    if (x.type.dtype === to) return { rule: 'cast to the same dtype → x', value: x };
    const d = rw.definer(x);
    if (d?.op === 'cast' && widensExactly(d.inputs[0].type.dtype, x.type.dtype)) return replaced(node, 'cast', [d.inputs[0]], { dtype: to }, 'cast(widening cast x) → cast x');
    return undefined;
  },
  where: (node, rw) => {
    const [c, a, b] = node.inputs;
    const pick = scalarOf(rw, c);
    if (pick !== undefined) return becomes(node, pick ? a : b, 'where(constant, a, b) → a or b');
    if (a === b) return becomes(node, a, 'where(c, a, a) → a');
    return undefined;
  },
};

export const SIMPLIFY: Pass = { name: 'simplify', doc: 'exact algebraic rewrites (x*1, x/1, neg(neg x), reshape/permute/broadcastTo/cast chains, …)', run: simplify };

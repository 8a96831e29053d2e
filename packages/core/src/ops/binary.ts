import { DEFAULT_FLOAT, isFloating } from '../dtype.js';
import { DTypeError } from '../errors.js';
import type { Operand } from './bind.js';
import { apply1, expectValue, promoteOperands } from './bind.js';
import type { Interpreter } from './interpreter.js';
import { sumToShape } from './grad_util.js';
import type { CompositeDef, OpDef, PrimitiveDef, VjpRule } from './op.js';
import type { DTypeClass } from './rules.js';
import { broadcastRule, elementwiseDType, requireDType, requireSameDType } from './rules.js';
import type { Ops } from './surface.js';

const AB = ['a', 'b'];
function binary(name: string, cls: DTypeClass, doc: string, rule?: VjpRule | 'bool'): PrimitiveDef {
  return {
    kind: 'primitive', name, inputs: AB, attrs: {}, doc,
    shape: broadcastRule(AB)(name),
    dtype: elementwiseDType(name, AB, cls, rule === 'bool' ? 'bool' : undefined),
    differentiable: rule !== 'bool',
    vjp: rule === 'bool' ? undefined : rule,
  };
}

/**
 * A binary gradient rule from the two unbroadcast partials: `da(g, a, b, out)` and `db(…)`
 * give gradients of the broadcast shape; they are summed back to each operand's shape.
 */
function partials(
  da: <V>(ops: Ops<V>, g: V, a: V, b: V, out: V) => V,
  db: <V>(ops: Ops<V>, g: V, a: V, b: V, out: V) => V,
): VjpRule {
  return (ops, { inputs: [a, b], outputs: [out], cotangents: [g], needsGrad, typeOf }) => [
    needsGrad[0] ? sumToShape(ops, da(ops, g!, a, b, out), typeOf(a).shape, typeOf) : null,
    needsGrad[1] ? sumToShape(ops, db(ops, g!, a, b, out), typeOf(b).shape, typeOf) : null,
  ];
}

// max/min split the gradient evenly between tied operands, as PyTorch does.
const pickShare = <V>(ops: Ops<V>, g: V, mine: V, other: V, wins: (ops: Ops<V>, x: V, y: V) => V): V =>
  ops.mul(g, ops.where(ops.eq(mine, other), 0.5, ops.where(wins(ops, mine, other), 1, 0)));

export const ADD = binary('add', 'numeric', 'Elementwise a + b with broadcasting.', partials((_ops, g) => g, (_ops, g) => g));
export const SUB = binary('sub', 'numeric', 'Elementwise a - b with broadcasting.', partials((_ops, g) => g, (ops, g) => ops.neg(g)));
export const MUL = binary('mul', 'numeric', 'Elementwise a * b with broadcasting.', partials((ops, g, _a, b) => ops.mul(g, b), (ops, g, a) => ops.mul(g, a)));
export const DIV = binary('div', 'float', 'Elementwise true division a / b with broadcasting.', partials(
  (ops, g, _a, b) => ops.div(g, b),
  (ops, g, _a, b, out) => ops.neg(ops.div(ops.mul(g, out), b)),
));
export const POW = binary('pow', 'numeric', 'Elementwise a ** b with broadcasting.', partials(
  // d/da a^b = b·a^(b-1), taken as 0 where b = 0 (PyTorch's convention, also at a = 0).
  (ops, g, a, b) => ops.mul(g, ops.where(ops.eq(b, 0), 0, ops.mul(b, ops.pow(a, ops.sub(b, 1))))),
  // d/db a^b = a^b·log(a), taken as 0 where a = 0 and b ≥ 0 (PyTorch's convention).
  (ops, g, a, b, out) => ops.mul(g, ops.where(ops.logicalAnd(ops.eq(a, 0), ops.ge(b, 0)), 0, ops.mul(out, ops.log(a)))),
));
export const MAXIMUM = binary('maximum', 'numeric', 'Elementwise maximum (NaN propagates).', partials(
  (ops, g, a, b) => pickShare(ops, g, a, b, (o, x, y) => o.gt(x, y)),
  (ops, g, a, b) => pickShare(ops, g, b, a, (o, x, y) => o.gt(x, y)),
));
export const MINIMUM = binary('minimum', 'numeric', 'Elementwise minimum (NaN propagates).', partials(
  (ops, g, a, b) => pickShare(ops, g, a, b, (o, x, y) => o.lt(x, y)),
  (ops, g, a, b) => pickShare(ops, g, b, a, (o, x, y) => o.lt(x, y)),
));
export const MOD = binary('mod', 'numeric', 'Elementwise remainder with the sign of the divisor (Python %, torch.remainder).', partials(
  (_ops, g) => g,
  (ops, g, a, b) => ops.neg(ops.mul(g, ops.floor(ops.div(a, b)))),
));
export const EQ = binary('eq', 'any', 'Elementwise a == b.', 'bool');
export const NE = binary('ne', 'any', 'Elementwise a != b.', 'bool');
export const LT = binary('lt', 'any', 'Elementwise a < b.', 'bool');
export const LE = binary('le', 'any', 'Elementwise a <= b.', 'bool');
export const GT = binary('gt', 'any', 'Elementwise a > b.', 'bool');
export const GE = binary('ge', 'any', 'Elementwise a >= b.', 'bool');
export const LOGICAL_AND = binary('logicalAnd', 'bool', 'Elementwise logical and.', 'bool');
export const LOGICAL_OR = binary('logicalOr', 'bool', 'Elementwise logical or.', 'bool');

const WHERE_NAMES = ['condition', 'a', 'b'];
export const WHERE: PrimitiveDef = {
  kind: 'primitive', name: 'where', inputs: WHERE_NAMES, attrs: {},
  doc: 'Elementwise select: a where condition is true, else b (all three broadcast).',
  shape: broadcastRule(WHERE_NAMES)('where'),
  dtype: ([c, a, b]) => {
    requireDType('where', 'condition', c, 'bool');
    requireSameDType('where', ['a', 'b'], [a, b]);
    return [a.dtype];
  },
  differentiable: true,
  vjp: (ops, { inputs: [c, a, b], cotangents: [g], needsGrad, typeOf }) => [
    null,
    needsGrad[1] ? sumToShape(ops, ops.where(c, g!, 0), typeOf(a).shape, typeOf) : null,
    needsGrad[2] ? sumToShape(ops, ops.where(c, 0, g!), typeOf(b).shape, typeOf) : null,
  ],
};

export const CLAMP: CompositeDef<{ min: number | null; max: number | null }> = {
  kind: 'composite', name: 'clamp', inputs: ['x'], attrs: { min: 'float?', max: 'float?' },
  doc: 'Limits every element to [min, max]; either bound may be null.',
  expand: (ops, [x], { min, max }) => {
    // Selects rather than maximum/minimum so that x keeps the whole gradient at a bound, as in
    // PyTorch (maximum would split it with the bound); NaN fails both tests and stays NaN.
    let y = x;
    if (min !== null) y = ops.where(ops.lt(y, min), min, y);
    if (max !== null) y = ops.where(ops.gt(y, max), max, y);
    return [y];
  },
};

export const binaryDefs: readonly OpDef<any>[] = [
  ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, MOD, EQ, NE, LT, LE, GT, GE, LOGICAL_AND, LOGICAL_OR, WHERE, CLAMP,
];

/**
 * Elementwise ops of two (or three) tensors. Operands broadcast (NumPy rules) and promote
 * (bool < int32 < float32 < float64); a JavaScript number is a weak scalar that keeps the
 * tensor's dtype unless it lifts the category (`int32 + 0.5` is float32).
 */
export interface BinaryOps<V> {
  /** a + b. @example `add(tensor([1, 2]), 10)` → `[11, 12]` */
  add(a: Operand<V>, b: Operand<V>): V;
  /** a - b. @example `sub(tensor([[1], [2]]), tensor([1, 2]))` → `[[0, -1], [1, 0]]` */
  sub(a: Operand<V>, b: Operand<V>): V;
  /** a * b. @example `mul(tensor([1, 2]), tensor([3, 4]))` → `[3, 8]` */
  mul(a: Operand<V>, b: Operand<V>): V;
  /** True division; integers give float32 (PyTorch's `/`). @example `div(tensor([1, 2]), 2)` → `[0.5, 1]` */
  div(a: Operand<V>, b: Operand<V>): V;
  /** a ** b. @example `pow(tensor([2, 3]), 2)` → `[4, 9]` */
  pow(a: Operand<V>, b: Operand<V>): V;
  /** Elementwise maximum; NaN wins. @example `maximum(tensor([1, 5]), 3)` → `[3, 5]` */
  maximum(a: Operand<V>, b: Operand<V>): V;
  /** Elementwise minimum; NaN wins. @example `minimum(tensor([1, 5]), 3)` → `[1, 3]` */
  minimum(a: Operand<V>, b: Operand<V>): V;
  /** Remainder with the divisor's sign (Python's %). @example `mod(tensor([-3, 3]), 2)` → `[1, 1]` */
  mod(a: Operand<V>, b: Operand<V>): V;
  /** a == b, as bool. @example `eq(tensor([1, 2]), 2)` → `[false, true]` */
  eq(a: Operand<V>, b: Operand<V>): V;
  /** a != b, as bool. */
  ne(a: Operand<V>, b: Operand<V>): V;
  /** a < b, as bool. @example `lt(tensor([1, 2]), 2)` → `[true, false]` */
  lt(a: Operand<V>, b: Operand<V>): V;
  /** a <= b, as bool. */
  le(a: Operand<V>, b: Operand<V>): V;
  /** a > b, as bool. */
  gt(a: Operand<V>, b: Operand<V>): V;
  /** a >= b, as bool. */
  ge(a: Operand<V>, b: Operand<V>): V;
  /** Logical and of truthiness (nonzero is true). @example `logicalAnd(tensor([1, 0]), true)` → `[true, false]` */
  logicalAnd(a: Operand<V>, b: Operand<V>): V;
  /** Logical or of truthiness. */
  logicalOr(a: Operand<V>, b: Operand<V>): V;
  /** a where condition, else b. @example `where(gt(x, 0), x, 0)` is relu */
  where(condition: Operand<V>, a: Operand<V>, b: Operand<V>): V;
  /** Limits to [min, max]; pass null (or omit) for no bound. @example `clamp(tensor([-2, 0.5, 2]), -1, 1)` → `[-1, 0.5, 1]` */
  clamp(x: V, min?: number | null, max?: number | null): V;
}

export function binaryOps<V>(I: Interpreter<V>, ops: Ops<V>): BinaryOps<V> {
  // Arithmetic on two bools computes in int32 (PyTorch keeps some as bool: see docs/design/deviations.md).
  const arithmetic = (def: PrimitiveDef, floatOnly = false) => (a: Operand<V>, b: Operand<V>) => {
    let { values, dtype } = promoteOperands(I, ops, [a, b], def.name, AB);
    if (floatOnly && !isFloating(dtype)) values = values.map((v) => ops.cast(v, DEFAULT_FLOAT));
    else if (dtype === 'bool') values = values.map((v) => ops.cast(v, 'int32'));
    return apply1(I, def, values);
  };
  const compare = (def: PrimitiveDef) => (a: Operand<V>, b: Operand<V>) =>
    apply1(I, def, promoteOperands(I, ops, [a, b], def.name, AB).values);
  const logical = (def: PrimitiveDef) => (a: Operand<V>, b: Operand<V>) => {
    const toBool = (x: Operand<V>, arg: string) =>
      I.isValue(x) ? ops.cast(x, 'bool') : typeof x === 'number' || typeof x === 'boolean' ? I.scalar(x ? 1 : 0, 'bool') : expectValue(I, x, def.name, arg);
    return apply1(I, def, [toBool(a, 'a'), toBool(b, 'b')]);
  };
  return {
    add: arithmetic(ADD), sub: arithmetic(SUB), mul: arithmetic(MUL), div: arithmetic(DIV, true),
    pow: arithmetic(POW), maximum: arithmetic(MAXIMUM), minimum: arithmetic(MINIMUM), mod: arithmetic(MOD),
    eq: compare(EQ), ne: compare(NE), lt: compare(LT), le: compare(LE), gt: compare(GT), ge: compare(GE),
    logicalAnd: logical(LOGICAL_AND), logicalOr: logical(LOGICAL_OR),
    where: (condition, a, b) => {
      const c = I.isValue(condition) ? ops.cast(condition, 'bool') : I.scalar(condition ? 1 : 0, 'bool');
      const { values } = promoteOperands(I, ops, [a, b], 'where', ['a', 'b']);
      return apply1(I, WHERE, [c, ...values]);
    },
    clamp: (x, min = null, max = null) => {
      const v = expectValue(I, x, 'clamp', 'x');
      if (min !== null && max !== null && min > max) {
        // PyTorch sets every element to max in this case; we follow it.
        return apply1(I, CLAMP, [v], { min: max, max });
      }
      if (I.typeOf(v).dtype === 'bool') throw new DTypeError('clamp: x must be int32, float32 or float64, got bool');
      return apply1(I, CLAMP, [v], { min, max });
    },
  };
}

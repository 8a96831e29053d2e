import type { DType, Node } from '@kiln/core';
import { KernelError, toTypedArray } from '@kiln/core';
import { erf, remainder, roundHalfEven } from '../kernels/math.js';
import { intPow } from '../kernels/binary.js';

/**
 * Scalar JavaScript for one elementwise node of a fused body, matching the reference kernels
 * value for value. The reference kernels compute in float64 and round when they store into a
 * Float32Array, so a float32 result here is wrapped in `fr(…)` (Math.fround) unless the op is
 * exact (neg, abs, relu, max, floor, comparisons…); int32 results wrap to 32 bits as an
 * Int32Array store would (`| 0`, Math.imul) and are never -0; bool results are 0 or 1.
 */

/** The helpers generated code may call, passed in by name. */
export const HELPERS = { erf, remainder, roundHalfEven, intPow } as const;

/** Ops whose scalar code is a call V8 does not inline; a kernel runs each of them in its own loop. */
export const HEAVY_OPS: ReadonlySet<string> = new Set(['exp', 'log', 'log1p', 'expm1', 'sin', 'cos', 'tanh', 'sigmoid', 'erf', 'pow', 'mod', 'round']);

/** A JavaScript literal for a number, parenthesised when negative (so `-x` never meets `--1`). */
export function literal(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '(-Infinity)';
  if (Object.is(v, -0)) return '(-0)';
  return v < 0 ? `(${String(v)})` : String(v);
}

/** The value a `full` node holds, as its kernel stores it in the dtype. */
export function fullValue(value: number, dtype: DType): number {
  return toTypedArray(dtype, [value])[0];
}

const FLOAT_UNARY: Record<string, (a: string) => string> = {
  exp: (a) => `Math.exp(${a})`,
  log: (a) => `Math.log(${a})`,
  log1p: (a) => `Math.log1p(${a})`,
  expm1: (a) => `Math.expm1(${a})`,
  sqrt: (a) => `Math.sqrt(${a})`,
  rsqrt: (a) => `1 / Math.sqrt(${a})`,
  reciprocal: (a) => `1 / ${a}`,
  sin: (a) => `Math.sin(${a})`,
  cos: (a) => `Math.cos(${a})`,
  tanh: (a) => `Math.tanh(${a})`,
  sigmoid: (a) => `1 / (1 + Math.exp(-${a}))`,
  erf: (a) => `erf(${a})`,
};

/** Unary ops whose results are exact in the input's dtype: never rounded. */
const EXACT_UNARY: Record<string, (a: string, int: boolean) => string> = {
  neg: (a, int) => (int ? `((-${a}) | 0)` : `(-${a})`),
  abs: (a, int) => (int ? `(Math.abs(${a}) | 0)` : `Math.abs(${a})`),
  sign: (a) => `(${a} > 0 ? 1 : ${a} < 0 ? -1 : 0)`,
  relu: (a) => `(${a} < 0 ? 0 : ${a})`,
  floor: (a) => `Math.floor(${a})`,
  ceil: (a) => `Math.ceil(${a})`,
  round: (a) => `roundHalfEven(${a})`,
  logicalNot: (a) => `(${a} === 0 ? 1 : 0)`,
  isNaN: (a) => `(${a} !== ${a} ? 1 : 0)`,
};

const COMPARE: Record<string, string> = { eq: '===', ne: '!==', lt: '<', le: '<=', gt: '>', ge: '>=' };

function binary(op: string, a: string, b: string, dtype: DType): string {
  const int = dtype === 'int32';
  const round = (e: string) => (dtype === 'float32' ? `fr(${e})` : e);
  switch (op) {
    case 'add': return int ? `((${a} + ${b}) | 0)` : round(`${a} + ${b}`);
    case 'sub': return int ? `((${a} - ${b}) | 0)` : round(`${a} - ${b}`);
    case 'mul': return int ? `Math.imul(${a}, ${b})` : round(`${a} * ${b}`);
    case 'div': return round(`${a} / ${b}`);
    case 'pow': return int ? `intPow(${a}, ${b})` : round(`Math.pow(${a}, ${b})`);
    case 'mod': return int ? `(${b} === 0 ? 0 : remainder(${a}, ${b}) | 0)` : round(`remainder(${a}, ${b})`);
    case 'maximum': return `Math.max(${a}, ${b})`;
    case 'minimum': return `Math.min(${a}, ${b})`;
    case 'logicalAnd': return `(${a} && ${b} ? 1 : 0)`;
    case 'logicalOr': return `(${a} || ${b} ? 1 : 0)`;
  }
  if (op in COMPARE) return `(${a} ${COMPARE[op]} ${b} ? 1 : 0)`;
  throw new KernelError(`cpu codegen: no scalar code for binary op '${op}'`);
}

function cast(a: string, from: DType, to: DType): string {
  if (from === to) return a;
  if (to === 'bool') return `(${a} !== 0 ? 1 : 0)`;
  if (to === 'int32') return from === 'bool' ? a : `(${a} - ${a} === 0 ? Math.trunc(${a}) | 0 : -2147483648)`;
  if (to === 'float32') return from === 'bool' ? a : `fr(${a})`;
  return a; // to float64: exact
}

/**
 * The scalar expression of `node` over argument expressions (identifiers or literals).
 *
 * @example
 * ```ts
 * emitScalar(addNode, ['v0', 'v1']); // 'fr(v0 + v1)' for float32
 * ```
 */
export function emitScalar(node: Node, args: readonly string[]): string {
  const out = node.outputs[0].type.dtype;
  const inDType = node.inputs[0]?.type.dtype ?? out;
  const [a, b, c] = args;
  if (node.op === 'full') return literal(fullValue(node.attrs.value as number, out));
  if (node.op === 'broadcastTo') return a;
  if (node.op === 'cast') return cast(a, inDType, out);
  if (node.op === 'where') return `(${a} ? ${b} : ${c})`;
  if (node.op in FLOAT_UNARY) return out === 'float32' ? `fr(${FLOAT_UNARY[node.op](a)})` : FLOAT_UNARY[node.op](a);
  if (node.op in EXACT_UNARY) return EXACT_UNARY[node.op](a, out === 'int32');
  if (args.length === 2) return binary(node.op, a, b, inDType);
  throw new KernelError(`cpu codegen: no scalar code for op '${node.op}'`);
}

/** A reduction's initial accumulator and its step `acc ← step(acc, v)` (float64 accumulators, int32 wrapping). */
export function reduction(op: string, dtype: DType): { init: number; step: (acc: string, v: string) => string } {
  const int = dtype === 'int32';
  switch (op) {
    case 'sum': return { init: 0, step: (acc, v) => (int ? `(${acc} + ${v}) | 0` : `${acc} + ${v}`) };
    case 'prod': return { init: 1, step: (acc, v) => (int ? `Math.imul(${acc}, ${v})` : `${acc} * ${v}`) };
    case 'max': return { init: -Infinity, step: (acc, v) => `(${v} > ${acc} || ${v} !== ${v} ? ${v} : ${acc})` };
    case 'min': return { init: Infinity, step: (acc, v) => `(${v} < ${acc} || ${v} !== ${v} ? ${v} : ${acc})` };
  }
  throw new KernelError(`cpu codegen: '${op}' is not a fusible reduction`);
}

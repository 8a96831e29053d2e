import type { Graph, Node, Value } from '@kiln/core';
import type { DType } from '@kiln/core';
import { FUSIBLE_REDUCTIONS, toTypedArray } from '@kiln/core';
import { Code, I32, V128, encodeModule, type MemoryType } from './emitter.js';
import { VecMath } from './math.js';

/**
 * Lowers a fused elementwise body (float32) to one WebAssembly SIMD function
 * `run(slot0, …, slotK, vectors)`: each slot argument is the byte address of an operand's
 * values (inputs, then stored outputs, then the values each reduction folds), and the function
 * computes `vectors` × 4 consecutive elements. The caller (elementwise.ts) places the inputs'
 * values (blocks in the single-threaded path, whole ranges split across the worker pool in the
 * threaded one), calls it, and reads the outputs. Inside, every value of the body lives in a
 * v128 local: four elements per step, float32 values as float32 lanes, bool values as lane
 * masks (all ones or zero; bool inputs and outputs travel through their slots as 1.0 / 0.0,
 * converted by the caller's typed-array copies). Ranges are padded to a multiple of four, so there is no scalar
 * tail: the extra lanes compute on whatever memory holds and are never copied out.
 */

/** Elements per block: each slot holds this many float32 values (8 KiB). */
export const BLOCK = 2048;
/** Bytes per slot. */
export const SLOT_BYTES = BLOCK * 4;

/** What lowering decided: which body inputs fill which slot, which values are written back. */
export interface LoweredBody {
  readonly bytes: Uint8Array;
  /** Body input indices, in slot order (slots 0 … inputs.length − 1). */
  readonly inputs: readonly number[];
  /** Body input indices read once per call as a scalar (a one-element input), by slot too. */
  readonly uniform: readonly boolean[];
  /** Distinct stored (non-reduced) body outputs in slot order after the inputs, as indices into body.outputs. */
  readonly outputs: readonly number[];
  /**
   * The body's reductions, in slot order after the outputs: each slot receives the values the
   * reduction folds (its input), which the caller folds into float64 accumulators in
   * row-major order, as the JavaScript kernel does.
   */
  readonly reductions: readonly { readonly op: string; readonly axes: readonly number[]; readonly node: number }[];
  /**
   * Body outputs that are a one-element input cast to float32 (isScalarCastToFloat32), as
   * [body output index, body input index]: not computed by the function; the caller copies
   * the input into a one-element float32 array (the copy rounds as the cast does).
   */
  readonly scalarCasts: readonly (readonly [number, number])[];
  /** The body computes something costly per element (a transcendental op): compute-bound, not memory-bound. */
  readonly heavy: boolean;
}

/** Ops whose vector code is long enough that a body holding one is compute-bound. */
const HEAVY_VECTOR_OPS: ReadonlySet<string> = new Set(['exp', 'log', 'tanh', 'sigmoid', 'expm1', 'log1p', 'erf']);

/** Reductions a lowered body may end in (their folding runs in JavaScript over the block). */
export const LOWERED_REDUCTIONS: ReadonlySet<string> = new Set(['sum', 'max', 'min', 'prod']);

const FLOAT_BINARY = new Set(['add', 'sub', 'mul', 'div', 'maximum', 'minimum']);
const FLOAT_UNARY = new Set(['neg', 'abs', 'relu', 'sign', 'floor', 'ceil', 'round', 'sqrt', 'rsqrt', 'reciprocal',
  'exp', 'log', 'tanh', 'sigmoid', 'expm1', 'log1p', 'erf']);
const COMPARE = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

/**
 * Why `body` cannot run in WebAssembly, or null when it can: every value float32 (bool only
 * inside, from comparisons), ops this lowering knows, reductions only sum/max/min/prod.
 *
 * @example
 * ```ts
 * whyNotLowerable(body); // null, or e.g. "op 'erf' has no vector code"
 * ```
 */
export function whyNotLowerable(body: Graph): string | null {
  const bodyOutputs = new Set(body.outputs);
  for (const v of body.inputs) {
    if (v.type.dtype === 'float32' || v.type.dtype === 'bool') continue;
    if (!isScalarCastToFloat32(body, v)) return `input of dtype ${v.type.dtype}`;
  }
  for (const n of body.nodes) {
    if (FUSIBLE_REDUCTIONS.has(n.op)) {
      if (!LOWERED_REDUCTIONS.has(n.op) || n.inputs[0].type.dtype !== 'float32') return `reduction '${n.op}' of ${n.inputs[0].type.dtype}`;
      continue;
    }
    const out = n.outputs[0].type.dtype;
    if (out !== 'float32' && out !== 'bool') return `op '${n.op}' makes ${out}`;
    const ins = n.inputs.map((v) => v.type.dtype);
    const allFloat = ins.every((d) => d === 'float32');
    const allBool = ins.every((d) => d === 'bool');
    const ok =
      (n.op === 'full') ||
      (n.op === 'broadcastTo' && allFloat) ||
      (FLOAT_BINARY.has(n.op) && allFloat) ||
      (FLOAT_UNARY.has(n.op) && allFloat) ||
      (COMPARE.has(n.op) && allFloat) ||
      (n.op === 'isNaN' && allFloat) ||
      ((n.op === 'logicalAnd' || n.op === 'logicalOr' || n.op === 'logicalNot') && allBool) ||
      (n.op === 'where' && ins[0] === 'bool' && ins[1] === 'float32' && ins[2] === 'float32') ||
      (n.op === 'cast' && (ins[0] === 'float32' || ins[0] === 'bool' || (out === 'float32' && isScalarCastToFloat32(body, n.inputs[0])))) ||
      (n.op === 'pow' && allFloat && isConstant(n.inputs[1], body, 2));
    if (!ok) return `op '${n.op}' (${ins.join(', ')} → ${out}) has no vector code`;
  }
  return null;
}

/**
 * A one-element float64 or int32 body input whose only uses are casts to float32 (an
 * optimizer's float64 learning rate): its slot holds it already rounded to float32 (the copy
 * into the slot rounds as the cast does), so the cast is the identity in vector code.
 */
function isScalarCastToFloat32(body: Graph, v: Value): boolean {
  if (!body.inputs.includes(v) || sizeOfShape(v.type.shape) !== 1 || (v.type.dtype !== 'float64' && v.type.dtype !== 'int32')) return false;
  if (body.outputs.includes(v)) return false;
  const uses = body.nodes.filter((n) => n.inputs.includes(v));
  return uses.length > 0 && uses.every((n) => n.op === 'cast' && n.outputs[0].type.dtype === 'float32');
}

function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The value a `full` node holds, as stored in its dtype. */
function fullValue(value: number, dtype: DType): number {
  return toTypedArray(dtype, [value])[0];
}

function isConstant(v: Value, body: Graph, value: number): boolean {
  const def = body.nodes.find((n) => n.outputs[0] === v);
  return def?.op === 'full' && fullValue(def.attrs.value as number, v.type.dtype) === value;
}

/**
 * Generates the module for a lowerable body. `uniformInput(i)` marks body inputs that are one
 * element (splatted once per call from their slot's address); `fma` lets the vector math use
 * relaxed-SIMD multiply-add. Exports `run(slot addresses…, vectors)`.
 */
export function lowerBody(body: Graph, uniformInput: (i: number) => boolean, memory?: MemoryType, fma = false): LoweredBody {
  // An input returned as an output (a matmul epilogue returning the product too) needs its slot.
  const used = new Set([...body.nodes.flatMap((n) => n.inputs), ...body.outputs]);
  const inputs = body.inputs.map((v, i) => ({ v, i })).filter(({ v }) => used.has(v));
  const reductionNodes = body.nodes.filter((n) => FUSIBLE_REDUCTIONS.has(n.op));
  const reduced = new Set(reductionNodes.map((n) => n.outputs[0]));
  const castOf = (v: Value) => {
    const def = body.nodes.find((n) => n.outputs[0] === v);
    return def?.op === 'cast' && isScalarCastToFloat32(body, def.inputs[0]) ? def.inputs[0] : undefined;
  };
  const scalarCasts = body.outputs.flatMap((v, o) => {
    const from = castOf(v);
    return from ? [[o, body.inputs.indexOf(from)] as const] : [];
  });
  const outValues = [...new Set(body.outputs.filter((v) => !reduced.has(v) && !castOf(v)))];
  const outputs = outValues.map((v) => body.outputs.indexOf(v));
  const slots = inputs.length + outValues.length + reductionNodes.length;
  const c = new Code(new Array<typeof I32>(slots + 1).fill(I32));
  const vectors = slots;
  const m = new VecMath(c, fma);
  const off = c.local(I32);
  const end = c.local(I32);
  const load = (slot: number) => {
    c.get(slot).get(off).add().v128Load(0);
    const l = c.local(V128);
    c.set(l);
    return l;
  };
  const store = (slot: number, value: number) => c.get(slot).get(off).add().get(value).v128Store(0);
  const local = new Map<Value, number>();
  const uniform = inputs.map(({ i }) => uniformInput(i));
  // Uniform inputs and constants once per call, before the loop.
  inputs.forEach(({ v }, s) => {
    if (!uniform[s]) return;
    c.get(s).load32Splat(0);
    const l = c.local(V128);
    c.set(l);
    local.set(v, v.type.dtype === 'bool' ? m.ne(l, m.k(0)) : l);
  });
  const constant = (n: Node) => n.op === 'full';
  for (const n of body.nodes) if (constant(n)) local.set(n.outputs[0], fullOf(m, n));
  const loopStart = c.bytes.length;
  c.get(vectors).i32(16).mul().set(end);
  c.i32(0).set(off);
  c.block().get(end).eqz().brIf(0).loop();
  inputs.forEach(({ v }, s) => {
    if (!uniform[s]) local.set(v, v.type.dtype === 'bool' ? m.ne(load(s), m.k(0)) : load(s));
  });
  for (const n of body.nodes) {
    if (constant(n) || reduced.has(n.outputs[0])) continue;
    local.set(n.outputs[0], lowerNode(m, n, n.inputs.map((v) => local.get(v)!)));
  }
  // A bool output is stored as 1.0 / 0.0; the copy out of the slot converts it to bytes.
  outValues.forEach((v, q) => store(inputs.length + q, v.type.dtype === 'bool' ? m.and(local.get(v)!, m.k(1)) : local.get(v)!));
  reductionNodes.forEach((n, r) => store(inputs.length + outValues.length + r, local.get(n.inputs[0])!));
  c.inc(off, 16).get(off).get(end).ltU().brIf(0).end().end();
  m.hoistConstants(loopStart);
  return {
    bytes: encodeModule([{ name: 'run', code: c }], 1, memory), inputs: inputs.map(({ i }) => i), uniform, outputs,
    reductions: reductionNodes.map((n) => ({ op: n.op, axes: n.attrs.axes as number[], node: body.nodes.indexOf(n) })),
    heavy: body.nodes.some((n) => HEAVY_VECTOR_OPS.has(n.op)),
    scalarCasts,
  };
}

function fullOf(m: VecMath, n: Node): number {
  const dtype = n.outputs[0].type.dtype;
  const value = fullValue(n.attrs.value as number, dtype);
  if (dtype === 'bool') return m.ki(value ? -1 : 0);
  return m.k(value);
}

/** The vector code of one node over its operands' locals; returns the result's local. */
function lowerNode(m: VecMath, n: Node, a: readonly number[]): number {
  const [x, y, z] = a;
  switch (n.op) {
    case 'broadcastTo': return x;
    case 'add': return m.add(x, y);
    case 'sub': return m.sub(x, y);
    case 'mul': return m.mul(x, y);
    case 'div': return m.div(x, y);
    case 'maximum': return m.max(x, y);
    case 'minimum': return m.min(x, y);
    case 'pow': return m.mul(x, x); // only x² lowers (whyNotLowerable)
    case 'neg': return m.neg(x);
    case 'abs': return m.abs(x);
    // x < 0 ? 0 : x keeps -0 and NaN, as the reference does.
    case 'relu': return m.select(m.lt(x, m.k(0)), m.k(0), x);
    case 'sign': return m.or(m.and(m.gt(x, m.k(0)), m.k(1)), m.and(m.lt(x, m.k(0)), m.k(-1)));
    case 'floor': return m.floor(x);
    case 'ceil': return m.ceil(x);
    case 'round': return m.nearest(x);
    case 'sqrt': return m.sqrt(x);
    case 'rsqrt': return m.rsqrt(x);
    case 'reciprocal': return m.div(m.k(1), x);
    case 'exp': return m.exp(x);
    case 'log': return m.log(x);
    case 'tanh': return m.tanh(x);
    case 'sigmoid': return m.sigmoid(x);
    case 'expm1': return m.expm1(x);
    case 'log1p': return m.log1p(x);
    case 'erf': return m.erf(x);
    case 'eq': return m.eq(x, y);
    case 'ne': return m.ne(x, y);
    case 'lt': return m.lt(x, y);
    case 'le': return m.le(x, y);
    case 'gt': return m.gt(x, y);
    case 'ge': return m.ge(x, y);
    case 'isNaN': return m.ne(x, x);
    case 'logicalNot': return m.not(x);
    case 'logicalAnd': return m.and(x, y);
    case 'logicalOr': return m.or(x, y);
    case 'where': return m.select(x, y, z);
    case 'cast': {
      const from = n.inputs[0].type.dtype;
      const to = n.outputs[0].type.dtype;
      if (from === to || from === 'float64' || from === 'int32') return x; // scalars rounded into their slot (isScalarCastToFloat32)
      if (to === 'bool') return m.ne(x, m.k(0));
      return m.and(x, m.k(1)); // bool mask → 1.0 / 0.0
    }
  }
  throw new Error(`wasm elementwise: no vector code for '${n.op}'`);
}

import { ArgumentError, ShapeError } from '../errors.js';
import type { Graph, Value } from '../ir/graph.js';
import { formatType } from '../ir/printer.js';
import type { Shape } from '../shape.js';
import { broadcastShapes, shapesEqual, shapeToString, sizeOf } from '../shape.js';
import type { OpDef, PrimitiveDef, TensorType } from './op.js';

/**
 * Fused ops: nodes made by the runtime's fusion passes, never by user code. Each carries its
 * computation as a sub-graph in `node.subgraphs[0]` (the body), whose inputs stand for the
 * node's inputs in order and whose outputs are the node's outputs. The body is a real graph of
 * primitives, so a fused node means exactly "run the body": the verifier checks it like any
 * graph, and the node's output types are the body's (`bodyTypes`). Fused nodes have no attrs
 * (the graph serialises as before) and no gradient: fusion runs on final graphs.
 */

/** Elementwise primitives a fused body may hold (plus `broadcastTo` and scalar-or-filled `full`). */
export const FUSIBLE_ELEMENTWISE_OPS: ReadonlySet<string> = new Set([
  'neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'reciprocal', 'sin', 'cos', 'tanh',
  'sigmoid', 'relu', 'erf', 'floor', 'ceil', 'round', 'logicalNot', 'isNaN', 'cast',
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod', 'eq', 'ne', 'lt', 'le', 'gt', 'ge',
  'logicalAnd', 'logicalOr', 'where', 'broadcastTo', 'full',
]);

/** Reductions a fused elementwise body may end in (their results are not read inside the body). */
export const FUSIBLE_REDUCTIONS: ReadonlySet<string> = new Set(['sum', 'prod', 'max', 'min']);

const BODY_DOC = 'its output types come from its body (node.subgraphs[0]); fused nodes are made by the fusion passes, not by the op surface';

function noRule(name: string): () => never {
  return () => {
    throw new ArgumentError(`${name}: ${BODY_DOC}`);
  };
}

/** Checks the body's count, inputs and outputs against the node's inputs; returns the body. */
function bodyOf(op: string, inputs: readonly TensorType[], bodies: readonly Graph[]): Graph {
  if (bodies.length !== 1) throw new ArgumentError(`${op}: needs exactly one body sub-graph, got ${bodies.length}`);
  const body = bodies[0];
  if (body.inputs.length !== inputs.length) {
    throw new ArgumentError(`${op}: the node has ${inputs.length} inputs but its body takes ${body.inputs.length}`);
  }
  body.inputs.forEach((v, i) => {
    const t = inputs[i];
    if (v.type.dtype !== t.dtype || !shapesEqual(v.type.shape, t.shape)) {
      throw new ArgumentError(`${op}: input ${i} is ${formatType(t)} but body input ${i} is ${formatType(v.type)}`);
    }
  });
  if (body.outputs.length === 0) throw new ArgumentError(`${op}: the body returns nothing`);
  const inputSet = new Set(body.inputs);
  body.outputs.forEach((v, i) => {
    if (inputSet.has(v)) throw new ArgumentError(`${op}: body output ${i} is a body input; fused outputs must be computed by the body`);
  });
  return body;
}

/**
 * The iteration domain of an elementwise body: the shape every elementwise value broadcasts to
 * and every reduction reads. Throws an ArgumentError or ShapeError naming the node that breaks
 * the fused body's rules: only fusible ops; reductions read a value of the domain's shape and
 * are read by nothing inside the body; `skip` values (matmul operands) are not elementwise.
 *
 * @example
 * ```ts
 * fusedDomain(body, 'fusedElementwise'); // [1024, 64]
 * ```
 */
export function fusedDomain(body: Graph, op: string, skip: ReadonlySet<Value> = new Set(), first = 0): Shape {
  const reduced = new Set<Value>();
  const shapes: Shape[] = body.inputs.filter((v) => !skip.has(v)).map((v) => v.type.shape);
  // Values made before `first` (a matmulEpilogue's product) are inputs of the epilogue too.
  for (let n = 0; n < first; n++) body.nodes[n].outputs.forEach((v) => shapes.push(v.type.shape));
  for (let n = first; n < body.nodes.length; n++) {
    const node = body.nodes[n];
    const at = `${op}: body node ${n} (${node.op})`;
    if (!FUSIBLE_ELEMENTWISE_OPS.has(node.op) && !FUSIBLE_REDUCTIONS.has(node.op)) {
      throw new ArgumentError(`${at}: is not an elementwise op or a trailing reduction, so it cannot be fused`);
    }
    node.inputs.forEach((v, i) => {
      if (reduced.has(v)) throw new ArgumentError(`${at}: input ${i} is the result of a reduction in the same body; a reduction must end the fused computation`);
      if (skip.has(v)) throw new ArgumentError(`${at}: input ${i} is a matmul operand; the epilogue may read the matmul's result and other inputs only`);
    });
    if (FUSIBLE_REDUCTIONS.has(node.op)) node.outputs.forEach((v) => reduced.add(v));
    else node.outputs.forEach((v) => shapes.push(v.type.shape));
  }
  const domain = broadcastShapes(shapes, op);
  for (let n = first; n < body.nodes.length; n++) {
    const node = body.nodes[n];
    if (FUSIBLE_REDUCTIONS.has(node.op) && !shapesEqual(node.inputs[0].type.shape, domain)) {
      throw new ShapeError(`${op}: body node ${n} (${node.op}) reduces a ${shapeToString(node.inputs[0].type.shape)} value, but the fused domain is ${shapeToString(domain)}; a fused reduction must read the whole domain`);
    }
    // A kernel computes values per element of the domain (constants once): an empty one computes none.
    const computed = (v: Value) => sizeOf(v.type.shape) > 0 && (node.op !== 'full' || body.outputs.includes(v));
    if (!FUSIBLE_REDUCTIONS.has(node.op) && sizeOf(domain) === 0 && node.outputs.some(computed)) {
      throw new ShapeError(`${op}: body node ${n} (${node.op}) makes a ${shapeToString(node.outputs[0].type.shape)} value, but the fused domain ${shapeToString(domain)} is empty; an empty domain computes no elements`);
    }
  }
  return domain;
}

/**
 * `fusedElementwise(...inputs)`: runs its body, a chain of elementwise ops over one domain
 * (broadcasts included) that may end in reductions of that whole domain.
 *
 * @example
 * ```text
 * %0: f32[64,256], %1: f32[64] = fusedElementwise %x %bias
 *     body0(%arg0: f32[64,256], %arg1: f32[256]) { add, tanh, sum {axes=[1]} … return … }
 * ```
 */
export const FUSED_ELEMENTWISE: PrimitiveDef = {
  kind: 'primitive', name: 'fusedElementwise', inputs: ['...inputs'], attrs: {},
  doc: 'A fused chain of elementwise ops, broadcasts and trailing reductions, run as one kernel; the computation is the body sub-graph.',
  shape: noRule('fusedElementwise'),
  dtype: noRule('fusedElementwise'),
  differentiable: false,
  bodyTypes: (inputs, _attrs, bodies) => {
    const body = bodyOf('fusedElementwise', inputs, bodies);
    fusedDomain(body, 'fusedElementwise');
    return body.outputs.map((v) => v.type);
  },
};

/** Whether `axes` (a permute's attr) swaps the last two axes and keeps the others in place. */
export function swapsLastTwoAxes(axes: readonly number[]): boolean {
  const r = axes.length;
  return r >= 2 && axes[r - 2] === r - 1 && axes[r - 1] === r - 2 && axes.slice(0, -2).every((a, i) => a === i);
}

/** A matmulEpilogue body taken apart: which operands are read transposed, and the body without the transposes. */
export interface MatmulEpilogueParts {
  /** Body input 0 holds Aᵀ: the body starts by swapping its last two axes. */
  readonly transA: boolean;
  /** Body input 1 holds Bᵀ. */
  readonly transB: boolean;
  /**
   * The body with those permutes removed: `matmul(a, b)` of two fresh inputs of the logical
   * operand types, then the epilogue (the same nodes and values), and the other inputs unchanged.
   */
  readonly normalized: Graph;
}

const partsCache = new WeakMap<Graph, MatmulEpilogueParts>();

/**
 * Splits a matmulEpilogue body: optional leading `permute`s that swap the last two axes of body
 * input 0 and/or 1 (a transposed operand the kernel may read in place), then
 * `matmul(input 0 or its transpose, input 1 or its transpose)`, then the epilogue. Throws an
 * ArgumentError for any other start. Cached per body.
 *
 * @example
 * ```ts
 * // body(%a: f32[784,128], %b: f32[128,512]) { %t = permute %a {axes=[1,0]}; %p = matmul %t %b }
 * matmulEpilogueParts(body); // { transA: true, transB: false, normalized: body(%a': f32[128,784], %b) { matmul } }
 * ```
 */
export function matmulEpilogueParts(body: Graph): MatmulEpilogueParts {
  const cached = partsCache.get(body);
  if (cached) return cached;
  const [in0, in1] = body.inputs;
  const operand = new Map<Value, number>([[in0, 0], [in1, 1]]);
  const trans = [false, false];
  let at = 0;
  for (; at < body.nodes.length && body.nodes[at].op === 'permute'; at++) {
    const node = body.nodes[at];
    const which = operand.get(node.inputs[0]);
    if (which === undefined || trans[which] || !swapsLastTwoAxes(node.attrs.axes as number[])) {
      throw new ArgumentError(`matmulEpilogue: body node ${at} (permute) must swap the last two axes of input 0 or 1, once each, before the matmul`);
    }
    trans[which] = true;
    operand.delete(node.inputs[0]);
    operand.set(node.outputs[0], which);
  }
  const mm = body.nodes[at];
  if (!mm || mm.op !== 'matmul' || operand.get(mm.inputs[0]) !== 0 || operand.get(mm.inputs[1]) !== 1) {
    throw new ArgumentError('matmulEpilogue: the body must start with matmul of its first two inputs (each possibly transposed by a permute of its last two axes)');
  }
  const a = at === 0 ? in0 : mm.inputs[0];
  const b = at === 0 ? in1 : mm.inputs[1];
  const normalized: Graph = at === 0 ? body : {
    inputs: [a, b, ...body.inputs.slice(2)],
    nodes: body.nodes.slice(at),
    outputs: body.outputs,
  };
  const parts = { transA: trans[0], transB: trans[1], normalized };
  partsCache.set(body, parts);
  return parts;
}

/**
 * `matmulEpilogue(a, b, ...epilogue)`: runs its body, `matmul(a, b)` followed by elementwise ops
 * over the product's shape (and possibly reductions of it), reading the other inputs. The body
 * may begin by transposing a and/or b (a `permute` of the last two axes, absorbed from the
 * graph so the kernel reads the operand in place; see `matmulEpilogueParts`); the epilogue may
 * then be empty.
 *
 * @example
 * ```text
 * %0: f32[128,512] = matmulEpilogue %x %w %b
 *     body0(%arg0: f32[128,784], %arg1: f32[784,512], %arg2: f32[512]) { matmul, add, relu }
 * ```
 */
export const MATMUL_EPILOGUE: PrimitiveDef = {
  kind: 'primitive', name: 'matmulEpilogue', inputs: ['a', 'b', '...epilogue'], attrs: {},
  doc: 'A matmul (of operands possibly transposed in place) followed by elementwise ops on its result (bias, activation, a trailing reduction), run as one kernel; the computation is the body sub-graph.',
  shape: noRule('matmulEpilogue'),
  dtype: noRule('matmulEpilogue'),
  differentiable: false,
  bodyTypes: (inputs, _attrs, bodies) => {
    const body = bodyOf('matmulEpilogue', inputs, bodies);
    const { normalized } = matmulEpilogueParts(body);
    const first = normalized.nodes[0];
    const mm = first.outputs[0].type.shape;
    // The operands (and their transposes) are not elementwise inputs of the epilogue.
    const skip = new Set([normalized.inputs[0], normalized.inputs[1], body.inputs[0], body.inputs[1]]);
    const domain = fusedDomain(normalized, 'matmulEpilogue', skip, 1);
    if (!shapesEqual(domain, mm)) {
      throw new ShapeError(`matmulEpilogue: the epilogue's domain ${shapeToString(domain)} differs from the matmul result ${shapeToString(mm)}; it must be computed per element of the product`);
    }
    return body.outputs.map((v) => v.type);
  },
};

export const fusedDefs: readonly OpDef[] = [FUSED_ELEMENTWISE, MATMUL_EPILOGUE];

import type { Graph, Node } from '@kiln/core';
import { fusedDomain, KilnError, shapesEqual, swapsLastTwoAxes, Value } from '@kiln/core';
import type { Pass, PassContext } from '../passes/pass.js';
import { NO_CONTEXT } from '../passes/pass.js';
import { fuseNodes } from './build.js';
import { usesOf } from './elementwise.js';
import { isFusible } from './groups.js';
import { mapControlBodies } from '../control.js';

/**
 * The epilogue a matmul's only user computes, as a fusedElementwise node over the product's
 * shape, or undefined when it cannot be one (it broadcasts the product to a larger shape, or
 * is not elementwise).
 */
function epilogueOf(graph: Graph, user: Node, index: number, mm: Value, copied: number[]): Node | undefined {
  let fused = user;
  let constants: readonly number[] = [];
  if (user.op !== 'fusedElementwise') {
    if (!isFusible(user)) return undefined;
    const made = fuseNodes(graph, [index], 'fusedElementwise', () => true);
    fused = made.node;
    constants = made.copiedConstants;
  }
  const body = fused.subgraphs![0];
  try {
    if (!shapesEqual(fusedDomain(body, 'fusedElementwise'), mm.type.shape)) return undefined;
  } catch {
    return undefined;
  }
  copied.push(...constants);
  return fused;
}

/**
 * The permute node (index) that makes `v` by swapping its input's last two axes, if any: a
 * transposed matmul operand the fused kernel can read in place.
 */
function transposeOf(graph: Graph, producer: ReadonlyMap<Value, number>, v: Value): number | undefined {
  const at = producer.get(v);
  if (at === undefined) return undefined;
  const node = graph.nodes[at];
  return node.op === 'permute' && !node.subgraphs && swapsLastTwoAxes(node.attrs.axes as number[]) ? at : undefined;
}

/**
 * matmulEpilogue(a, b, …rest): the matmul — of the permutes' inputs, transposed in the body, where
 * `transposes` names them — then `epilogue`'s body reading the product where it read `mm`
 * (no epilogue: the body returns the product).
 */
function withMatmul(matmul: Node, epilogue: Node | undefined, transposes: readonly (Node | undefined)[]): Node {
  const mm = matmul.outputs[0];
  const body = epilogue?.subgraphs![0];
  const nodes: Node[] = [];
  const inputs: Value[] = [];
  const bodyInputs: Value[] = [];
  const operands = [0, 1].map((i) => {
    const t = transposes[i];
    const outer = t ? t.inputs[0] : matmul.inputs[i];
    const arg = new Value(outer.type);
    inputs.push(outer);
    bodyInputs.push(arg);
    if (!t) return arg;
    const swapped = new Value(t.outputs[0].type);
    nodes.push({ op: 'permute', inputs: [arg], attrs: t.attrs, outputs: [swapped] });
    return swapped;
  });
  const product = new Value(mm.type);
  nodes.push({ op: 'matmul', inputs: operands, attrs: {}, outputs: [product] });
  if (!epilogue || !body) {
    const loc = matmul.loc;
    return { op: 'matmulEpilogue', inputs, attrs: {}, outputs: matmul.outputs, subgraphs: [{ inputs: bodyInputs, nodes, outputs: [product] }], ...(loc ? { loc } : {}) };
  }
  const inner = new Map<Value, Value>();
  epilogue.inputs.forEach((v, k) => {
    if (v === mm) inner.set(body.inputs[k], product);
    else {
      const e = new Value(v.type);
      inputs.push(v);
      bodyInputs.push(e);
      inner.set(body.inputs[k], e);
    }
  });
  for (const n of body.nodes) {
    const outs = n.outputs.map((v) => new Value(v.type));
    n.outputs.forEach((v, i) => inner.set(v, outs[i]));
    nodes.push({ op: n.op, inputs: n.inputs.map((v) => inner.get(v)!), attrs: n.attrs, outputs: outs });
  }
  const outputs = body.outputs.map((v) => inner.get(v)!);
  if (outputs.some((v) => v === undefined)) throw new KilnError('fuse-matmul-epilogue: internal error: an epilogue output is not computed by its body');
  const loc = matmul.loc ?? epilogue.loc;
  return {
    op: 'matmulEpilogue', inputs, attrs: {}, outputs: epilogue.outputs,
    subgraphs: [{ inputs: bodyInputs, nodes, outputs }], ...(loc ? { loc } : {}),
  };
}

/** The type of `v` with its last two axes swapped, and the permute's axes that do it. */
function swappedType(v: Value): { type: Value['type']; axes: number[] } {
  const shape = v.type.shape;
  const r = shape.length;
  const axes = [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2];
  return { type: { dtype: v.type.dtype, shape: axes.map((a) => shape[a]) }, axes };
}

/**
 * `permute(matmul(a, b))` swapping the last two axes, where the permute is the product's only
 * reader, becomes `matmul(bᵀ, aᵀ)` — the gradient of a `Linear` weight, `(xᵀ g)ᵀ`, is then
 * `gᵀ x`, computed in the weight's layout with no permute of the product. Each operand transpose
 * cancels a permute that made it or is a new permute (absorbed in place below). Every element
 * sums the same products in the same k order, so results are bit-identical.
 */
function transposeProducts(graph: Graph): Graph {
  const { users, outputs } = usesOf(graph);
  const producer = new Map<Value, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((v) => producer.set(v, i)));
  const replaced = new Map<number, Node[]>();
  const removed = new Set<number>();
  graph.nodes.forEach((node, i) => {
    if (transposeOf(graph, producer, node.outputs[0]) !== i) return;
    const at = producer.get(node.inputs[0]);
    const mm = at === undefined ? undefined : graph.nodes[at];
    if (!mm || mm.op !== 'matmul' || mm.subgraphs || removed.has(at!)) return;
    const product = mm.outputs[0];
    if (outputs.has(product) || new Set(users.get(product) ?? []).size !== 1) return;
    const made: Node[] = [];
    const swap = (v: Value): Value => {
      const p = transposeOf(graph, producer, v);
      if (p !== undefined) return graph.nodes[p].inputs[0];
      const { type, axes } = swappedType(v);
      const t = new Value(type);
      made.push({ op: 'permute', inputs: [v], attrs: { axes }, outputs: [t] });
      return t;
    };
    const operands = [swap(mm.inputs[1]), swap(mm.inputs[0])];
    const loc = mm.loc ?? node.loc;
    replaced.set(i, [...made, { op: 'matmul', inputs: operands, attrs: {}, outputs: node.outputs, ...(loc ? { loc } : {}) }]);
    removed.add(at!);
  });
  if (replaced.size === 0) return graph;
  const nodes = graph.nodes.flatMap((n, i) => (removed.has(i) ? [] : replaced.get(i) ?? [n]));
  // Permutes whose only reader was a rewritten product are dead now.
  const read = new Set<Value>([...graph.outputs, ...nodes.flatMap((n) => n.inputs)]);
  return { inputs: graph.inputs, nodes: nodes.filter((n) => n.op !== 'permute' || read.has(n.outputs[0])), outputs: graph.outputs };
}

/**
 * Matmul epilogue fusion: a matmul whose result is read only by elementwise work over the
 * product's shape — a bias add and an activation, usually already one fusedElementwise node,
 * possibly ending in reductions (the row max of a softmax) — becomes one `matmulEpilogue` node whose body is the matmul followed by that work. The CPU
 * kernel applies the epilogue to each block of rows while it is in cache, so the product is
 * never stored. A `permute` swapping the last two axes of an operand (the backward pass's
 * `g @ Wᵀ`, `xᵀ @ g`) is absorbed into the body too, with or without an epilogue, so the kernel
 * packs the operand transposed in place instead of a permute kernel copying it first
 * (`matmulEpilogueParts`); a transposed product, `permute(matmul(a, b))`, is first rewritten as
 * `matmul(bᵀ, aᵀ)`. Run after `fuseElementwise`.
 *
 * @example
 * ```ts
 * fuseMatmulEpilogue(fuseElementwise(graph));
 * // %2 = matmulEpilogue %x %w %bias
 * //     body0(%arg0: f32[128,784], %arg1: f32[784,512], %arg2: f32[512]) { matmul, add, relu }
 * ```
 */
export function fuseMatmulEpilogue(graph: Graph, context: PassContext = NO_CONTEXT): Graph {
  graph = mapControlBodies(graph, (body) => fuseMatmulEpilogue(body, context)); // loop and branch bodies too
  graph = transposeProducts(graph);
  const { users, outputs } = usesOf(graph);
  const replacement = new Map<number, Node>();
  const removed = new Set<number>();
  const copied: number[] = [];
  const producer = new Map<Value, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((v) => producer.set(v, i)));
  const absorbed: number[] = [];
  graph.nodes.forEach((node, i) => {
    if (node.op !== 'matmul' || node.subgraphs) return;
    const mm = node.outputs[0];
    // Transposes of the last two axes feeding the product are read in place by the fused kernel.
    const transposes = node.inputs.map((v) => transposeOf(graph, producer, v));
    const readers = [...new Set(users.get(mm) ?? [])];
    const epilogue = !outputs.has(mm) && readers.length === 1 && !replacement.has(readers[0])
      ? epilogueOf(graph, graph.nodes[readers[0]], readers[0], mm, copied)
      : undefined;
    if (!epilogue && transposes.every((t) => t === undefined)) return;
    const permutes = transposes.map((t) => (t === undefined ? undefined : graph.nodes[t]));
    if (epilogue) replacement.set(readers[0], withMatmul(node, epilogue, permutes));
    else replacement.set(i, withMatmul(node, undefined, permutes));
    if (epilogue) removed.add(i);
    for (const t of transposes) if (t !== undefined) absorbed.push(t);
    context.note(epilogue ? 'matmul epilogue' : 'transposed matmul operand');
  });
  if (removed.size === 0 && replacement.size === 0) return graph;
  let nodes = graph.nodes.flatMap((n, i) => (removed.has(i) ? [] : [replacement.get(i) ?? n]));
  // Transposes now read in place, and constants copied into epilogue bodies, read nowhere else are dropped.
  const read = new Set<Value>([...graph.outputs, ...nodes.flatMap((n) => n.inputs)]);
  const dead = new Set([...copied, ...absorbed].map((c) => graph.nodes[c]).filter((n) => !read.has(n.outputs[0])));
  if (dead.size) nodes = nodes.filter((n) => !dead.has(n));
  return { inputs: graph.inputs, nodes, outputs: graph.outputs };
}

export const FUSE_MATMUL_EPILOGUE: Pass = {
  name: 'fuse-matmul-epilogue',
  doc: 'fuse a matmul with the elementwise ops that read only its result (bias, activation), and with permutes of the last two axes of its operands, into a matmulEpilogue node',
  run: fuseMatmulEpilogue,
};

import { itemSize } from '../dtype.js';
import type { Graph, Node } from '../ir/graph.js';
import { FUSIBLE_ELEMENTWISE_OPS, FUSIBLE_REDUCTIONS } from '../ops/fused.js';
import { inferTypes } from '../ops/infer.js';
import type { Interpreter } from '../ops/interpreter.js';
import type { Attrs, OpDef, TensorType } from '../ops/op.js';
import { createOps } from '../ops/surface.js';
import { getOp, hasOp } from '../ops/table.js';
import { sizeOf } from '../shape.js';

/**
 * What an op costs, for the profiler: floating-point operations and bytes moved, as functions
 * of (op, input types, output types, attrs). One table for every primitive; a composite costs
 * what its expansion costs; a fused kernel what its body costs. `undefined` where a FLOP count
 * means nothing (data movement: reshape, permute, gather, concat, random bits, creation).
 */

type FlopRule = (inputs: readonly TensorType[], outputs: readonly TensorType[], attrs: Attrs) => number;

const size = (t: TensorType | undefined): number => (t ? sizeOf(t.shape) : 0);
const perOutput: FlopRule = (_i, o) => size(o[0]);
const perInput: FlopRule = (i) => size(i[0]);
const pooled: FlopRule = (_i, o, a) => size(o[0]) * kernelArea(a);

function kernelArea(attrs: Attrs): number {
  const k = attrs.kernelSize;
  return Array.isArray(k) ? k.reduce((p: number, d: number) => p * d, 1) : 1;
}

/** Multiply-adds of a convolution, counted as 2 FLOPs: per element of `big`, one per weight of an output channel. */
const convFlops = (big: TensorType, weight: TensorType): number => (weight.shape[0] ? (2 * size(big) * size(weight)) / weight.shape[0] : 0);

const FLOP_RULES: ReadonlyMap<string, FlopRule> = new Map<string, FlopRule>([
  // Elementwise ops (cast moves data, broadcastTo and full make it): one FLOP per output element.
  ...[...FUSIBLE_ELEMENTWISE_OPS].filter((op) => op !== 'cast' && op !== 'broadcastTo' && op !== 'full').map((op): [string, FlopRule] => [op, perOutput]),
  // Reductions and scans: one per element read.
  ...[...FUSIBLE_REDUCTIONS, 'argmax', 'argmin', 'cumsum'].map((op): [string, FlopRule] => [op, perInput]),
  // matmul: 2·m·k·n per batch; the output holds batch·m·n elements and k is a's last axis.
  ['matmul', (i, o) => 2 * size(o[0]) * (i[0].shape.length ? i[0].shape[i[0].shape.length - 1] : 1)],
  ['conv2d', (i, o) => convFlops(o[0], i[1])],
  ['conv2dTranspose', (i) => convFlops(i[0], i[1])],
  ['conv2dWeightGrad', (i, o) => convFlops(i[1], o[0])],
  ['maxPool2d', pooled],
  ['maxPool2dIndices', pooled],
  ['avgPool2d', pooled],
  ['avgPool2dGrad', (i, _o, a) => size(i[0]) * kernelArea(a)],
  ['scatterAdd', (i) => size(i[2])],
]);

/** Counts the FLOPs of every primitive a composite expands to (nested composites too). */
class FlopCounter implements Interpreter<TensorType> {
  total = 0;
  defined = false;
  readonly ops = createOps<TensorType>(this);
  bind(op: OpDef, inputs: readonly TensorType[], attrs: Attrs): TensorType[] {
    if (op.kind === 'composite') return op.expand(this.ops, inputs, attrs, (t) => t);
    const outputs = inferTypes(op, inputs, attrs);
    const rule = FLOP_RULES.get(op.name);
    if (rule) {
      this.total += rule(inputs, outputs, attrs);
      this.defined = true;
    }
    return outputs;
  }
  typeOf = (t: TensorType): TensorType => t;
  scalar = (_value: number, dtype: TensorType['dtype']): TensorType => ({ dtype, shape: [] });
  randomKey = (): TensorType => ({ dtype: 'int32', shape: [2] });
  isValue = (x: unknown): x is TensorType => typeof x === 'object' && x !== null && 'dtype' in x && 'shape' in x;
}

const compositeCache = new Map<string, number | undefined>();

/** FLOPs of a graph's nodes (a fused kernel's body), or undefined when none has a count. */
function bodyFlops(body: Graph): number | undefined {
  let total: number | undefined;
  for (const node of body.nodes) {
    const f = opFlops(node.op, node.inputs.map((v) => v.type), node.outputs.map((v) => v.type), node.attrs, node.subgraphs);
    if (f !== undefined) total = (total ?? 0) + f;
  }
  return total;
}

/**
 * Floating-point operations of one run of `op` on inputs of these types: matmul 2·m·k·n,
 * convolutions 2 per multiply-add, elementwise ops 1 per output element, reductions 1 per element
 * read, pooling one per window element; a composite the sum over its expansion, a fused kernel
 * the sum over its body. `undefined` for ops that only move or make data, and for control flow
 * (its sub-graph nodes are counted where they run).
 *
 * @example
 * ```ts
 * const f32 = (...shape: number[]) => ({ dtype: 'float32' as const, shape });
 * opFlops('matmul', [f32(64, 128), f32(128, 32)], [f32(64, 32)], {}); // 524288 = 2·64·128·32
 * ```
 */
export function opFlops(op: string, inputs: readonly TensorType[], outputs: readonly TensorType[], attrs: Attrs, subgraphs?: readonly Graph[]): number | undefined {
  const rule = FLOP_RULES.get(op);
  if (rule) return rule(inputs, outputs, attrs);
  if ((op === 'fusedElementwise' || op === 'matmulEpilogue') && subgraphs?.[0]) return bodyFlops(subgraphs[0]);
  if (!hasOp(op)) return undefined;
  const def = getOp(op);
  if (def.kind !== 'composite') return undefined;
  const key = `${op}|${inputs.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(';')}|${JSON.stringify(attrs)}`;
  if (compositeCache.has(key)) return compositeCache.get(key);
  const counter = new FlopCounter();
  let flops: number | undefined;
  try {
    counter.bind(def, inputs, attrs);
    flops = counter.defined ? counter.total : undefined;
  } catch {
    flops = undefined; // a composite whose expansion needs values (not only types) has no count
  }
  if (compositeCache.size > 4096) compositeCache.clear();
  compositeCache.set(key, flops);
  return flops;
}

/**
 * Bytes a kernel reads and writes: every input and output once, at its dtype's size.
 * Control-flow nodes count only through their sub-graphs' nodes. (A `reshape`, eager or a
 * graph's node, is a view that moves nothing: the profiler records it with `bytes: 0`.)
 *
 * @example
 * ```ts
 * opBytes('add', [f32(1024), f32(1024)], [f32(1024)]); // 12288
 * ```
 */
export function opBytes(op: string, inputs: readonly TensorType[], outputs: readonly TensorType[]): number {
  if (op === 'cond' || op === 'whileLoop' || op === 'scan') return 0;
  let bytes = 0;
  for (const t of inputs) bytes += size(t) * itemSize(t.dtype);
  for (const t of outputs) bytes += size(t) * itemSize(t.dtype);
  return bytes;
}

/** Body ops left out of a fused kernel's name: they only broadcast or make constants. */
const UNNAMED_IN_FUSED = new Set(['broadcastTo', 'full']);
const MAX_NAMED_BODY_OPS = 6;

/**
 * The name the profiler gives a graph node: its op, or for a fused kernel the ops of its body
 * (`fused[mul,add,tanh]`, the first six, then `…`).
 *
 * @example
 * ```ts
 * nodeName(fusedNode); // 'fused[matmul,add,relu]'
 * ```
 */
export function nodeName(node: Pick<Node, 'op' | 'subgraphs'>): string {
  if ((node.op !== 'fusedElementwise' && node.op !== 'matmulEpilogue') || !node.subgraphs?.[0]) return node.op;
  const ops = node.subgraphs[0].nodes.map((n) => n.op).filter((op) => !UNNAMED_IN_FUSED.has(op));
  const shown = ops.slice(0, MAX_NAMED_BODY_OPS).join(',');
  return `fused[${shown}${ops.length > MAX_NAMED_BODY_OPS ? ',…' : ''}]`;
}

import type { Attrs, Backend, Graph, KernelInput, Node, TensorType, Value } from '@kiln/core';
import { getOp, sizeOf } from '@kiln/core';
import type { Pass, PassContext } from './pass.js';
import { NO_CONTEXT } from './pass.js';
import { GraphRewriter } from './rewrite.js';
import { ELEMENTWISE_OPS, RANDOM_OPS, SOURCE_OPS, uniformValue } from './values.js';

/** Shape ops that turn a uniform tensor into a uniform tensor of their output's shape. */
const UNIFORM_PRESERVING = new Set(['reshape', 'broadcastTo', 'permute', 'slice']);
const DEFAULT_MAX_FOLD_ELEMENTS = 4096;

/**
 * Constant folding: a node whose inputs all come from `full`, `constant`, `arange` or
 * `linspace` nodes is replaced by the value it computes.
 *
 * How values are computed (the choice: the runtime must not depend on a particular backend,
 * and folding must give exactly what running the graph would):
 * - Shape ops (reshape, broadcastTo, permute, slice) of a `full` (or of a `constant` whose
 *   elements are all equal) become a `full` of the new shape, and a reshape of a `constant`
 *   the same data in the new shape, with no backend.
 * - Everything else runs **on the backend given in the context** (`context.backend`, the one
 *   the graph will run on): the source nodes and the node itself are executed as they would be
 *   at run time and the result is read back, so folded values are bit-identical to unfolded
 *   ones. Elementwise ops over `full`s run on one element and become a `full` of the output
 *   shape, whatever its size; other nodes are folded when their inputs and output hold at most
 *   `context.maxFoldElements` (default 4096) elements, and become a `full` when every element
 *   is the same, else a `constant` (its data is stored in the graph).
 * - With no backend, or one that cannot read synchronously or lacks the kernel, only the shape
 *   cases fold. Random ops and control flow never fold.
 *
 * @example
 * ```ts
 * fold(graph, { note: () => {}, backend: cpu }); // `mul (full 2) (full 3)` → `full 6`
 * ```
 */
export function fold(graph: Graph, context: PassContext = NO_CONTEXT): Graph {
  const rw = new GraphRewriter(graph, 'fold-constants');
  const limit = context.maxFoldElements ?? DEFAULT_MAX_FOLD_ELEMENTS;
  const evaluator = context.backend ? new Evaluator(context.backend) : undefined;
  for (const original of graph.nodes) {
    const node = rw.remap(original);
    const sources = node.inputs.map((v) => rw.definer(v));
    const foldable = node.inputs.length > 0 && !node.subgraphs && !RANDOM_OPS.has(node.op) && !SOURCE_OPS.has(node.op) &&
      sources.every((s) => s !== undefined && SOURCE_OPS.has(s.op));
    const folded = foldable ? foldNode(node, sources as Node[], limit, evaluator) : undefined;
    if (!folded) {
      rw.keep(node);
      continue;
    }
    const out = node.outputs[0];
    const attrs: Attrs = folded.kind === 'full'
      ? { shape: [...out.type.shape], value: folded.value, dtype: out.type.dtype }
      : { shape: [...out.type.shape], dtype: out.type.dtype, data: folded.data };
    const [value] = rw.emit(folded.kind, [], attrs, node.loc);
    rw.replace(out, value);
    context.note(`folded ${node.op} → ${folded.kind}`);
  }
  return rw.build();
}

type Folded = { kind: 'full'; value: number } | { kind: 'constant'; data: number[] };

function foldNode(node: Node, sources: readonly Node[], limit: number, evaluator: Evaluator | undefined): Folded | undefined {
  if (node.outputs.length !== 1) return undefined;
  const out = node.outputs[0].type;
  const uniform = sources.map(uniformValue);
  if (UNIFORM_PRESERVING.has(node.op) && uniform[0] !== undefined) return { kind: 'full', value: uniform[0] };
  if (node.op === 'reshape' && sources[0].op === 'constant') return { kind: 'constant', data: [...(sources[0].attrs.data as readonly number[])] };
  if (!evaluator?.canRun(node.op)) return undefined;
  if (ELEMENTWISE_OPS.has(node.op) && sources.every((s) => s.op === 'full')) {
    // Every element is the op applied to the same operands: compute one.
    const scalarSources = sources.map((s) => ({ ...s, attrs: { ...s.attrs, shape: [] } }));
    const data = evaluator.evaluate(node, scalarSources, { dtype: out.dtype, shape: [] });
    return data && { kind: 'full', value: data[0] };
  }
  const sizes = [...node.inputs.map((v) => sizeOf(v.type.shape)), sizeOf(out.shape)];
  if (sizes.some((n) => n > limit)) return undefined;
  const data = evaluator.evaluate(node, sources, out);
  if (!data) return undefined;
  if (data.length > 0 && data.every((v) => Object.is(v, data[0]))) return { kind: 'full', value: data[0] };
  return { kind: 'constant', data };
}

/** Runs source nodes and one node on a backend and reads the result back. */
class Evaluator {
  private readable = true;
  constructor(private readonly backend: Backend<unknown>) {}

  canRun(op: string): boolean {
    return this.readable && this.backend.hasKernel(op);
  }

  evaluate(node: Node, sources: readonly Node[], outType: TensorType): number[] | undefined {
    const made: unknown[] = [];
    try {
      const inputs: KernelInput<unknown>[] = sources.map((s) => {
        const type = typeOf(s);
        const [storage] = this.backend.run(getOp(s.op), [], s.attrs, [type]);
        made.push(storage);
        return { storage, type };
      });
      const [result] = this.backend.run(getOp(node.op), inputs, node.attrs, [outType]);
      made.push(result);
      try {
        return Array.from(this.backend.readSync(result, outType));
      } catch {
        this.readable = false; // an asynchronous backend: fold only what needs no kernel
        return undefined;
      }
    } catch {
      return undefined; // the kernel rejected it: leave the node for run time, which reports it
    } finally {
      for (const s of made) this.backend.dispose(s);
    }
  }
}

/** A source node's output type (scalar sources have their shape overridden to []). */
function typeOf(source: Node): TensorType {
  const v: Value = source.outputs[0];
  const shape = source.attrs.shape as readonly number[] | undefined;
  return shape && source.op === 'full' ? { dtype: v.type.dtype, shape } : v.type;
}

export const FOLD_CONSTANTS: Pass = {
  name: 'fold-constants',
  doc: 'evaluate nodes whose inputs are all constants (on the target backend; shape ops of full without one)',
  run: fold,
};

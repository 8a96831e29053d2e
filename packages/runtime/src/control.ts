import type { Attrs, Backend, Graph, Node, ScanAttrs, TensorType, WhileLoopAttrs } from '@kiln/core';
import { getOp, isControlOp, KilnError } from '@kiln/core';

/** Runs a (sub-)graph: `executeGraph`, passed in to keep the modules acyclic. */
export type RunGraph = <S>(graph: Graph, backend: Backend<S>, inputs: readonly S[]) => S[];

/**
 * Whether the runtime runs this node itself (cond, whileLoop, scan) rather than a kernel.
 *
 * @example
 * ```ts
 * graph.nodes.filter(isControlNode).length; // how many control-flow nodes the graph holds
 * ```
 */
export function isControlNode(node: Node): boolean {
  return isControlOp(node.op);
}

/**
 * Runs a control-flow node by executing its sub-graphs: `cond` runs the branch its predicate
 * picks, `whileLoop` alternates its cond and body sub-graphs, `scan` runs its body once per
 * slice and stacks the ys. Inputs belong to the caller and are never freed; every output is new
 * storage the caller owns (a sub-graph output that is one of its inputs is copied), and every
 * intermediate carry or slice is freed as soon as it is replaced.
 *
 * @example
 * ```ts
 * const outs = runControlNode(node, backend, node.inputs.map((v) => env.get(v)!), executeGraph);
 * ```
 */
export function runControlNode<S>(node: Node, backend: Backend<S>, inputs: readonly S[], run: RunGraph): S[] {
  const bodies = node.subgraphs ?? [];
  const types = node.inputs.map((v) => v.type);
  const ctx = new Context(backend, run);
  if (node.op === 'cond') {
    const pred = backend.readSync(inputs[0], types[0])[0] !== 0;
    return ctx.call(bodies[pred ? 0 : 1], inputs.slice(1)).map((o) => ctx.own(o));
  }
  if (node.op === 'whileLoop') {
    const { condConsts, bodyConsts } = node.attrs as WhileLoopAttrs;
    const [test, body] = bodies;
    const condK = inputs.slice(0, condConsts);
    const bodyK = inputs.slice(condConsts, condConsts + bodyConsts);
    let carry: Held<S>[] = inputs.slice(condConsts + bodyConsts).map((s, i) => ({ storage: s, owned: false, type: types[condConsts + bodyConsts + i] }));
    for (;;) {
      const [p] = ctx.call(test, [...condK, ...carry.map((c) => c.storage)]);
      const go = backend.readSync(p.storage, p.type)[0] !== 0;
      ctx.free(p);
      if (!go) break;
      const next = ctx.call(body, [...bodyK, ...carry.map((c) => c.storage)]).map((o) => ({ ...o, storage: ctx.own(o), owned: true }));
      carry.forEach((c) => ctx.free(c));
      carry = next;
    }
    return carry.map((c) => ctx.own(c));
  }
  if (node.op === 'scan') return runScan(ctx, node, bodies[0], inputs, types);
  throw new KilnError(`runControlNode: '${node.op}' is not a control-flow op`);
}

/**
 * `graph` with `pass` applied to the sub-graphs of its control-flow nodes (recursively, as the
 * pass recurses): how a pass that works on one graph reaches loop and branch bodies. Returns
 * `graph` itself when no body changed.
 *
 * @example
 * ```ts
 * export function fuse(graph: Graph): Graph {
 *   graph = mapControlBodies(graph, fuse);
 *   …
 * }
 * ```
 */
export function mapControlBodies(graph: Graph, pass: (body: Graph) => Graph): Graph {
  let changed = false;
  const nodes = graph.nodes.map((node) => {
    if (!node.subgraphs || !isControlOp(node.op)) return node;
    const bodies = node.subgraphs.map((g) => pass(g));
    if (bodies.every((b, i) => b === node.subgraphs![i])) return node;
    changed = true;
    return { ...node, subgraphs: bodies };
  });
  return changed ? { ...graph, nodes } : graph;
}

/** A storage and whether this node made it (and so must free it). */
interface Held<S> {
  readonly storage: S;
  readonly owned: boolean;
  readonly type: TensorType;
}

class Context<S> {
  constructor(
    readonly backend: Backend<S>,
    private readonly run: RunGraph,
  ) {}

  /** Executes a sub-graph; each output says whether it is new storage or one of the inputs. */
  call(graph: Graph, inputs: readonly S[]): Held<S>[] {
    const outs = this.run(graph, this.backend, inputs);
    return outs.map((storage, i) => {
      const v = graph.outputs[i];
      const owned = !graph.inputs.includes(v) && graph.outputs.indexOf(v) === i;
      return { storage, owned, type: v.type };
    });
  }

  /** The storage, as new storage this node owns: copied unless it already is. */
  own(h: Held<S>): S {
    if (h.owned) return h.storage;
    return this.backend.run(getOp('reshape'), [{ storage: h.storage, type: h.type }], { shape: [...h.type.shape] }, [h.type])[0];
  }

  free(h: Held<S>): void {
    if (h.owned) this.backend.dispose(h.storage);
  }

  kernel(op: string, inputs: readonly Held<S>[], attrs: Attrs, out: TensorType): S {
    return this.backend.run(getOp(op), inputs.map((h) => ({ storage: h.storage, type: h.type })), attrs, [out])[0];
  }
}

function runScan<S>(ctx: Context<S>, node: Node, body: Graph, inputs: readonly S[], types: readonly TensorType[]): S[] {
  const { numConsts, numCarry, length, reverse } = node.attrs as ScanAttrs;
  const consts = inputs.slice(0, numConsts);
  let carry: Held<S>[] = inputs.slice(numConsts, numConsts + numCarry).map((s, i) => ({ storage: s, owned: false, type: types[numConsts + i] }));
  const xs: Held<S>[] = inputs.slice(numConsts + numCarry).map((s, i) => ({ storage: s, owned: false, type: types[numConsts + numCarry + i] }));
  const yTypes = node.outputs.slice(numCarry).map((v) => v.type);
  /** ys[j][i]: output j of step i, shaped [1, ...] for the final concat. */
  const ys: S[][] = yTypes.map(() => new Array<S>(length));
  for (let t = 0; t < length; t++) {
    const i = reverse ? length - 1 - t : t;
    const slices = xs.map((x) => sliceAt(ctx, x, i));
    const outs = ctx.call(body, [...consts, ...carry.map((c) => c.storage), ...slices.map((s) => s.storage)]);
    const next = outs.slice(0, numCarry).map((o) => ({ ...o, storage: ctx.own(o), owned: true }));
    // A y made in the body is kept as it is (storage has no shape: it is read as [1, ...y]).
    outs.slice(numCarry).forEach((o, j) => (ys[j][i] = ctx.own(o)));
    slices.forEach((s) => ctx.free(s));
    carry.forEach((c) => ctx.free(c));
    carry = next;
  }
  const stacked = yTypes.map((type, j) => {
    if (length === 0) return ctx.kernel('full', [], { shape: [...type.shape], value: 0, dtype: type.dtype }, type);
    const parts = ys[j].map((storage): Held<S> => ({ storage, owned: true, type: { dtype: type.dtype, shape: [1, ...type.shape.slice(1)] } }));
    const out = parts.length === 1 ? parts[0].storage : ctx.kernel('concat', parts, { axis: 0 }, type);
    if (parts.length > 1) parts.forEach((p) => ctx.free(p));
    return out;
  });
  return [...carry.map((c) => ctx.own(c)), ...stacked];
}

/** Slice `i` of `x` along axis 0, without that axis: new storage. */
function sliceAt<S>(ctx: Context<S>, x: Held<S>, i: number): Held<S> {
  const [n, ...rest] = x.type.shape;
  const one = { dtype: x.type.dtype, shape: [1, ...rest] };
  const starts = x.type.shape.map((_, a) => (a === 0 ? i : 0));
  const ends = x.type.shape.map((d, a) => (a === 0 ? i + 1 : d));
  const steps = x.type.shape.map(() => 1);
  if (n === undefined) throw new KilnError('scan: an xs input has no axis to slice');
  // The [1, ...rest] slice is the [...rest] slice's data: its storage serves as is (a view).
  return { storage: ctx.kernel('slice', [x], { starts, ends, steps }, one), owned: true, type: { dtype: x.type.dtype, shape: rest } };
}

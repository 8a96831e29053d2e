import type { DType, Graph, Node, Value } from '@kiln/core';
import { itemSize, sizeOf } from '@kiln/core';

/**
 * Primitive ops whose output is its input's contiguous data reinterpreted (same dtype, same
 * elements in the same order): the runtime gives the output its input's storage instead of
 * running a kernel. squeeze, unsqueeze and flatten are composites that lower to reshape.
 */
const VIEW_OPS: ReadonlySet<string> = new Set(['reshape']);

/** Whether `node` is a view: run by sharing its input's storage, no kernel. */
export function isViewNode(node: Node): boolean {
  return VIEW_OPS.has(node.op) && node.inputs.length === 1 && node.outputs.length === 1 && node.inputs[0].type.dtype === node.outputs[0].type.dtype &&
    sizeOf(node.inputs[0].type.shape) === sizeOf(node.outputs[0].type.shape);
}

/**
 * The view outputs of `graph` (see `isViewNode`), each with the value whose storage it shares:
 * its root, a node output that is no view or a graph input (chains of views are followed).
 *
 * @example
 * ```ts
 * viewRoots(graph).get(y); // x, for `y = reshape(reshape(x))`
 * ```
 */
export function viewRoots(graph: Graph): Map<Value, Value> {
  const roots = new Map<Value, Value>();
  for (const node of graph.nodes) {
    if (!isViewNode(node)) continue;
    const x = node.inputs[0];
    roots.set(node.outputs[0], roots.get(x) ?? x);
  }
  return roots;
}

/**
 * When each storage dies: for every value that owns storage (a node output that is no view, or
 * a graph input), the index of the last node that reads it or any view of it; `nodes.length`
 * when it or a view of it is a graph output. Views themselves have no entry; unread storage none.
 */
export function storageLastUses(graph: Graph, roots: ReadonlyMap<Value, Value>): Map<Value, number> {
  const last = new Map<Value, number>();
  graph.nodes.forEach((node, n) => node.inputs.forEach((v) => last.set(roots.get(v) ?? v, n)));
  for (const v of graph.outputs) last.set(roots.get(v) ?? v, graph.nodes.length);
  return last;
}

/**
 * Which buffer holds each value a graph computes, so that a value can be written into the
 * buffer of one that died before it (see `planMemory`), and the bytes this needs.
 */
export interface MemoryPlan {
  /** Buffer of each node output that is no view (graph inputs belong to the caller and have none). */
  readonly bufferOf: ReadonlyMap<Value, number>;
  /**
   * Views (reshape outputs) and the value whose storage each shares (see `viewRoots`): they
   * have no buffer; their root's buffer is held until the root and every view of it are dead.
   */
  readonly viewOf: ReadonlyMap<Value, Value>;
  /** The value written into a value's buffer after it dies, if any: keep the storage for it. */
  readonly nextOccupant: ReadonlyMap<Value, Value>;
  /** Byte size of each buffer. */
  readonly bufferBytes: readonly number[];
  /** Node outputs that reuse a dead value's buffer. */
  readonly reused: number;
  /** Every node output that is no view in a buffer of its own, none ever freed: the sum of their bytes. */
  readonly naiveBytes: number;
  /** The most bytes live at once when each value is freed after its last use (the lower bound). */
  readonly liveBytes: number;
  /** The most bytes the plan holds at once: live values plus freed buffers kept for a later value. */
  readonly plannedPeakBytes: number;
}

/**
 * Bytes of a tensor type.
 *
 * @example
 * ```ts
 * bytesOf({ dtype: 'float32', shape: [128, 512] }); // 262144
 * ```
 */
export function bytesOf(type: { readonly dtype: DType; readonly shape: readonly number[] }): number {
  return itemSize(type.dtype) * sizeOf(type.shape);
}

/** Options of `planMemory`. */
export interface PlanOptions {
  /**
   * `true` (default): views (reshape) share their input's storage and get no buffer (see
   * `viewRoots`); `false`: every node output gets a buffer, views included (a kernel copies).
   */
  readonly views?: boolean;
}

/**
 * Plans buffers for `graph` by liveness: a value lives from the node that computes it to the
 * last node that reads it or a view of it (graph outputs, and values a graph output views, to
 * the end); views get no buffer of their own. Nodes are walked in order; each output
 * takes the buffer of a value that died at an earlier node and had the same dtype and byte
 * size (the most recently freed), else a new buffer. A buffer freed at node n is offered from
 * node n + 1 on, so a kernel never writes over an input it is reading. Same dtype, not just
 * the same byte size: a storage object keeps its dtype (a typed array on CPU).
 *
 * @example
 * ```ts
 * const plan = planMemory(graph);
 * plan.plannedPeakBytes; // vs plan.naiveBytes
 * executeGraph(graph, backend, inputs, { memoryPlan: plan });
 * ```
 */
export function planMemory(graph: Graph, options: PlanOptions = {}): MemoryPlan {
  const viewOf = options.views === false ? new Map<Value, Value>() : viewRoots(graph);
  const lastUse = storageLastUses(graph, viewOf);
  const end = graph.nodes.length;

  const bufferOf = new Map<Value, number>();
  const nextOccupant = new Map<Value, Value>();
  const bufferBytes: number[] = [];
  const occupant: Value[] = [];
  const free = new Map<string, number[]>();
  const dying: Value[][] = Array.from({ length: end + 1 }, () => []);
  let reused = 0;
  let naiveBytes = 0;
  let live = 0;
  let liveBytes = 0;

  graph.nodes.forEach((node, n) => {
    for (const v of node.outputs) {
      if (viewOf.has(v)) continue;
      const bytes = bytesOf(v.type);
      const key = `${v.type.dtype}:${bytes}`;
      naiveBytes += bytes;
      live += bytes;
      const b = free.get(key)?.pop();
      if (b === undefined) {
        bufferOf.set(v, bufferBytes.length);
        occupant.push(v);
        bufferBytes.push(bytes);
      } else {
        nextOccupant.set(occupant[b], v);
        occupant[b] = v;
        bufferOf.set(v, b);
        reused++;
      }
      // A value nobody reads (a dead output of a multi-output node) dies where it is made.
      dying[lastUse.get(v) ?? n].push(v);
    }
    liveBytes = Math.max(liveBytes, live);
    for (const v of dying[n]) {
      const b = bufferOf.get(v)!;
      live -= bufferBytes[b];
      const key = `${v.type.dtype}:${bufferBytes[b]}`;
      if (!free.has(key)) free.set(key, []);
      free.get(key)!.push(b);
    }
  });
  // A buffer is held from its first value's node to its last value's death.
  const plannedPeakBytes = heldPeak(graph, bufferOf, nextOccupant, bufferBytes, lastUse);
  return { bufferOf, viewOf, nextOccupant, bufferBytes, reused, naiveBytes, liveBytes, plannedPeakBytes };
}

function heldPeak(graph: Graph, bufferOf: ReadonlyMap<Value, number>, next: ReadonlyMap<Value, Value>, bytes: readonly number[], lastUse: ReadonlyMap<Value, number>): number {
  const end = graph.nodes.length;
  const delta = new Array<number>(end + 2).fill(0);
  const firstOf = new Map<number, number>();
  graph.nodes.forEach((node, n) => {
    for (const v of node.outputs) {
      const b = bufferOf.get(v);
      if (b === undefined) continue; // a view
      if (!firstOf.has(b)) firstOf.set(b, n);
      if (!next.has(v)) {
        // The buffer's last value: held from the buffer's first node through this value's death.
        delta[firstOf.get(b)!] += bytes[b];
        delta[(lastUse.get(v) ?? n) + 1] -= bytes[b];
      }
    }
  });
  let held = 0;
  let peak = 0;
  for (let n = 0; n <= end; n++) {
    held += delta[n];
    peak = Math.max(peak, held);
  }
  return peak;
}

/**
 * The plan's figures as one line.
 *
 * @example
 * ```text
 * memory plan: 24 buffers for 96 values (72 reuse a dead buffer); peak 1.9 MB planned, 1.8 MB live at most, 6.1 MB without reuse
 * ```
 */
export function formatMemoryPlan(plan: MemoryPlan): string {
  const views = plan.viewOf.size > 0 ? `, ${plan.viewOf.size} views share their input's` : '';
  return `memory plan: ${plan.bufferBytes.length} buffers for ${plan.bufferOf.size} values (${plan.reused} reuse a dead buffer${views}); ` +
    `peak ${formatBytes(plan.plannedPeakBytes)} planned, ${formatBytes(plan.liveBytes)} live at most, ${formatBytes(plan.naiveBytes)} without reuse`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

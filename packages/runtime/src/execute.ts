import type { Backend, Graph, Node, Value } from '@kiln/core';
import { ArgumentError, getOp, KilnError } from '@kiln/core';
import type { MemoryPlan } from './memory_plan.js';
import { planMemory, storageLastUses, viewRoots } from './memory_plan.js';
import { printNode } from './print_node.js';
import { isControlNode, runControlNode, type RunGraph } from './control.js';

/** An error raised while running a graph, naming the node (and the user's source line when recorded). */
export class GraphExecutionError extends KilnError {
  constructor(
    message: string,
    readonly node: Node,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** How `executeGraph` manages memory. */
export interface ExecuteOptions {
  /**
   * Buffer reuse by liveness: `true` (default) plans once per graph (cached) and writes each
   * value into the buffer of one that died earlier when the plan says so; a `MemoryPlan` made
   * by `planMemory(graph)` is used as given (its views too); `false` makes every value new
   * storage, except views when `views` allows them.
   */
  readonly memoryPlan?: MemoryPlan | boolean;
  /**
   * `true` (default): reshape nodes run no kernel, their output shares its input's storage (see
   * `viewRoots`; a given `memoryPlan` decides this itself). `false`: every reshape copies.
   */
  readonly views?: boolean;
  /**
   * Told of each node after it ran, with its start and end in milliseconds (`performance.now()`
   * here; a backend with device timestamps may report those later): how profilers see a graph.
   * Nodes of control-flow sub-graphs are reported too, before the node that ran them. Absent,
   * nothing is timed.
   */
  readonly onNode?: (node: Node, startMs: number, endMs: number) => void;
}

const plans = new WeakMap<Graph, MemoryPlan>();
const plansWithoutViews = new WeakMap<Graph, MemoryPlan>();

/**
 * The memory plan `executeGraph` uses for `graph` by default (made once, then cached);
 * `views: false` gives the plan it uses with that option.
 *
 * @example
 * ```ts
 * memoryPlanFor(graph).plannedPeakBytes;
 * ```
 */
export function memoryPlanFor(graph: Graph, views = true): MemoryPlan {
  const cache = views ? plans : plansWithoutViews;
  let plan = cache.get(graph);
  if (!plan) cache.set(graph, (plan = planMemory(graph, { views })));
  return plan;
}

/**
 * Runs `graph` on `backend`, node by node, and returns the storage of each output. Inputs are
 * the storages of `graph.inputs`, in order, owned by the caller and never freed or written here.
 * A reshape node runs no kernel: its output shares its input's storage (a view). Every other
 * storage is released right after the last use of it or of a view of it: freed, or, when the
 * memory plan gives its buffer to a later value, offered to the backend as that value's output
 * storage. An output that is a graph input (or that appears twice) is returned as that same
 * storage: check `ownsOutput` before freeing; every output `ownsOutput` accepts is storage of
 * its own (an output that views a graph input or another output's storage is copied here). If
 * a node fails, everything made so far is freed.
 *
 * @example
 * ```ts
 * const [y] = executeGraph(graph, cpu, [xStorage]);
 * ```
 */
export function executeGraph<S>(graph: Graph, backend: Backend<S>, inputs: readonly S[], options: ExecuteOptions = {}): S[] {
  if (inputs.length !== graph.inputs.length) {
    throw new KilnError(`executeGraph: the graph takes ${graph.inputs.length} inputs, got ${inputs.length}`);
  }
  const setting = options.memoryPlan ?? true;
  const views = options.views ?? true;
  const plan = setting === true ? memoryPlanFor(graph, views) : setting === false ? undefined : setting;
  if (typeof setting === 'object' && graph.nodes.some((node) => node.outputs.some((v) => !setting.bufferOf.has(v) && !setting.viewOf.has(v)))) {
    throw new ArgumentError('executeGraph: the memory plan was made for another graph (planMemory(graph) plans one graph; passes make new graphs)');
  }
  const viewOf: ReadonlyMap<Value, Value> = plan ? plan.viewOf : views ? viewRoots(graph) : new Map();
  const onNode = options.onNode;
  const runBody: RunGraph = onNode ? (g, b, ins) => executeGraph(g, b, ins, { onNode, views }) : views ? executeGraph : (g, b, ins) => executeGraph(g, b, ins, { views });
  const env = new Map<Value, S>();
  graph.inputs.forEach((v, i) => env.set(v, inputs[i]));
  /** Values that own storage made here (node outputs that are no views), until it is released. */
  const owners = new Set<Value>();
  const rootOf = (v: Value) => viewOf.get(v) ?? v;
  const lastUse = storageLastUses(graph, viewOf);
  /** Storage of dead values, by the value the plan writes into it next. */
  const pool = new Map<Value, S>();
  const release = (v: Value) => {
    const storage = env.get(v)!;
    owners.delete(v);
    env.delete(v);
    const next = plan?.nextOccupant.get(v);
    if (next) pool.set(next, storage);
    else backend.dispose(storage);
  };
  const freeAll = () => {
    for (const v of owners) backend.dispose(env.get(v)!);
    for (const s of pool.values()) backend.dispose(s);
  };
  graph.nodes.forEach((node, n) => {
    const offered = plan ? node.outputs.map((v) => pool.get(v)) : [];
    let outputs: S[];
    const startMs = onNode ? performance.now() : 0;
    try {
      const args = node.inputs.map((v) => ({ storage: env.get(v)!, type: v.type }));
      const types = node.outputs.map((v) => v.type);
      if (viewOf.has(node.outputs[0])) outputs = [args[0].storage];
      else if (isControlNode(node)) outputs = runControlNode(node, backend, args.map((a) => a.storage), runBody);
      else outputs = offered.some((s) => s !== undefined) ? backend.run(getOp(node.op), args, node.attrs, types, offered, node.subgraphs) : backend.run(getOp(node.op), args, node.attrs, types, undefined, node.subgraphs);
    } catch (e) {
      freeAll();
      const where = node.loc ? ` (recorded at ${node.loc.file}:${node.loc.line})` : '';
      const why = e instanceof Error ? e.message : String(e);
      throw new GraphExecutionError(`while executing node ${n}: ${printNode(node)}${where}: ${why}`, node, e);
    }
    if (onNode) onNode(node, startMs, performance.now());
    node.outputs.forEach((v, i) => {
      const o = offered[i];
      if (o !== undefined) {
        pool.delete(v);
        if (outputs[i] !== o) backend.dispose(o); // the backend made new storage instead
      }
      env.set(v, outputs[i]);
      if (!viewOf.has(v)) owners.add(v);
    });
    for (const v of node.inputs) {
      const root = rootOf(v);
      if (lastUse.get(root) === n && owners.has(root)) release(root);
    }
    // Storage nobody reads (dead results of multi-output ops) is released at once.
    node.outputs.forEach((v) => {
      if (!lastUse.has(v) && owners.has(v)) release(v);
    });
  });
  for (const s of pool.values()) backend.dispose(s); // none left with a consistent plan; never leak
  pool.clear();
  // Each storage made here goes to the first output it backs; an output whose storage is a graph
  // input's or already given is copied, so the caller may free or update every output it owns.
  const given = new Set<Value>();
  const outs: S[] = [];
  try {
    graph.outputs.forEach((v, i) => {
      const root = rootOf(v);
      if (!ownsOutput(graph, i) || (owners.has(root) && !given.has(root))) {
        given.add(root);
        outs.push(env.get(v)!);
      } else {
        outs.push(backend.run(getOp('reshape'), [{ storage: env.get(v)!, type: v.type }], { shape: [...v.type.shape] }, [v.type])[0]);
        owners.add(v);
        env.set(v, outs[i]);
      }
    });
  } catch (e) {
    freeAll();
    throw e;
  }
  return outs;
}

/** Whether output `i` of the graph is storage that `executeGraph` made for it (not an input, not a repeat). */
export function ownsOutput(graph: Graph, i: number): boolean {
  const v = graph.outputs[i];
  return !graph.inputs.includes(v) && graph.outputs.indexOf(v) === i;
}

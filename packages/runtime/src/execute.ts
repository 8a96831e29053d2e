import type { Backend, Graph, Node, Value } from '@kiln/core';
import { ArgumentError, getOp, KilnError } from '@kiln/core';
import type { MemoryPlan } from './memory_plan.js';
import { planMemory } from './memory_plan.js';
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
   * by `planMemory(graph)` is used as given; `false` makes every value new storage.
   */
  readonly memoryPlan?: MemoryPlan | boolean;
  /**
   * Told of each node after it ran, with its start and end in milliseconds (`performance.now()`
   * here; a backend with device timestamps may report those later): how profilers see a graph.
   * Nodes of control-flow sub-graphs are reported too, before the node that ran them. Absent,
   * nothing is timed.
   */
  readonly onNode?: (node: Node, startMs: number, endMs: number) => void;
}

const plans = new WeakMap<Graph, MemoryPlan>();

/**
 * The memory plan `executeGraph` uses for `graph` by default (made once, then cached).
 *
 * @example
 * ```ts
 * memoryPlanFor(graph).plannedPeakBytes;
 * ```
 */
export function memoryPlanFor(graph: Graph): MemoryPlan {
  let plan = plans.get(graph);
  if (!plan) plans.set(graph, (plan = planMemory(graph)));
  return plan;
}

/**
 * Runs `graph` on `backend`, node by node, and returns the storage of each output. Inputs are
 * the storages of `graph.inputs`, in order, owned by the caller and never freed or written here.
 * Every intermediate value is released right after its last use: freed, or, when the memory
 * plan gives its buffer to a later value, offered to the backend as that value's output
 * storage. An output that is a graph input (or that appears twice) is returned as that same
 * storage: check `ownsOutput` before freeing. If a node fails, everything made so far is freed.
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
  const plan = setting === true ? memoryPlanFor(graph) : setting === false ? undefined : setting;
  if (typeof setting === 'object' && graph.nodes.some((node) => node.outputs.some((v) => !setting.bufferOf.has(v)))) {
    throw new ArgumentError('executeGraph: the memory plan was made for another graph (planMemory(graph) plans one graph; passes make new graphs)');
  }
  const onNode = options.onNode;
  const runBody: RunGraph = onNode ? (g, b, ins) => executeGraph(g, b, ins, { onNode }) : executeGraph;
  const env = new Map<Value, S>();
  graph.inputs.forEach((v, i) => env.set(v, inputs[i]));
  const lastUse = lastUses(graph);
  const keep = new Set<Value>([...graph.inputs, ...graph.outputs]);
  /** Storage of dead values, by the value the plan writes into it next. */
  const pool = new Map<Value, S>();
  const release = (v: Value) => {
    const storage = env.get(v)!;
    env.delete(v);
    const next = plan?.nextOccupant.get(v);
    if (next) pool.set(next, storage);
    else backend.dispose(storage);
  };
  graph.nodes.forEach((node, n) => {
    const offered = plan ? node.outputs.map((v) => pool.get(v)) : [];
    let outputs: S[];
    const startMs = onNode ? performance.now() : 0;
    try {
      const args = node.inputs.map((v) => ({ storage: env.get(v)!, type: v.type }));
      const types = node.outputs.map((v) => v.type);
      if (isControlNode(node)) outputs = runControlNode(node, backend, args.map((a) => a.storage), runBody);
      else outputs = offered.some((s) => s !== undefined) ? backend.run(getOp(node.op), args, node.attrs, types, offered, node.subgraphs) : backend.run(getOp(node.op), args, node.attrs, types, undefined, node.subgraphs);
    } catch (e) {
      for (const [v, s] of env) if (!graph.inputs.includes(v)) backend.dispose(s);
      for (const s of pool.values()) backend.dispose(s);
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
    });
    for (const v of node.inputs) {
      if (lastUse.get(v) === n && !keep.has(v) && env.has(v)) release(v);
    }
    // Outputs nobody reads (dead results of multi-output ops) are released at once.
    node.outputs.forEach((v) => {
      if (!lastUse.has(v) && !keep.has(v)) release(v);
    });
  });
  for (const s of pool.values()) backend.dispose(s); // none left with a consistent plan; never leak
  return graph.outputs.map((v) => env.get(v)!);
}

/** Whether output `i` of the graph is storage that `executeGraph` made for it (not an input, not a repeat). */
export function ownsOutput(graph: Graph, i: number): boolean {
  const v = graph.outputs[i];
  return !graph.inputs.includes(v) && graph.outputs.indexOf(v) === i;
}

function lastUses(graph: Graph): Map<Value, number> {
  const last = new Map<Value, number>();
  graph.nodes.forEach((node, n) => node.inputs.forEach((v) => last.set(v, n)));
  return last;
}

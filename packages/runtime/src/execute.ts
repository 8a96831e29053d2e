import type { Backend, Graph, Node, Value } from '@kiln/core';
import { getOp, KilnError } from '@kiln/core';
import { printNode } from './print_node.js';

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

/**
 * Runs `graph` on `backend`, node by node, and returns the storage of each output. Inputs are
 * the storages of `graph.inputs`, in order, owned by the caller and never freed here. Every
 * intermediate value is freed right after its last use. An output that is a graph input (or
 * that appears twice) is returned as that same storage: check `ownsOutput` before freeing.
 *
 * @example
 * ```ts
 * const [y] = executeGraph(graph, cpu, [xStorage]);
 * ```
 */
export function executeGraph<S>(graph: Graph, backend: Backend<S>, inputs: readonly S[]): S[] {
  if (inputs.length !== graph.inputs.length) {
    throw new KilnError(`executeGraph: the graph takes ${graph.inputs.length} inputs, got ${inputs.length}`);
  }
  const env = new Map<Value, S>();
  graph.inputs.forEach((v, i) => env.set(v, inputs[i]));
  const lastUse = lastUses(graph);
  const keep = new Set<Value>([...graph.inputs, ...graph.outputs]);
  graph.nodes.forEach((node, n) => {
    let outputs: S[];
    try {
      outputs = backend.run(getOp(node.op), node.inputs.map((v) => ({ storage: env.get(v)!, type: v.type })), node.attrs, node.outputs.map((v) => v.type));
    } catch (e) {
      const where = node.loc ? ` (recorded at ${node.loc.file}:${node.loc.line})` : '';
      const why = e instanceof Error ? e.message : String(e);
      throw new GraphExecutionError(`while executing node ${n}: ${printNode(node)}${where}: ${why}`, node, e);
    }
    node.outputs.forEach((v, i) => env.set(v, outputs[i]));
    for (const v of node.inputs) {
      if (lastUse.get(v) === n && !keep.has(v) && env.has(v)) {
        backend.dispose(env.get(v)!);
        env.delete(v);
      }
    }
    // Outputs nobody reads (dead results of multi-output ops) are freed at once.
    node.outputs.forEach((v) => {
      if (!lastUse.has(v) && !keep.has(v)) {
        backend.dispose(env.get(v)!);
        env.delete(v);
      }
    });
  });
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

import type { Attrs, TensorType } from '../ops/op.js';

/** Where a node came from in the user's code, recorded at trace time. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column?: number;
}

/**
 * An SSA value: defined once (a graph input or a node output), typed. Identity is the object;
 * `name` is an optional hint for printing (graph inputs keep their names).
 */
export class Value {
  constructor(
    readonly type: TensorType,
    readonly name?: string,
  ) {}
}

/** One op application. `subgraphs` hold the bodies of control flow (cond, whileLoop, scan). */
export interface Node {
  readonly op: string;
  readonly inputs: readonly Value[];
  readonly attrs: Attrs;
  readonly outputs: readonly Value[];
  readonly subgraphs?: readonly Graph[];
  readonly loc?: SourceLocation;
}

/**
 * A typed SSA graph: inputs, nodes in execution order, outputs. Graphs are immutable values;
 * passes build new ones. Sub-graphs are closed: they see only their own inputs.
 */
export interface Graph {
  readonly inputs: readonly Value[];
  readonly nodes: readonly Node[];
  readonly outputs: readonly Value[];
}

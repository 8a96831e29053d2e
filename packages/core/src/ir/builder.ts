import type { Interpreter } from '../ops/interpreter.js';
import type { Attrs, OpDef, TensorType } from '../ops/op.js';
import { inferTypes } from '../ops/infer.js';
import type { DType } from '../dtype.js';
import { createOps, type Ops } from '../ops/surface.js';
import { getOp } from '../ops/table.js';
import type { Graph, Node, SourceLocation } from './graph.js';
import { Value } from './graph.js';

/**
 * Builds a graph node by node, computing each output's type with the op's rules. It is also an
 * `Interpreter<Value>`, so the op surface can record into it: `createOps(builder)`.
 *
 * @example
 * ```ts
 * const b = new GraphBuilder();
 * const x = b.input({ dtype: 'float32', shape: [2, 3] }, 'x');
 * const ops = createOps(b);
 * const g = b.build([ops.relu(ops.mul(x, 2))]);
 * printGraph(g);
 * ```
 */
export class GraphBuilder implements Interpreter<Value> {
  private readonly inputs: Value[] = [];
  private readonly nodes: Node[] = [];
  /** Record composites as single nodes (true) or expand them into primitives (false, default). */
  constructor(private readonly options: { keepComposites?: boolean } = {}) {}

  input(type: TensorType, name?: string): Value {
    const v = new Value({ dtype: type.dtype, shape: [...type.shape] }, name);
    this.inputs.push(v);
    return v;
  }

  /** Appends a node (types inferred and checked) and returns its outputs. */
  add(op: OpDef, inputs: readonly Value[], attrs: Attrs = {}, extra: { subgraphs?: readonly Graph[]; loc?: SourceLocation } = {}): Value[] {
    const types = inferTypes(op, inputs.map((v) => v.type), attrs, extra.subgraphs);
    const outputs = types.map((t) => new Value(t));
    this.nodes.push({ op: op.name, inputs: [...inputs], attrs, outputs, ...extra });
    return outputs;
  }

  bind(op: OpDef, inputs: readonly Value[], attrs: Attrs): Value[] {
    if (op.kind === 'composite' && !this.options.keepComposites) return op.expand(this.ops, inputs, attrs, (v) => v.type);
    return this.add(op, inputs, attrs);
  }

  typeOf(value: Value): TensorType {
    return value.type;
  }

  scalar(value: number, dtype: DType): Value {
    return this.add(getOp('full'), [], { shape: [], value, dtype })[0];
  }

  /** Random keys in a built graph are graph inputs named `key`, so the caller supplies the generator state. */
  randomKey(): Value {
    return this.input({ dtype: 'int32', shape: [2] }, 'key');
  }

  isValue(x: unknown): x is Value {
    return x instanceof Value;
  }

  build(outputs: readonly Value[]): Graph {
    return { inputs: [...this.inputs], nodes: [...this.nodes], outputs: [...outputs] };
  }

  private opsCache?: Ops<Value>;
  private get ops(): Ops<Value> {
    return (this.opsCache ??= createOps<Value>(this));
  }
}

/**
 * Lowering a Kiln graph to ONNX nodes: names for values, shared constants, and the context a
 * per-op lowering rule ({@link Lowering}) writes its ONNX nodes through. The rules themselves
 * live in the `ops_*.ts` files, one table per family, keyed by the Kiln op name.
 */
import type { Attrs, DType, Graph, Node, TensorType, Value } from '@kiln/core';
import type { DynamicShapes } from './dynamic.js';
import { OnnxExportError } from './errors.js';
import type { OnnxAttribute, OnnxNode, OnnxTensor } from './onnx_proto.js';
import { ONNX_DTYPE, OnnxDataType } from './onnx_proto.js';

/** Element data of one Kiln dtype (bool as 0/1 bytes). */
export type TypedData = Float32Array | Float64Array | Int32Array | Uint8Array;

/** Attribute constructors, so lowering rules read like the ONNX operator docs. */
export const attr = {
  int: (name: string, value: number | boolean): OnnxAttribute => ({ name, kind: 'int', value: Number(value) }),
  float: (name: string, value: number): OnnxAttribute => ({ name, kind: 'float', value }),
  string: (name: string, value: string): OnnxAttribute => ({ name, kind: 'string', value }),
  ints: (name: string, value: readonly number[]): OnnxAttribute => ({ name, kind: 'ints', value }),
  tensor: (name: string, value: OnnxTensor): OnnxAttribute => ({ name, kind: 'tensor', value }),
};

/** Where lowering rules write ONNX nodes: the top-level graph, or a control-flow body. */
export interface NodeSink {
  /** Appends an ONNX node; returns its output names (fresh ones unless `outputs` is given). */
  emit(opType: string, inputs: readonly string[], attributes?: readonly OnnxAttribute[], outputs?: readonly string[]): string[];
  /** A fresh value name. */
  tmp(hint: string): string;
  readonly nodes: OnnxNode[];
}

/** What a lowering rule sees: one Kiln node, its input names, and places to write. */
export interface LoweringContext extends NodeSink {
  readonly node: Node;
  readonly attrs: Attrs;
  /** `node %12 (erf)`, for messages. */
  readonly where: string;
  /** The ONNX name holding input `i`. */
  input(i: number): string;
  inType(i: number): TensorType;
  outType(k: number): TensorType;
  /** The name output `k` must be written to (the last node of the rule writes it). */
  out(k: number): string;
  /** An int64 1-D constant (shapes, axes, pads): an initializer shared by equal values. */
  int64s(values: readonly number[]): string;
  /** An int64 scalar constant (trip counts, indices). */
  int64(value: number): string;
  /** A constant of a Kiln dtype and shape (an initializer; equal small ones are shared). */
  constant(data: TypedData, dtype: DType, shape: readonly number[]): string;
  /** A scalar constant of a Kiln dtype. */
  scalar(value: number, dtype: DType): string;
  /** The values of a node without inputs, when the exporter was given an evaluator. */
  evaluate(): TypedData | undefined;
  /**
   * An int64 1-D tensor of the ints attributes `keys`, concatenated (a shape; a pad's before and
   * after): a constant, or computed from the inputs' shapes where entries depend on symbolic
   * dimensions. `adjust` rewrites the fixed entries (by position).
   */
  intsInput(keys: string | readonly string[], adjust?: (value: number, index: number) => number): string;
  /** For a number attribute that depends on symbolic dimensions: a scalar tensor of `dtype` computed while the model runs. */
  symbolicNumber(key: string, dtype: DType): string | undefined;
  /** A value's dimensions for an ONNX type: numbers, symbol expressions, or null where they vary otherwise. */
  dims(v: Value): (number | string | null)[];
  /** Throws unless these axes of `v` have one size whatever the symbolic dimensions are (the rule needs them as numbers). */
  requireFixed(v: Value, axes: readonly number[], what: string): void;
  /** A new node list for a control-flow body (its own names; outer names stay visible). */
  sink(): NodeSink;
  /** Lowers `graph` into `sink`, its inputs bound to `inputNames`, its outputs written to `outputNames`. */
  lower(graph: Graph, sink: NodeSink, inputNames: readonly string[], outputNames: readonly string[]): void;
  /** Throws an OnnxExportError naming this node. */
  fail(message: string): never;
}

/** Writes the ONNX nodes that compute one Kiln node's outputs. */
export type Lowering = (ctx: LoweringContext) => void;

/** Makes a typed array of `dtype` from numbers (bool: nonzero → 1). */
export function typedData(dtype: DType, values: ArrayLike<number>): TypedData {
  switch (dtype) {
    case 'float32': return Float32Array.from(values);
    case 'float64': return Float64Array.from(values);
    case 'int32': return Int32Array.from(values);
    case 'bool': return Uint8Array.from(values, (v) => (v !== 0 ? 1 : 0));
  }
}

const keyOf = (v: number) => (Object.is(v, -0) ? '-0' : String(v));

/**
 * Lowers Kiln graphs into ONNX nodes and initializers. Every name is unique across the whole
 * model (ONNX requires it of sub-graphs too); constants are shared initializers of the top graph,
 * which bodies see from the outer scope.
 */
export class OnnxEmitter {
  readonly initializers: OnnxTensor[] = [];
  private readonly used = new Set<string>();
  private readonly constants = new Map<string, string>();
  private valueCount = 0;

  constructor(
    private readonly lowerings: ReadonlyMap<string, Lowering>,
    private readonly evaluator?: (node: Node) => TypedData | undefined,
    /** Symbolic dimensions, when the model is exported with them (else every shape is fixed). */
    readonly dynamic?: DynamicShapes,
    /** Attributes each op's rule computes while the model runs when they depend on symbols. */
    private readonly symbolicAttrs: Readonly<Record<string, readonly string[]>> = {},
  ) {}

  /** Reserves `name` (made unique with a suffix if taken) and returns it. */
  unique(name: string): string {
    const base = name || 'v';
    let out = base;
    for (let k = 1; this.used.has(out); k++) out = `${base}_${k}`;
    this.used.add(out);
    return out;
  }

  sink(): NodeSink {
    const nodes: OnnxNode[] = [];
    return {
      nodes,
      tmp: (hint) => this.unique(hint),
      emit: (opType, inputs, attributes = [], outputs) => {
        const outs = outputs ? [...outputs] : [this.unique(`${opType.toLowerCase()}_out`)];
        nodes.push({ opType, inputs: [...inputs], outputs: outs, attributes: [...attributes], name: this.unique(`${opType}_${nodes.length}`) });
        return outs;
      },
    };
  }

  /** Adds an initializer; returns its name. */
  initializer(name: string, dtype: DType | 'int64', shape: readonly number[], data: TypedData | BigInt64Array): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dataType: dtype === 'int64' ? OnnxDataType.int64 : ONNX_DTYPE[dtype], dims: [...shape], data });
    return unique;
  }

  private shared(key: string, make: () => string): string {
    let name = this.constants.get(key);
    if (!name) this.constants.set(key, (name = make()));
    return name;
  }

  int64s(values: readonly number[]): string {
    return this.shared(`i64[${values.join(',')}]`, () => this.initializer('const_i64', 'int64', [values.length], BigInt64Array.from(values, (v) => BigInt(v))));
  }

  int64(value: number): string {
    return this.shared(`i64:${value}`, () => this.initializer('const_i64', 'int64', [], BigInt64Array.of(BigInt(value))));
  }

  constant(data: TypedData, dtype: DType, shape: readonly number[]): string {
    if (data.length > 16) return this.initializer('const', dtype, shape, data);
    return this.shared(`${dtype}[${shape.join(',')}]:${Array.from(data, keyOf).join(',')}`, () => this.initializer('const', dtype, shape, data));
  }

  /**
   * Lowers the nodes of `graph` into `sink`: its inputs are bound to `inputNames`, and its outputs
   * end up in `outputNames` (written directly by the node that makes them where it can, through
   * Identity where an output is an input, an outer value or repeated).
   */
  lower(graph: Graph, sink: NodeSink, inputNames: readonly string[], outputNames: readonly string[]): void {
    const names = new Map<Value, string>();
    graph.inputs.forEach((v, i) => names.set(v, inputNames[i]));
    const reserved = new Map<Value, string>();
    const produced = new Set(graph.nodes.flatMap((n) => n.outputs));
    graph.outputs.forEach((v, i) => {
      if (produced.has(v) && !reserved.has(v)) reserved.set(v, outputNames[i]);
    });
    graph.nodes.forEach((node, index) => this.lowerNode(node, index, names, reserved, sink));
    graph.outputs.forEach((v, i) => {
      const name = names.get(v);
      if (name === undefined) throw new OnnxExportError(`exportOnnx: graph output ${i} is not defined by the graph; verify it with verifyGraph`);
      if (name !== outputNames[i]) sink.emit('Identity', [name], [], [outputNames[i]]);
    });
  }

  private lowerNode(node: Node, index: number, names: Map<Value, string>, reserved: ReadonlyMap<Value, string>, sink: NodeSink): void {
    const where = `node %${index} (${node.op})`;
    const fail = (message: string): never => {
      throw new OnnxExportError(`exportOnnx: ${where}: ${message}`);
    };
    const rule = this.lowerings.get(node.op);
    if (!rule) fail(`op '${node.op}' has no ONNX lowering; exportable ops: ${[...this.lowerings.keys()].sort().join(', ')}`);
    const dynamic = this.dynamic;
    if (dynamic) {
      const handled = this.symbolicAttrs[node.op] ?? [];
      for (const key of Object.keys(node.attrs)) {
        if (dynamic.attrExprs(node, key) && !handled.includes(key)) {
          fail(`attribute '${key}' depends on the symbolic dimensions (${dynamic.names.join(', ')}), which export computes only for ${Object.entries(this.symbolicAttrs).map(([op, keys]) => `${op} ${keys.join('/')}`).join(', ')}; export at fixed sizes instead`);
        }
      }
    }
    const outNames = node.outputs.map((v) => reserved.get(v) ?? this.unique(`v${this.valueCount++}`));
    const int64s = (values: readonly number[]) => this.int64s(values);
    const ctx: LoweringContext = {
      ...sink,
      node, attrs: node.attrs, where, fail,
      input: (i) => names.get(node.inputs[i]) ?? fail(`input ${i} is used before it is defined; verify the graph with verifyGraph`),
      inType: (i) => node.inputs[i].type,
      outType: (k) => node.outputs[k].type,
      out: (k) => outNames[k],
      int64s: (values) => this.int64s(values),
      int64: (value) => this.int64(value),
      constant: (data, dtype, shape) => this.constant(data, dtype, shape),
      scalar: (value, dtype) => this.constant(typedData(dtype, [value]), dtype, []),
      evaluate: () => this.evaluator?.(node),
      intsInput: (key, adjust) => {
        const keys = typeof key === 'string' ? [key] : key;
        const raw = keys.flatMap((k) => node.attrs[k] as readonly number[]);
        const values = adjust ? raw.map(adjust) : raw;
        const exprs = dynamic && keys.some((k) => dynamic.attrExprs(node, k))
          ? keys.flatMap((k) => dynamic.attrExprs(node, k) ?? (node.attrs[k] as readonly number[]).map(() => null))
          : undefined;
        return exprs ? dynamic!.intsTensor(sink, values, exprs, int64s) : this.int64s(values);
      },
      symbolicNumber: (key, dtype) => {
        const e = dynamic?.attrExprs(node, key)?.[0];
        if (!e) return undefined;
        const float = dtype === 'float32' || dtype === 'float64';
        const [value] = float ? [dynamic!.floatExpr(sink, e, ONNX_DTYPE[dtype], int64s)] : sink.emit('Cast', [dynamic!.intExpr(sink, e, int64s)], [attr.int('to', ONNX_DTYPE[dtype])]);
        return sink.emit('Reshape', [value, this.int64s([])])[0];
      },
      dims: (v) => (dynamic ? dynamic.dimsOf(v) : [...v.type.shape]),
      requireFixed: (v, axes, what) => {
        const moving = axes.filter((a) => dynamic?.varies(v, a));
        if (moving.length) fail(`${what} (axes ${moving.join(', ')}) change with the symbolic dimensions, but ONNX needs them as numbers here; export at fixed sizes instead`);
      },
      sink: () => this.sink(),
      lower: (graph, target, inputNames, outputNames) => this.lower(graph, target, inputNames, outputNames),
    };
    rule!(ctx);
    node.outputs.forEach((v, k) => names.set(v, outNames[k]));
  }
}

import type { Attrs, Graph, Node, TensorType } from '@kiln/core';
import { getOp, TraceError, Value } from '@kiln/core';
import type { ControlFlowCall, ControlFlowNode, FlatFn, Tensor } from '@kiln/eager';
import { noGrad, withInterpreter } from '@kiln/eager';
import { userLocation } from './source.js';
import { Trace, TracedValue } from './trace.js';

/**
 * The trace of one control-flow function: a child of the trace it appears in. A tensor it reads
 * that it did not make — an argument of the enclosing function, a captured parameter, a value
 * of an outer trace — is *lifted*: it becomes an input of the sub-graph (named `k0, k1, …`),
 * and the tensor itself an input of the control-flow node, so sub-graphs stay closed and
 * autograd sees every value the node depends on.
 */
interface SubTrace extends Trace {
  /** The outer tensors lifted, in input order, and their sub-graph inputs. */
  readonly outer: Tensor[];
  readonly lifted: Value[];
}

type SubTraceClass = new (parent: Trace, preset: readonly Tensor[]) => SubTrace;
let subTraceClass: SubTraceClass | undefined;

/**
 * The class is made on first use: trace.ts imports this module, so `Trace` is still
 * uninitialised while this module's top level runs.
 */
function newSubTrace(parent: Trace, preset: readonly Tensor[]): SubTrace {
  subTraceClass ??= class extends Trace implements SubTrace {
    readonly outer: Tensor[] = [];
    readonly lifted: Value[] = [];
    private readonly liftedByTensor = new Map<Tensor, Value>();

    constructor(
      private readonly parent: Trace,
      preset: readonly Tensor[],
    ) {
      super();
      for (const t of preset) this.lift(t);
    }

    override valueOf(t: Tensor): Value {
      const p = t.payload;
      if ((p instanceof TracedValue && !t.isConcrete && p.trace === this) || this.born.has(t)) return super.valueOf(t);
      return this.lift(t);
    }

    private lift(t: Tensor): Value {
      let v = this.liftedByTensor.get(t);
      if (!v) {
        this.parent.valueOf(t); // checks it (disposed, from a finished trace) and makes it a value of the enclosing graph
        v = this.builder.input({ dtype: t.dtype, shape: [...t.shape] }, `k${this.outer.length}`);
        this.liftedByTensor.set(t, v);
        this.outer.push(t);
        this.lifted.push(v);
      }
      return v;
    }

    override randomKey(): Tensor {
      throw new TraceError(
        'random ops inside the functions of cond, whileLoop or scan are not supported in compiled code: draw the random numbers before the control flow and pass them in (as an operand, or as xs of a scan)',
      );
    }

    override assign(): boolean {
      throw new TraceError('assign: in-place updates inside the functions of cond, whileLoop or scan are not supported; return the new value (in the result or the carry) and assign it after the control flow');
    }

    override dispose(t: Tensor): boolean {
      return this.born.has(t) ? false : this.parent.dispose(t);
    }

    override guard(what: string, read: () => unknown): void {
      this.parent.guard(what, read); // the enclosing function's graph depends on it too
    }

    override gradChanged(t: Tensor): void {
      if (t.isConcrete) {
        throw new TraceError('backward() (or setting .grad) inside the functions of cond, whileLoop or scan is not supported; call backward() after the control flow: gradients flow through it');
      }
    }
  };
  return new subTraceClass(parent, preset);
}

/** A function traced into a sub-graph body: its parameters, lifted inputs and outputs. */
interface Body {
  readonly trace: SubTrace;
  readonly params: readonly Value[];
  readonly outputs: readonly Value[];
}

/**
 * Traces `fn` on parameters of the given types. `preset` tensors are lifted first, in order;
 * with `passPreset` the function also gets them (as values of its own graph) before its
 * parameters — scan's constants.
 */
function traceBody(parent: Trace, fn: FlatFn, types: readonly TensorType[], name: (i: number) => string, preset: readonly Tensor[] = [], passPreset = false): Body {
  const sub = newSubTrace(parent, preset);
  const params = types.map((t, i) => sub.builder.input(t, name(i)));
  const leading = passPreset ? sub.lifted.map((v) => sub.wrap(v)) : [];
  let results: readonly Tensor[];
  try {
    // Not recorded for autograd: the node is, with a gradient rule over the sub-graphs.
    results = withInterpreter(sub, () => noGrad(() => fn([...leading, ...params.map((v) => sub.wrap(v))])));
  } finally {
    sub.finished = true;
  }
  return { trace: sub, params, outputs: results.map((t) => sub.valueOf(t)) };
}

/**
 * The sub-graph of a body with its inputs in the given order. Nodes no output depends on are
 * left out (a body's ops have no side effects; a backward body computes its root's value only
 * to differentiate it).
 */
function graphOf(body: Body, inputs: readonly Value[]): Graph {
  const nodes = body.trace.builder.build([]).nodes;
  const live = new Set<Value>(body.outputs);
  const needed = new Set<Node>();
  for (let n = nodes.length - 1; n >= 0; n--) {
    if (!nodes[n].outputs.some((v) => live.has(v))) continue;
    needed.add(nodes[n]);
    for (const v of nodes[n].inputs) live.add(v);
  }
  return { inputs: [...inputs], nodes: nodes.filter((node) => needed.has(node)), outputs: [...body.outputs] };
}

const typeOf = (t: Tensor): TensorType => ({ dtype: t.dtype, shape: [...t.shape] });

function emit(parent: Trace, op: string, inputs: readonly Tensor[], attrs: Attrs, subgraphs: readonly Graph[]): ControlFlowNode {
  const loc = userLocation();
  const values = inputs.map((t) => parent.valueOf(t));
  const outs = parent.builder.add(getOp(op), values, attrs, { subgraphs, ...(loc ? { loc } : {}) });
  if (outs.length) parent.bound.add(outs[0]); // an op the function ran, as compile's check mode counts them
  return { outputs: outs.map((v) => parent.wrap(v)), inputs, attrs, subgraphs };
}

/**
 * Records a control-flow call made while `parent` is tracing: traces each function into a
 * sub-graph (a child trace each) and adds one `cond`, `whileLoop` or `scan` node. Called through
 * `Trace.controlFlow`, the hook `@kiln/eager`'s `cond`/`whileLoop`/`scan` use.
 */
export function traceControlFlow(parent: Trace, call: ControlFlowCall): ControlFlowNode {
  const { kind, fns, operands } = call;
  if (kind === 'cond') {
    const [pred, ...args] = operands;
    const types = args.map(typeOf);
    const then = traceBody(parent, fns[0], types, (i) => `x${i}`);
    // The else branch starts from the then branch's lifted values, so both list them alike.
    const other = traceBody(parent, fns[1], types, (i) => `x${i}`, then.trace.outer);
    const outer = other.trace.outer;
    const extra = outer.slice(then.trace.outer.length).map((t, j) => new Value(typeOf(t), `k${then.trace.outer.length + j}`));
    const subgraphs = [graphOf(then, [...then.params, ...then.trace.lifted, ...extra]), graphOf(other, [...other.params, ...other.trace.lifted])];
    return emit(parent, 'cond', [pred, ...args, ...outer], {}, subgraphs);
  }
  if (kind === 'whileLoop') {
    const types = operands.map(typeOf);
    const test = traceBody(parent, fns[0], types, (i) => `carry${i}`);
    const body = traceBody(parent, fns[1], types, (i) => `carry${i}`);
    const subgraphs = [graphOf(test, [...test.trace.lifted, ...test.params]), graphOf(body, [...body.trace.lifted, ...body.params])];
    const attrs = { condConsts: test.trace.outer.length, bodyConsts: body.trace.outer.length };
    return emit(parent, 'whileLoop', [...test.trace.outer, ...body.trace.outer, ...operands], attrs, subgraphs);
  }
  const numCarry = call.numCarry ?? 0;
  const carry = operands.slice(0, numCarry);
  const xs = operands.slice(numCarry);
  const types = [...carry.map(typeOf), ...xs.map((x) => ({ dtype: x.dtype, shape: x.shape.slice(1) }))];
  const body = traceBody(parent, fns[0], types, (i) => (i < numCarry ? `carry${i}` : `x${i - numCarry}`), call.consts ?? [], true);
  const attrs = { numConsts: body.trace.outer.length, numCarry, length: call.length ?? 0, reverse: call.reverse ?? false };
  const inputs = [...body.trace.outer, ...carry, ...xs];
  // Residuals: body values kept for the gradient, returned as extra ys (stacked over the steps).
  const params = [...body.trace.lifted, ...body.params];
  const keep = call.residualsFor?.(inputs, graphOf(body, params)) ?? [];
  const node = emit(parent, 'scan', inputs, attrs, [graphOf({ ...body, outputs: [...body.outputs, ...keep] }, params)]);
  return keep.length ? { ...node, residuals: keep.length } : node;
}

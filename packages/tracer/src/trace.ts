import type { Attrs, DType, OpDef, SourceLocation, TensorType, TypedArray, Value } from '@kiln/core';
import { getOp, GraphBuilder, TraceError } from '@kiln/core';
import type { ControlFlowCall, ControlFlowNode, SymbolicPayload, TensorInterpreter } from '@kiln/eager';
import { rawOps, Tensor } from '@kiln/eager';
import { traceControlFlow } from './control.js';
import { formatLocation, userLocation } from './source.js';

/** What a traced tensor carries: its graph value and the trace it belongs to. */
export class TracedValue implements SymbolicPayload {
  constructor(
    readonly trace: Trace,
    readonly value: Value,
  ) {}

  readError(where: string): Error {
    if (this.trace.finished) {
      return new TraceError(`${where}: this tensor is a traced value that escaped its compiled function (it was stored outside, e.g. in a closure variable). Return it from the function instead.`);
    }
    const loc = userLocation();
    return new TraceError(
      `${where} at ${formatLocation(loc)}: cannot read the value of a traced tensor inside a compiled function — its value is not known while tracing. ` +
        'Keep the computation in tensor ops (where(cond, a, b) for a choice per element), use cond()/whileLoop() for control flow that depends on a tensor, ' +
        'or pass the value as a plain number argument (part of the cache key) instead.',
    );
  }
}

/**
 * A concrete tensor read by the traced function but made outside it: a graph input read fresh
 * on every call. `gradOf` marks the `.grad` of another captured tensor, read from that slot
 * (the gradient tensor object changes from call to call).
 */
export interface Captured {
  readonly tensor: Tensor;
  readonly value: Value;
  readonly gradOf?: Tensor;
  /** `.grad` when the function began, to tell afterwards whether the function changed it. */
  readonly gradBefore: Tensor | null;
}

/** A JavaScript value the recorded ops depend on (see `TensorInterpreter.guard`). */
export interface Guard {
  readonly what: string;
  readonly read: () => unknown;
  /** What `read()` returned while tracing, as `guardKey` gives it. */
  readonly key: string;
}

/** A comparable form of a guarded value: numbers, strings, booleans and arrays of them by value. */
export function guardKey(value: unknown): string {
  return typeof value === 'number' && Object.is(value, -0) ? '-0' : (JSON.stringify(value) ?? String(value));
}

/**
 * The tracing interpreter: records every primitive bound while it is active into a graph.
 * Composites are expanded through the dispatcher so autograd sees their primitives; concrete
 * tensors made outside become captured inputs; tensors made during tracing (`tensor([...])`)
 * become constants; `assign` becomes a state update; random keys derive from a generator-state
 * input.
 */
export class Trace implements TensorInterpreter {
  readonly builder = new GraphBuilder();
  readonly captured: Captured[] = [];
  private readonly capturedByTensor = new Map<Tensor, Value>();
  /** In-place assignments made by the function, in order: target ← traced value. */
  readonly updates = new Map<Tensor, Tensor>();
  /** Concrete tensors created while tracing: embedded as constants when read. */
  protected readonly born = new WeakSet<Tensor>();
  private readonly constants = new Map<Tensor, Value>();
  /**
   * Host data of tensors made from it during the trace, by their buffer (so a `detach()`ed view,
   * as autograd saves, finds it too): their constant, without a readback.
   */
  private readonly hostData = new WeakMap<object, ArrayLike<number>>();
  /** Tensors whose dispose() was postponed until the first execution has read them. */
  readonly postponedDisposals: Tensor[] = [];
  /** `.grad` of tensors whose gradient the function replaced, as it was when the function began. */
  private readonly gradAtEntry = new Map<Tensor, Tensor | null>();
  /** Concrete tensors whose `.grad` the function set (or cleared). */
  get gradTouched(): Iterable<Tensor> {
    return this.gradAtEntry.keys();
  }
  /** Tensors whose `.grad` the function cleared (set to null) before anything else touched it. */
  readonly gradClearedFirst = new Set<Tensor>();
  /** JavaScript values the recorded ops depend on, by description. */
  readonly guards = new Map<string, Guard>();
  /** Concrete tensors passed as static arguments: embedded as constants (their values are part of the cache key). */
  readonly staticTensors = new Set<Tensor>();
  /** First outputs of the nodes made by `bind` (the ops the function ran, in order), for `check`. */
  readonly bound = new Set<Value>();
  /** The generator state input ([seed, stream]) and how many random keys were drawn. */
  rngInput: Value | undefined;
  randomKeys = 0;
  finished = false;

  /** A traced tensor for a graph value. */
  wrap(value: Value): Tensor {
    const t = new Tensor(value.type.shape, value.type.dtype, undefined);
    t.payload = new TracedValue(this, value);
    return t;
  }

  /** The graph value a tensor stands for in this trace. */
  valueOf(t: Tensor): Value {
    const update = this.updates.get(t);
    if (update) return this.valueOf(update);
    const p = t.payload;
    if (p instanceof TracedValue && !t.isConcrete) {
      if (p.trace !== this) throw new TraceError('a traced tensor from another compiled function (or an earlier trace) was used here; return values from compiled functions instead of storing traced tensors');
      return p.value;
    }
    if (this.born.has(t) || this.staticTensors.has(t)) return this.constant(t);
    let v = this.capturedByTensor.get(t);
    if (!v) {
      t.bufferFor('compile (capturing a tensor the function reads)');
      v = this.builder.input({ dtype: t.dtype, shape: [...t.shape] }, `c${this.captured.length}`);
      this.capturedByTensor.set(t, v);
      const owner = this.captured.find((c) => c.gradBefore === t)?.tensor;
      this.captured.push({ tensor: t, value: v, gradBefore: this.entryGrad(t), ...(owner ? { gradOf: owner } : {}) });
    }
    return v;
  }

  private constant(t: Tensor): Value {
    let v = this.constants.get(t);
    if (!v) {
      const data = Array.from(this.hostData.get(t.bufferFor('compile (a constant)')) ?? t.dataSync());
      v = this.builder.add(getOp('constant'), [], { shape: [...t.shape], dtype: t.dtype, data })[0];
      this.constants.set(t, v);
    }
    return v;
  }

  bind(op: OpDef, inputs: readonly Tensor[], attrs: Attrs): Tensor[] {
    if (this.finished) throw new TraceError(`${op.name}: the trace has finished`);
    if (op.kind === 'composite') return op.expand(rawOps, inputs, attrs, (t) => t);
    const values = inputs.map((t) => this.valueOf(t));
    const loc: SourceLocation | undefined = userLocation();
    const outputs = this.builder.add(op, values, attrs, loc ? { loc } : {});
    if (outputs.length) this.bound.add(outputs[0]);
    return outputs.map((v) => this.wrap(v));
  }

  typeOf(t: Tensor): TensorType {
    return t;
  }

  scalar(value: number, dtype: DType): Tensor {
    return this.wrap(this.builder.add(getOp('full'), [], { shape: [], value, dtype })[0]);
  }

  randomKey(): Tensor {
    this.rngInput ??= this.builder.input({ dtype: 'int32', shape: [2] }, 'rng');
    const offset = this.builder.add(getOp('constant'), [], { shape: [2], dtype: 'int32', data: [0, this.randomKeys++] })[0];
    return this.wrap(this.builder.add(getOp('add'), [this.rngInput, offset], {})[0]);
  }

  isValue(x: unknown): x is Tensor {
    return x instanceof Tensor;
  }

  assign(target: Tensor, value: Tensor): boolean {
    if (target.payload instanceof TracedValue && !target.isConcrete) {
      throw new TraceError('assign: only tensors made outside the compiled function (parameters, buffers, optimizer state) can be assigned in place inside it');
    }
    if (value.dtype !== target.dtype || value.shape.length !== target.shape.length || value.shape.some((d, i) => d !== target.shape[i])) {
      return false; // eager assign reports the mismatch
    }
    this.valueOf(target); // the target is state: make sure it is an input too
    this.updates.set(target, value);
    return true;
  }

  /** What `t.grad` was when the function began. */
  entryGrad(t: Tensor): Tensor | null {
    return this.gradAtEntry.has(t) ? this.gradAtEntry.get(t)! : t.grad;
  }

  gradChanged(t: Tensor, next: Tensor | null): void {
    if (!t.isConcrete || this.gradAtEntry.has(t)) return;
    this.gradAtEntry.set(t, t.grad);
    if (next === null && !this.capturedByTensor.has(t.grad!)) this.gradClearedFirst.add(t);
  }

  guard(what: string, read: () => unknown): void {
    if (!this.guards.has(what)) this.guards.set(what, { what, read, key: guardKey(read()) });
  }

  /** cond/whileLoop/scan: each function traced into a sub-graph, one node (see control.ts). */
  controlFlow(call: ControlFlowCall): ControlFlowNode {
    return traceControlFlow(this, call);
  }

  created(t: Tensor): void {
    if (t.isConcrete) this.born.add(t);
  }

  createdFromHost(t: Tensor, data: TypedArray): void {
    if (this.born.has(t)) this.hostData.set(t.bufferFor('compile (a constant)'), data.slice()); // a copy: the caller may reuse its array
  }

  dispose(t: Tensor): boolean {
    if (!t.isConcrete || this.born.has(t)) return false;
    this.postponedDisposals.push(t);
    return true;
  }
}

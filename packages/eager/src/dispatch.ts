import type { Attrs, Backend, DType, Interpreter, KernelInput, OpDef, Ops, TypedArray } from '@kiln/core';
import { ArgumentError, createOps, toTypedArray } from '@kiln/core';
import { getBackend } from './backends.js';
import { Buffer } from './buffer.js';
import type { ControlFlowCall, ControlFlowResult } from './control/hook.js';
import { checkFinite } from './autograd/anomaly.js';
import { isAnomalyDetectionEnabled } from './autograd/mode.js';
import { needsRecording, record } from './autograd/record.js';
import { profiling } from './profile/hook.js';
import { nextKey } from './random.js';
import { Tensor } from './tensor.js';
import { outputTypes } from './type_cache.js';

function inputName(op: OpDef, i: number): string {
  const names = op.inputs;
  const last = names[names.length - 1];
  if (last?.startsWith('...') && i >= names.length - 1) return `${last.slice(3)}[${i - names.length + 1}]`;
  return names[i] ?? `input ${i}`;
}

/** Makes a concrete tensor from host data on a backend. */
export function fromHost(data: ArrayLike<number>, shape: readonly number[], dtype: DType, backend: Backend = getBackend()): Tensor {
  const typed = toTypedArray(dtype, data);
  const type = { shape, dtype };
  const t = new Tensor(shape, dtype, new Buffer(backend, backend.upload(typed, type)));
  currentInterpreter().createdFromHost?.(t, typed);
  return t;
}

/** Wraps storage a backend produced (e.g. a compiled graph's output) as a tensor that owns it. */
export function fromStorage(backend: Backend, storage: unknown, shape: readonly number[], dtype: DType): Tensor {
  return new Tensor(shape, dtype, new Buffer(backend, storage));
}

/**
 * Scalars the op surface made from JavaScript numbers (`x.mul(2)`), with their value: made on
 * the current backend, they are re-made on the op's backend when that differs, so a number
 * works with tensors on any backend.
 */
const literals = new WeakMap<Tensor, number>();

/**
 * The buffer of each input (one backend for all), or the error naming the op, the arguments
 * and both backends. Literal scalars on another backend are uploaded to the op's; their
 * buffers are pushed to `temps` for the caller to release.
 */
function inputBuffers(op: OpDef, inputs: readonly Tensor[], temps: Buffer[]): Buffer[] {
  const n = inputs.length;
  const buffers = new Array<Buffer>(n);
  for (let i = 0; i < n; i++) buffers[i] = inputs[i].liveBuffer() ?? inputs[i].bufferFor(`${op.name}: ${inputName(op, i)}`);
  for (let i = 1; i < n; i++) {
    if (buffers[i].backend !== buffers[0].backend) return mixedBackends(op, inputs, buffers, temps);
  }
  return buffers;
}

function mixedBackends(op: OpDef, inputs: readonly Tensor[], buffers: Buffer[], temps: Buffer[]): Buffer[] {
  const first = inputs.findIndex((t) => !literals.has(t));
  const backend = buffers[first < 0 ? 0 : first].backend;
  for (let i = 0; i < inputs.length; i++) {
    if (buffers[i].backend === backend) continue;
    const value = literals.get(inputs[i]);
    if (value === undefined) {
      const j = first < 0 ? 0 : first;
      throw new ArgumentError(`${op.name}: ${inputName(op, i)} is on backend '${buffers[i].backend.name}' but ${inputName(op, j)} is on '${backend.name}'; all inputs of an op must be on one backend: move one with .to('${backend.name}') (or await .toAsync('${backend.name}') from a backend that reads asynchronously)`);
    }
    const moved = new Buffer(backend, backend.upload(toTypedArray(inputs[i].dtype, [value]), inputs[i]));
    temps.push(moved);
    buffers[i] = moved;
  }
  return buffers;
}

function releaseAll(moved: readonly Buffer[]): void {
  for (const b of moved) b.release();
}

// Reused by every bind (emptied before anything can re-enter bind): no allocation per op.
const temps: Buffer[] = [];

function runKernel(op: OpDef, inputs: readonly Tensor[], attrs: Attrs, buffers: readonly Buffer[]): Tensor[] {
  const backend = buffers.length > 0 ? buffers[0].backend : getBackend();
  // A composite runs as its backend's fused kernel only when autograd need not see inside it.
  if (op.kind === 'composite' && (!backend.hasKernel(op.name) || needsRecording(inputs))) return op.expand(rawOps, inputs, attrs, (t) => t);
  const types = outputTypes(op, inputs, attrs);
  // reshape never moves data: the result shares its input's buffer.
  if (op.name === 'reshape') return [new Tensor(types[0].shape, types[0].dtype, buffers[0].retain())];
  const kernelInputs = new Array<KernelInput<unknown>>(inputs.length);
  for (let i = 0; i < inputs.length; i++) kernelInputs[i] = { storage: buffers[i].storage, type: inputs[i] };
  const storages = backend.run(op, kernelInputs, attrs, types);
  const outputs = new Array<Tensor>(storages.length);
  for (let i = 0; i < storages.length; i++) outputs[i] = new Tensor(types[i].shape, types[i].dtype, new Buffer(backend, storages[i]));
  return outputs;
}

/** The eager interpreter: runs each op's kernel now, on the inputs' backend. */
export const eagerInterpreter: TensorInterpreter = {
  bind(op: OpDef, inputs: readonly Tensor[], attrs: Attrs): Tensor[] {
    const buffers = inputBuffers(op, inputs, temps);
    if (temps.length === 0) return runKernel(op, inputs, attrs, buffers);
    const moved = temps.splice(0);
    try {
      return runKernel(op, inputs, attrs, buffers);
    } finally {
      releaseAll(moved);
    }
  },
  typeOf: (t) => t,
  scalar: (value, dtype) => {
    const t = fromHost([value], [], dtype);
    literals.set(t, value);
    return t;
  },
  randomKey: () => fromHost(nextKey(), [2], 'int32'),
  isValue: (x): x is Tensor => x instanceof Tensor,
};

/**
 * An interpreter over tensors. Besides binding ops it may take over in-place assignment: the
 * tracer turns `param.assign(traced)` into a state update of the compiled graph.
 */
export interface TensorInterpreter extends Interpreter<Tensor> {
  /** Handles `target.assign(value)`; returns false to let eager assignment run. */
  assign?(target: Tensor, value: Tensor): boolean;
  /** Told of every tensor created while this interpreter is active. */
  created?(tensor: Tensor): void;
  /**
   * Told, after `created`, of a tensor made from host data (`tensor([...])`) and that data: the
   * tracer keeps it as the graph constant, so it never reads the tensor back (a backend such as
   * WebGPU cannot read synchronously).
   */
  createdFromHost?(tensor: Tensor, data: TypedArray): void;
  /** Handles `tensor.dispose()`; returns true to postpone it (the tracer keeps captured data alive). */
  dispose?(tensor: Tensor): boolean;
  /**
   * Records `cond`/`whileLoop`/`scan` as one node whose functions are traced into sub-graphs
   * (the tracer implements it), or runs the construct as one unit (`runControlFlow`). Without
   * it, the functions run eagerly, as plain JavaScript.
   */
  controlFlow?(call: ControlFlowCall): ControlFlowResult;
  /** Told before `tensor.grad` is set to `next` (the old value still in place), even to the same value. */
  gradChanged?(tensor: Tensor, next: Tensor | null): void;
  /**
   * Told that the ops being recorded depend on a JavaScript value (`read()` now returns it), as
   * an optimizer's structural options: the tracer re-reads it before reusing its graph and
   * traces again, naming `what`, when it changed.
   */
  guard?(what: string, read: () => unknown): void;
}

const stack: TensorInterpreter[] = [eagerInterpreter];

/** The innermost interpreter (the eager one unless a tracer is active). */
export function currentInterpreter(): TensorInterpreter {
  return stack[stack.length - 1];
}

/**
 * The interpreter the op surface binds to: the innermost one pushed with `withInterpreter`
 * (the tracer's), else the eager one. Autograd sits on top of whichever runs: every op on
 * inputs that require grad is recorded on the tape, so traced code is differentiated too.
 */
export const dispatcher: Interpreter<Tensor> = {
  bind: (op, inputs, attrs) => (profiling.active === null ? bindOp(op, inputs, attrs) : profiling.active.bind(op, inputs, attrs, bindOp)),
  typeOf: (t) => t,
  scalar: (value, dtype) => stack[stack.length - 1].scalar(value, dtype),
  randomKey: () => stack[stack.length - 1].randomKey(),
  isValue: (x): x is Tensor => x instanceof Tensor,
};

/** Binds `op` to the innermost interpreter and records it for autograd. */
function bindOp(op: OpDef, inputs: readonly Tensor[], attrs: Attrs): Tensor[] {
  const outputs = stack[stack.length - 1].bind(op, inputs, attrs);
  record(op, inputs, outputs, attrs);
  if (isAnomalyDetectionEnabled() && op.kind === 'primitive') outputs.forEach((o, i) => checkFinite(o, `the output ${i} of '${op.name}'`));
  return outputs;
}

/** Runs `fn` with `interpreter` handling every op bound inside it (used by the tracer and autograd). */
export function withInterpreter<T>(interpreter: TensorInterpreter, fn: () => T): T {
  stack.push(interpreter);
  try {
    return fn();
  } finally {
    stack.pop();
  }
}

/** The op surface bound to the current interpreter, unwrapped (temporaries stay in the caller's scope). */
export const rawOps: Ops<Tensor> = createOps(dispatcher);

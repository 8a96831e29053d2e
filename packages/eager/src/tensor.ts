import type { DType, Shape, TypedArray } from '@kiln/core';
import { ArgumentError, DisposedError, DTypeError, isFloating, ShapeError, shapeToString, sizeOf } from '@kiln/core';
import type { BackwardOptions } from './autograd/engine.js';
import { backward } from './autograd/engine.js';
import type { GradNode } from './autograd/node.js';
import { Buffer } from './buffer.js';
import { getBackend } from './backends.js';
import { formatTensor } from './format.js';
import { track, untrack } from './memory.js';
import type { TensorMethods } from './methods.js';
import { TENSOR_METHODS } from './methods.js';
import { currentInterpreter } from './dispatch.js';
import { ops } from './ops.js';
import { readValue } from './read.js';

/**
 * What a non-eager interpreter (the tracer) attaches to the tensors it makes: they have a type
 * but no data, and reading them is an error the interpreter words.
 */
export interface SymbolicPayload {
  /** The error to throw when code tries to read this tensor's value (`where`: how). */
  readError(where: string): Error;
}

/** Opaque shared storage of a tensor (see `shareStorage`). */
export type TensorStorage = Buffer;

/** Nested arrays of numbers or booleans, as `toArray()` returns them. */
export type NestedArray = number | boolean | NestedArray[];

/**
 * An n-dimensional array on a backend. Ops run now (eager execution); every op is a free
 * function and a method: `add(a, b)` and `a.add(b)` are the same.
 *
 * Free a tensor with `dispose()`, a `using` declaration, or inside `tidy()`; a
 * FinalizationRegistry frees forgotten ones eventually, and `memory()` reports what is live.
 *
 * @example
 * ```ts
 * using x = tensor([[1, 2], [3, 4]]);
 * const y = x.mul(2).sum();
 * console.log(y.item()); // 20
 * ```
 */
export class Tensor implements Disposable {
  readonly shape: Shape;
  readonly dtype: DType;
  /**
   * The storage of a concrete tensor (undefined for values of other interpreters, and after
   * dispose). A cell, so the FinalizationRegistry releases whatever buffer `assign` left in it.
   */
  private readonly cell: { buffer: Buffer | undefined; node: GradNode | undefined; registered: boolean };
  private disposed = false;
  private leafRequiresGrad = false;
  /** @internal The tape node that produced this tensor (undefined for leaves). */
  gradNode: GradNode | undefined;
  /** @internal Which output of `gradNode` this tensor is. */
  outputIndex = 0;
  /** @internal Why this tensor cannot carry a gradient, for backward()'s error message. */
  gradBlockedBy: string | undefined;
  private gradSlot: Tensor | null = null;
  /**
   * The gradient accumulated by `backward()` (null until then). Sums over backward calls until
   * cleared with `zeroGrad()` (or an optimizer's `zeroGrad()`).
   */
  get grad(): Tensor | null {
    return this.gradSlot;
  }

  set grad(value: Tensor | null) {
    // The tracer learns what `.grad` held when the function began (its cache guards on it).
    currentInterpreter().gradChanged?.(this, value);
    this.gradSlot = value;
  }
  /** @internal Set on tensors made by a non-eager interpreter (traced values); they have no buffer. */
  payload: SymbolicPayload | undefined;

  /**
   * Tensors are made by ops and `tensor()`. The constructor is for subclasses that wrap existing
   * data, such as `nn.Parameter`: `super(t.shape, t.dtype, t.shareStorage())`.
   */
  constructor(shape: Shape, dtype: DType, storage: TensorStorage | undefined) {
    const buffer = storage;
    this.shape = shape;
    this.dtype = dtype;
    this.cell = { buffer, node: undefined, registered: false };
    track(this, this.cell);
    currentInterpreter().created?.(this);
  }

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** @internal Whether this tensor holds data (false for traced values and disposed tensors). */
  get isConcrete(): boolean {
    return this.cell.buffer !== undefined;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /**
   * Whether gradients flow to this tensor: set it on leaves (parameters, inputs) you want
   * `.grad` for; results of ops on such tensors require grad automatically.
   */
  get requiresGrad(): boolean {
    return this.leafRequiresGrad || this.gradNode !== undefined;
  }

  set requiresGrad(flag: boolean) {
    if (this.gradNode && !flag) {
      throw new ArgumentError('requiresGrad: only leaf tensors can stop requiring grad; use detach() to get a tensor cut from the graph');
    }
    if (flag && !isFloating(this.dtype)) {
      throw new DTypeError(`requiresGrad: only float tensors can require gradients, this one is ${this.dtype}; cast it first (x.cast('float32'))`);
    }
    if (!this.gradNode) this.leafRequiresGrad = flag;
  }

  /** Sets `requiresGrad` and returns the tensor, for chaining: `tensor([1, 2.5]).requireGrad()`. */
  requireGrad(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }

  /** True for tensors not produced by a recorded op (user-created tensors, parameters). */
  get isLeaf(): boolean {
    return this.gradNode === undefined;
  }

  /** @internal Makes this tensor output `index` of `node` (holding a reference to the node). */
  attachGradNode(node: GradNode, index: number): void {
    if (this.gradNode) throw new Error('internal: a tensor is attached to a grad node once');
    node.incref();
    this.gradNode = node;
    this.cell.node = node;
    this.outputIndex = index;
  }

  /**
   * A new reference to this tensor's storage, for a tensor that shares it (a subclass's
   * constructor, the autograd tape). The storage lives until every holder lets go.
   */
  shareStorage(): TensorStorage {
    return this.bufferFor('shareStorage').retain();
  }

  /**
   * Computes the gradient of this tensor with respect to every leaf that requires grad and adds
   * it to their `.grad`. A tensor with more than one element needs an upstream `gradient` of its
   * shape. The tape is freed afterwards unless `retainGraph` is set.
   *
   * @example
   * ```ts
   * const w = tensor([1, 2, 3], 'float32').requireGrad();
   * w.mul(w).sum().backward();
   * w.grad!.toArray(); // [2, 4, 6]
   * ```
   */
  backward(gradient?: Tensor, options?: BackwardOptions): void {
    if (this.disposed) this.bufferFor('backward'); // throws the DisposedError
    backward(this, gradient, options);
  }

  /** Makes backward() fill `.grad` for this non-leaf tensor too. */
  retainGrad(): this {
    if (!this.requiresGrad) throw new ArgumentError('retainGrad: the tensor does not require grad');
    if (this.gradNode && !this.gradNode.retainers.some(([, t]) => t === this)) this.gradNode.retainers.push([this.outputIndex, this]);
    return this;
  }

  /** Clears `.grad` (disposing it). */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  /** A tensor with the same data (shared, not copied) cut from the autograd graph: it never requires grad. */
  detach(): Tensor {
    if (!this.disposed && !this.isConcrete && this.payload) {
      // A traced value: the same graph value, without the tape node.
      const t = new Tensor(this.shape, this.dtype, undefined);
      t.payload = this.payload;
      return t;
    }
    return new Tensor(this.shape, this.dtype, this.bufferFor('detach').retain());
  }

  /**
   * Replaces this tensor's data with `value`'s (same shape and dtype), in place: how optimizers
   * update parameters. Not recorded by autograd; the tensor keeps its identity and `.grad`.
   *
   * @example
   * ```ts
   * noGrad(() => w.assign(w.sub(w.grad!.mul(0.1))));
   * ```
   */
  assign(value: Tensor): this {
    if (currentInterpreter().assign?.(this, value)) return this;
    const incoming = value.bufferFor('assign: value');
    const mine = this.bufferFor('assign');
    if (value.dtype !== this.dtype || value.shape.length !== this.shape.length || value.shape.some((d, i) => d !== this.shape[i])) {
      throw new ShapeError(`assign: the value is ${value.dtype}${shapeToString(value.shape)} but the tensor is ${this.dtype}${shapeToString(this.shape)}; they must match`);
    }
    if (this.gradNode) throw new ArgumentError('assign: only leaf tensors (parameters, buffers) can be assigned in place');
    this.cell.buffer = incoming.retain();
    mine.release();
    return this;
  }

  /** @internal The live buffer, or undefined when disposed or symbolic (then `bufferFor` words the error). */
  liveBuffer(): Buffer | undefined {
    return this.cell.buffer;
  }

  /** @internal The live buffer, or a DisposedError naming where the tensor was used. */
  bufferFor(where: string): Buffer {
    if (this.disposed) {
      throw new DisposedError(`${where}: the tensor (${this.dtype}[${this.shape.join(',')}]) was disposed; it cannot be used after dispose() or after the tidy() that created it returned. Keep it with keep(t) or return it from tidy.`);
    }
    if (!this.cell.buffer) {
      if (this.payload) throw this.payload.readError(where);
      throw new DisposedError(`${where}: this tensor has no data`);
    }
    return this.cell.buffer;
  }

  /** The elements as a typed array (a copy), without blocking the thread. */
  async data(): Promise<TypedArray> {
    const buffer = this.bufferFor('data');
    return buffer.backend.read(buffer.storage, this);
  }

  /** The elements as a typed array (a copy), synchronously. */
  dataSync(): TypedArray {
    const buffer = this.bufferFor('dataSync');
    return buffer.backend.readSync(buffer.storage, this);
  }

  /** The name of the backend holding this tensor's data ('cpu', 'webgpu', …). */
  get backend(): string {
    return this.bufferFor('backend').backend.name;
  }

  /**
   * A copy of this tensor on another backend (this tensor itself when it is already there).
   * Synchronous, so the source must read synchronously (CPU does; from WebGPU use
   * `await t.toAsync('cpu')`). The copy is a new leaf: gradients do not flow through it.
   *
   * @example
   * ```ts
   * const g = tensor([1, 2, 3]).to('webgpu');
   * await g.data(); // Float32Array [1, 2, 3]
   * ```
   */
  to(backend: string): Tensor {
    const buffer = this.bufferFor('to');
    const target = getBackend(backend);
    if (target === buffer.backend) return this;
    const data = buffer.backend.readSync(buffer.storage, this);
    return new Tensor(this.shape, this.dtype, new Buffer(target, target.upload(data, this)));
  }

  /** `to(backend)` from any backend, WebGPU included: reads the data asynchronously first. */
  async toAsync(backend: string): Promise<Tensor> {
    const buffer = this.bufferFor('toAsync');
    const target = getBackend(backend);
    if (target === buffer.backend) return this;
    const data = await buffer.backend.read(buffer.storage, this);
    return new Tensor(this.shape, this.dtype, new Buffer(target, target.upload(data, this)));
  }

  /** The elements as nested arrays (booleans for bool tensors). @example `tensor([[1, 2]]).toArray()` → `[[1, 2]]` */
  toArray(): NestedArray {
    const data = this.dataSync();
    return readValue(data, this.shape, this.dtype);
  }

  /** The single element of a one-element tensor, as a number (boolean for bool). */
  item(): number | boolean {
    if (this.size !== 1) {
      throw new ArgumentError(`item: the tensor has ${this.size} elements (shape [${this.shape.join(',')}]); item() needs exactly one. Use toArray() or data() for many.`);
    }
    this.bufferFor('item');
    const v = this.dataSync()[0];
    return this.dtype === 'bool' ? v !== 0 : v;
  }

  /** Frees the storage now. Disposing twice is harmless. */
  dispose(): void {
    if (this.disposed || currentInterpreter().dispose?.(this)) return;
    this.disposed = true;
    untrack(this, this.cell);
    this.cell.buffer?.release();
    this.cell.buffer = undefined;
    this.cell.node?.decref();
    this.cell.node = undefined;
    this.grad?.dispose();
    this.grad = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * JavaScript's conversion to a primitive (`+x`, `x > 0`, template strings): a one-element
   * tensor converts to its number, like PyTorch's `float(t)`; anything larger throws. On a traced
   * tensor it throws a TraceError, since its value is unknown while tracing.
   */
  [Symbol.toPrimitive](hint: 'number' | 'string' | 'default'): number | string {
    if (this.payload && !this.cell.buffer) {
      throw this.payload.readError(hint === 'string' ? 'a template string or String(x)' : 'a comparison or arithmetic on the tensor object (x > 0, +x)');
    }
    if (hint === 'string') return this.toString();
    if (this.size !== 1) {
      throw new ArgumentError(`a tensor of shape ${shapeToString(this.shape)} cannot be converted to a number (JavaScript did, for ${hint === 'number' ? '+x or a comparison' : 'x == y or x + y'}); use tensor ops (gt, add, …) or item() on a one-element tensor`);
    }
    return Number(this.item());
  }

  /** PyTorch-like text: `tensor([[1., 2.], [3., 4.]])`. */
  toString(): string {
    if (this.disposed) return `tensor(<disposed>, shape=[${this.shape.join(', ')}], dtype=${this.dtype})`;
    if (this.payload && !this.cell.buffer) return `tensor(<traced>, shape=[${this.shape.join(', ')}], dtype=${this.dtype})`;
    return formatTensor(this.dataSync(), this.shape, this.dtype);
  }
}

// Methods come from the op table: `x.add(y)` is `add(x, y)`.
export interface Tensor extends TensorMethods {}
for (const name of TENSOR_METHODS) {
  Object.defineProperty(Tensor.prototype, name, {
    value: function (this: Tensor, ...args: unknown[]) {
      return (ops[name] as (...a: unknown[]) => unknown)(this, ...args);
    },
    writable: true,
    configurable: true,
  });
}

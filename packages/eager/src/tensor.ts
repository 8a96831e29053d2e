import type { DType, Shape, TypedArray } from '@kiln/core';
import { ArgumentError, DisposedError, sizeOf } from '@kiln/core';
import type { Buffer } from './buffer.js';
import { formatTensor } from './format.js';
import { track, untrack } from './memory.js';
import type { TensorMethods } from './methods.js';
import { TENSOR_METHODS } from './methods.js';
import { ops } from './ops.js';
import { readValue } from './read.js';

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
  /** The storage of a concrete tensor; undefined for values of other interpreters (tracers). */
  private buffer: Buffer | undefined;
  private disposed = false;

  /** @internal Tensors are made by ops and `tensor()`, not constructed directly. */
  constructor(shape: Shape, dtype: DType, buffer: Buffer | undefined) {
    this.shape = shape;
    this.dtype = dtype;
    this.buffer = buffer;
    track(this, buffer);
  }

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** @internal The live buffer, or a DisposedError naming where the tensor was used. */
  bufferFor(where: string): Buffer {
    if (this.disposed) {
      throw new DisposedError(`${where}: the tensor (${this.dtype}[${this.shape.join(',')}]) was disposed; it cannot be used after dispose() or after the tidy() that created it returned. Keep it with keep(t) or return it from tidy.`);
    }
    if (!this.buffer) throw new DisposedError(`${where}: this tensor has no data (it is a traced value)`);
    return this.buffer;
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
    const v = this.dataSync()[0];
    return this.dtype === 'bool' ? v !== 0 : v;
  }

  /** Frees the storage now. Disposing twice is harmless. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    untrack(this);
    this.buffer?.release();
    this.buffer = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** PyTorch-like text: `tensor([[1., 2.], [3., 4.]])`. */
  toString(): string {
    if (this.disposed) return `tensor(<disposed>, shape=[${this.shape.join(', ')}], dtype=${this.dtype})`;
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

import type { TypedArray } from './dtype.js';
import { KernelError } from './errors.js';
import type { Graph } from './ir/graph.js';
import type { Attrs, OpDef, TensorType } from './ops/op.js';
import { getOp } from './ops/table.js';

/** A backend's storage for one tensor, with the type the caller keeps beside it. */
export interface KernelInput<S> {
  readonly storage: S;
  readonly type: TensorType;
}

/**
 * What every backend implements. Storage `S` is opaque to callers (a typed array on CPU, a
 * GPU buffer on WebGPU); eager tensors and the runtime hold it and hand it back.
 */
export interface Backend<S = unknown> {
  readonly name: string;
  /** Copies host data into new storage. `data.length` equals the type's size. */
  upload(data: TypedArray, type: TensorType): S;
  /** Reads storage back synchronously (backends that cannot, throw and point to `read`). */
  readSync(storage: S, type: TensorType): TypedArray;
  read(storage: S, type: TensorType): Promise<TypedArray>;
  /** Frees storage. Called exactly once per storage by its owner. */
  dispose(storage: S): void;
  /** Bytes currently held by live storage. */
  bytesInUse(): number;
  hasKernel(op: string): boolean;
  /**
   * Runs op's kernel: inputs already have the dtypes the op's rules require; outputs are inferred types.
   * `out`, when given, offers for some outputs a storage to write the result into (the runtime's
   * memory plan reuses dead buffers this way): it has that output's dtype and size, belongs to
   * the caller, aliases no input, and holds garbage. The backend returns that same storage object
   * for the output, or ignores the offer and returns new storage (the caller then frees the offer).
   * `subgraphs` are the node's bodies, for ops that carry them (fused kernels run their body).
   */
  run(op: OpDef, inputs: readonly KernelInput<S>[], attrs: Attrs, outputs: readonly TensorType[], out?: readonly (S | undefined)[], subgraphs?: readonly Graph[]): S[];
}

/**
 * Kernels of one backend, by op name. Registration is explicit; registering an op twice, or
 * one that is not defined, throws. A missing kernel is a KernelError naming op and backend.
 *
 * @example
 * ```ts
 * const kernels = new KernelRegistry<MyKernel>('cpu');
 * kernels.register('relu', reluKernel);
 * kernels.get('relu');
 * ```
 */
export class KernelRegistry<K> {
  private readonly kernels = new Map<string, K>();
  constructor(readonly backend: string) {}

  register(op: string, kernel: K): void {
    getOp(op); // throws UnknownOpError for undefined ops
    if (this.kernels.has(op)) throw new KernelError(`backend '${this.backend}': a kernel for '${op}' is already registered`);
    this.kernels.set(op, kernel);
  }

  has(op: string): boolean {
    return this.kernels.has(op);
  }

  get(op: string): K {
    const k = this.kernels.get(op);
    if (k !== undefined) return k;
    const def = getOp(op);
    const hint = def.kind === 'composite' ? ' (it is a composite: expand it instead of running a kernel)' : '';
    throw new KernelError(`backend '${this.backend}' has no kernel for op '${op}'${hint}`);
  }

  ops(): string[] {
    return [...this.kernels.keys()];
  }
}

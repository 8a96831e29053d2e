import type { Attrs, DType, PrimitiveDef, Shape } from '@kiln/core';
import type { Buffer } from '../buffer.js';
import type { SymbolicPayload, Tensor } from '../tensor.js';

/** A value a node keeps for its gradient rule: its own reference to the data, not a Tensor. */
export interface SavedValue {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly buffer: Buffer | undefined;
  /** For traced values (no buffer): the interpreter's payload. */
  readonly payload?: SymbolicPayload;
}

/** Where an input came from: a leaf tensor that wants `.grad`, another node's output, or nothing to differentiate. */
export type Edge = { readonly leaf: Tensor } | { readonly node: GradNode; readonly index: number } | null;

/**
 * One recorded op application on the autograd tape. It holds its own references to the data
 * its gradient rule reads, so the tensors the user sees can be disposed (by tidy, by an op's
 * scope) without breaking backward. Nodes are refcounted: each live output tensor and each
 * downstream node holds one reference; at zero the saved data is released, and so on up the
 * graph. backward() releases the nodes it ran through unless retainGraph is set.
 */
export class GradNode {
  private refs = 0;
  /** True once the saved data is released: backward through this node is no longer possible. */
  freed = false;
  /** Non-leaf tensors that asked for `.grad` (retainGrad), by output index. */
  retainers: [number, Tensor][] = [];

  constructor(
    readonly op: PrimitiveDef,
    readonly attrs: Attrs,
    private saved: { inputs: SavedValue[]; outputs: SavedValue[] },
    public parents: Edge[],
    readonly needsGrad: readonly boolean[],
  ) {
    for (const p of parents) if (p && 'node' in p) p.node.incref();
  }

  get inputs(): readonly SavedValue[] {
    return this.saved.inputs;
  }

  get outputs(): readonly SavedValue[] {
    return this.saved.outputs;
  }

  incref(): void {
    this.refs++;
  }

  decref(): void {
    if (--this.refs === 0) this.release();
  }

  /** Frees the saved data and lets go of parent nodes. Idempotent. */
  release(): void {
    if (this.freed) return;
    this.freed = true;
    for (const v of [...this.saved.inputs, ...this.saved.outputs]) v.buffer?.release();
    this.saved = { inputs: [], outputs: [] };
    const parents = this.parents;
    this.parents = [];
    this.retainers = [];
    for (const p of parents) if (p && 'node' in p) p.node.decref();
  }
}

import type { DType } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { flatten } from '@kiln/eager';
import { linear } from '../functional.js';
import { kaimingUniform, uniform } from '../init.js';
import { boolean, checkOptions, newParameter, positiveInt } from '../internal.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';

export interface LinearOptions {
  /** Add a learnable bias (default true). */
  bias?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/**
 * y = x·Wᵀ + b over the last axis (nn.Linear): x [..., inFeatures] → [..., outFeatures].
 * Initialised as PyTorch: weight [out, in] Kaiming-uniform with a = √5 (U(±1/√in)), bias
 * U(±1/√in).
 *
 * @example
 * ```ts
 * const fc = new Linear(4, 2);
 * fc.forward(ones([8, 4])).shape; // [8, 2]
 * ```
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    const o = checkOptions('Linear', options, ['bias', 'dtype']);
    this.inFeatures = positiveInt('Linear', 'inFeatures', inFeatures);
    this.outFeatures = positiveInt('Linear', 'outFeatures', outFeatures);
    this.weight = newParameter([outFeatures, inFeatures], o.dtype);
    this.bias = boolean('Linear', 'bias', o.bias, true) ? newParameter([outFeatures], o.dtype) : null;
    this.resetParameters();
  }

  /** Re-draws the weights as the constructor does. */
  resetParameters(): void {
    kaimingUniform(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const bound = 1 / Math.sqrt(this.inFeatures);
      uniform(this.bias, -bound, bound);
    }
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/**
 * Flattens axes `startDim`…`endDim` into one (nn.Flatten; by default all but the batch axis).
 * @example `new Flatten().forward(zeros([8, 3, 4, 4])).shape` → `[8, 48]`
 */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}

/**
 * Returns its input (nn.Identity): a placeholder where a layer is optional.
 * @example `new Identity().forward(x) === x` → true
 */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

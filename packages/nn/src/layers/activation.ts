import { ArgumentError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { gelu, relu, sigmoid, softmax, tanh } from '@kiln/eager';
import { dropout } from '../functional.js';
import { probability } from '../internal.js';
import { Module } from '../module.js';

/**
 * max(x, 0) elementwise (nn.ReLU).
 * @example `new ReLU().forward(tensor([-1, 2]))` → `[0, 2]`
 */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/**
 * Gaussian error linear unit (nn.GELU): x·Φ(x), or the tanh approximation with
 * `approximate: 'tanh'`.
 * @example `new GELU().forward(tensor([1]))` → `[0.8413]`
 */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';

  constructor(options: { approximate?: 'none' | 'tanh' } = {}) {
    super();
    const approximate = options.approximate ?? 'none';
    if (approximate !== 'none' && approximate !== 'tanh') throw new ArgumentError(`GELU: approximate must be 'none' or 'tanh', got ${JSON.stringify(approximate)}`);
    this.approximate = approximate;
  }

  forward(x: Tensor): Tensor {
    return gelu(x, this.approximate);
  }

  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/**
 * Hyperbolic tangent elementwise (nn.Tanh).
 * @example `new Tanh().forward(tensor([0]))` → `[0]`
 */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/**
 * 1 / (1 + e^-x) elementwise (nn.Sigmoid).
 * @example `new Sigmoid().forward(tensor([0]))` → `[0.5]`
 */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/**
 * Softmax along `dim` (nn.Softmax). `dim` defaults to the last axis (PyTorch's implicit choice
 * of dim is deprecated there and not offered here).
 * @example `new Softmax(1).forward(zeros([2, 4]))` → every element 0.25
 */
export class Softmax extends Module {
  constructor(readonly dim = -1) {
    super();
    if (!Number.isInteger(dim)) throw new ArgumentError(`Softmax: dim must be an integer, got ${JSON.stringify(dim)}`);
  }

  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/**
 * Dropout (nn.Dropout): in training mode, zeroes each element with probability `p` and scales
 * the rest by 1/(1-p); in eval mode, the identity. Random draws come from Kiln's seeded
 * generator (`manualSeed`).
 *
 * @example
 * ```ts
 * const drop = new Dropout(0.1);
 * drop.eval().forward(x) === x; // true
 * ```
 */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    probability('Dropout', 'p', p);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

import type { Tensor as TensorType } from '@kiln/eager';
import { keep, Tensor } from '@kiln/eager';
import { ArgumentError } from '@kiln/core';

/**
 * A tensor that is a module's learnable weight: a leaf that requires grad. It shares the data
 * of the tensor it is made from. Modules find their parameters by this type, and optimizers
 * accept only parameters. A parameter is never freed by an enclosing `tidy()`: dispose it (or
 * its module) when done.
 *
 * @example
 * ```ts
 * const w = new Parameter(randn([4, 3]));
 * w.requiresGrad; // true
 * ```
 */
export class Parameter extends Tensor {
  constructor(data: TensorType, requiresGrad = true) {
    if (!(data instanceof Tensor)) throw new ArgumentError(`Parameter: data must be a tensor, got ${data === null ? 'null' : typeof data}`);
    super(data.shape, data.dtype, data.shareStorage());
    this.requiresGrad = requiresGrad;
    // Weights outlive the scope that made them (a model built inside tidy keeps its parameters);
    // free them with dispose() or module.dispose().
    keep(this);
  }
}

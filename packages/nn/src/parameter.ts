import type { Tensor as TensorType } from '@kiln/eager';
import { Tensor } from '@kiln/eager';
import { ArgumentError } from '@kiln/core';

/**
 * A tensor that is a module's learnable weight: a leaf that requires grad. It shares the data
 * of the tensor it is made from. Modules find their parameters by this type, and optimizers
 * accept only parameters.
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
  }
}

import type { Tensor } from '@kiln/eager';
import { add, mul, neg, sub } from '@kiln/eager';
import { ArgumentError } from '@kiln/core';
import type { Parameter } from '../parameter.js';
import type { BaseOptions, ParamGroup, ParamsArg, ParamState } from './optimizer.js';
import { Optimizer } from './optimizer.js';
import { checkNonNegative } from './validate.js';

/** Options of {@link SGD} (PyTorch's names in camelCase). */
export interface SGDOptions extends BaseOptions {
  lr: number;
  /** Momentum factor (default 0: plain gradient descent). */
  momentum: number;
  /** Dampening of the momentum: the new gradient enters the buffer scaled by 1 - dampening (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient: `grad + weightDecay·param` (default 0). */
  weightDecay: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight
 * decay, exactly as `torch.optim.SGD` (the momentum buffer starts as the first gradient).
 *
 * @example
 * ```ts
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
 * tidy(() => { crossEntropy(model.forward(x), y).backward(); opt.step(); });
 * opt.zeroGrad();
 * ```
 */
export class SGD extends Optimizer<SGDOptions> {
  protected readonly stateKeys = ['momentumBuffer'] as const;

  constructor(params: ParamsArg<SGDOptions>, options: Partial<SGDOptions> & { lr: number }) {
    if (options === undefined || options === null || typeof options.lr !== 'number') {
      throw new ArgumentError(`SGD: options.lr is required (a number ≥ 0), got ${JSON.stringify(options?.lr)}`);
    }
    super('SGD', params, { lr: options.lr, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false }, options);
    this.createState();
  }

  protected check(o: Readonly<SGDOptions>, where: string): void {
    checkNonNegative(this.name, where, o, ['momentum', 'weightDecay']);
    if (typeof o.dampening !== 'number' || Number.isNaN(o.dampening)) throw new ArgumentError(`SGD: dampening must be a number, got ${JSON.stringify(o.dampening)} in ${where}`);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new ArgumentError(`SGD: nesterov momentum needs momentum > 0 and dampening 0, got momentum ${o.momentum} and dampening ${o.dampening} in ${where}`);
    }
  }

  /** With dampening 0 a zero buffer gives PyTorch's first step (buffer = gradient) exactly. */
  protected override initState(p: Parameter, g: ParamGroup<SGDOptions>, state: ParamState): void {
    if (g.momentum !== 0 && g.dampening === 0) this.zerosState(state, 'momentumBuffer', p);
  }

  protected update(p: Parameter, grad: Tensor, g: ParamGroup<SGDOptions>, state: ParamState): Tensor {
    let d = g.maximize ? neg(grad) : grad;
    if (g.weightDecay !== 0) d = add(d, mul(p, g.weightDecay));
    if (g.momentum !== 0) {
      const buf = state.momentumBuffer;
      const next = buf === undefined ? d : add(mul(buf, g.momentum), mul(d, 1 - g.dampening));
      const stored = this.setState(state, 'momentumBuffer', next);
      d = g.nesterov ? add(d, mul(stored, g.momentum)) : stored;
    }
    return sub(p, mul(d, g.lr));
  }
}

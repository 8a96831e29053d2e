import type { Tensor } from '@kiln/eager';
import { add, div, mul, neg, sqrt, sub } from '@kiln/eager';
import type { Parameter } from '../parameter.js';
import type { BaseOptions, ParamGroup, ParamsArg, ParamState } from './optimizer.js';
import { Optimizer } from './optimizer.js';
import { checkNonNegative } from './validate.js';

/** Options of {@link RMSprop}. */
export interface RMSpropOptions extends BaseOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  alpha: number;
  /** Added to the denominator for stability (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Normalize by an estimate of the gradient's variance instead of its second moment (default false). */
  centered: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

/**
 * RMSprop, as `torch.optim.RMSprop`: divides the gradient by a running root mean square,
 * optionally centered (subtracting the squared running mean of the gradient) and with momentum.
 *
 * @example
 * ```ts
 * const opt = new RMSprop(model.parameters(), { lr: 1e-3, momentum: 0.9, centered: true });
 * ```
 */
export class RMSprop extends Optimizer<RMSpropOptions> {
  protected readonly stateKeys = ['step', 'squareAvg', 'gradAvg', 'momentumBuffer'] as const;

  constructor(params: ParamsArg<RMSpropOptions>, options: Partial<RMSpropOptions> = {}) {
    super('RMSprop', params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false }, options);
    this.createState();
  }

  protected check(o: Readonly<RMSpropOptions>, where: string): void {
    checkNonNegative(this.name, where, o, ['alpha', 'eps', 'weightDecay', 'momentum']);
  }

  protected override initState(p: Parameter, g: ParamGroup<RMSpropOptions>, state: ParamState): void {
    this.zeroStep(state);
    this.zerosState(state, 'squareAvg', p);
    if (g.centered) this.zerosState(state, 'gradAvg', p);
    if (g.momentum > 0) this.zerosState(state, 'momentumBuffer', p);
  }

  protected update(p: Parameter, grad: Tensor, g: ParamGroup<RMSpropOptions>, state: ParamState): Tensor {
    const dt = p.dtype;
    const hp = (name: string) => this.hp(g, name, dt);
    const oneMinusAlpha = this.derived(g, `1-alpha:${dt}`, () => sub(1, this.hp(g, 'alpha')).cast(dt));
    this.countStep(state);
    let d = this.structural(g, 'maximize', () => g.maximize) ? neg(grad) : grad;
    if (this.structural(g, 'weightDecay ≠ 0', () => g.weightDecay !== 0)) d = add(d, mul(p, hp('weightDecay')));
    const squareAvg = this.zerosState(state, 'squareAvg', p);
    const sq = this.setState(state, 'squareAvg', add(mul(squareAvg, hp('alpha')), mul(mul(d, d), oneMinusAlpha)));
    let avg: Tensor;
    if (this.structural(g, 'centered', () => g.centered)) {
      const gradAvg = this.zerosState(state, 'gradAvg', p);
      const mean = this.setState(state, 'gradAvg', add(mul(gradAvg, hp('alpha')), mul(d, oneMinusAlpha)));
      avg = add(sqrt(sub(sq, mul(mean, mean))), hp('eps'));
    } else {
      avg = add(sqrt(sq), hp('eps'));
    }
    if (this.structural(g, 'momentum > 0', () => g.momentum > 0)) {
      const buf = this.zerosState(state, 'momentumBuffer', p);
      const next = this.setState(state, 'momentumBuffer', add(mul(buf, hp('momentum')), div(d, avg)));
      return sub(p, mul(next, hp('lr')));
    }
    return sub(p, mul(div(d, avg), hp('lr')));
  }
}

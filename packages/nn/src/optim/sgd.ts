import type { Tensor } from '@kiln/eager';
import { add, gt, mul, neg, sub, where } from '@kiln/eager';
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
 * decay, exactly as `torch.optim.SGD` (the momentum buffer starts as the first gradient). With
 * momentum, the state also counts steps ('step'), which PyTorch's SGD does not keep.
 *
 * @example
 * ```ts
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
 * tidy(() => { crossEntropy(model.forward(x), y).backward(); opt.step(); });
 * opt.zeroGrad();
 * ```
 */
export class SGD extends Optimizer<SGDOptions> {
  protected readonly stateKeys = ['momentumBuffer', 'step'] as const;

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

  /**
   * The momentum buffer starts as zeros with a step count: PyTorch's first step sets the buffer
   * to the (undamped) gradient, which is the damped update with coefficient 1 while the count is
   * 0 — so the state exists from construction and a compiled step can update it.
   */
  protected override initState(p: Parameter, g: ParamGroup<SGDOptions>, state: ParamState): void {
    if (g.momentum === 0) return;
    this.zeroStep(state, state.momentumBuffer ? 1 : 0);
    this.zerosState(state, 'momentumBuffer', p);
  }

  protected update(p: Parameter, grad: Tensor, g: ParamGroup<SGDOptions>, state: ParamState): Tensor {
    const dt = p.dtype;
    let d = this.structural(g, 'maximize', () => g.maximize) ? neg(grad) : grad;
    if (this.structural(g, 'weightDecay ≠ 0', () => g.weightDecay !== 0)) d = add(d, mul(p, this.hp(g, 'weightDecay', dt)));
    if (this.structural(g, 'momentum ≠ 0', () => g.momentum !== 0)) {
      const buf = this.zerosState(state, 'momentumBuffer', p);
      let incoming = d;
      if (this.structural(g, 'dampening ≠ 0', () => g.dampening !== 0)) {
        const started = gt(state.step ?? 0, 0);
        incoming = mul(d, where(started, sub(1, this.hp(g, 'dampening')), 1).cast(dt));
      }
      this.countStep(state);
      const stored = this.setState(state, 'momentumBuffer', add(mul(buf, this.hp(g, 'momentum', dt)), incoming));
      d = this.structural(g, 'nesterov', () => g.nesterov) ? add(d, mul(stored, this.hp(g, 'momentum', dt))) : stored;
    }
    return sub(p, mul(d, this.hp(g, 'lr', dt)));
  }
}

import type { Tensor } from '@kiln/eager';
import { add, div, maximum, mul, neg, pow, sqrt, sub } from '@kiln/eager';
import type { Parameter } from '../parameter.js';
import type { BaseOptions, ParamGroup, ParamsArg, ParamState } from './optimizer.js';
import { Optimizer } from './optimizer.js';
import { checkBetas, checkNonNegative } from './validate.js';

/** Options of {@link Adam} and {@link AdamW}. */
export interface AdamOptions extends BaseOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** Added to the denominator for stability (default 1e-8). */
  eps: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay `param·(1 - lr·weightDecay)` (default 1e-2). */
  weightDecay: number;
  /** Use the maximum of past second moments (AMSGrad; default false). */
  amsgrad: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

/** Adam's update, shared by Adam (L2 weight decay in the gradient) and AdamW (decoupled decay). */
abstract class AdamBase extends Optimizer<AdamOptions> {
  protected readonly stateKeys = ['step', 'expAvg', 'expAvgSq', 'maxExpAvgSq'] as const;
  protected abstract readonly decoupled: boolean;

  protected check(o: Readonly<AdamOptions>, where: string): void {
    checkNonNegative(this.name, where, o, ['eps', 'weightDecay']);
    checkBetas(this.name, where, o.betas);
  }

  protected override initState(p: Parameter, g: ParamGroup<AdamOptions>, state: ParamState): void {
    this.zeroStep(state);
    this.zerosState(state, 'expAvg', p);
    this.zerosState(state, 'expAvgSq', p);
    if (g.amsgrad) this.zerosState(state, 'maxExpAvgSq', p);
  }

  protected update(p: Parameter, grad: Tensor, g: ParamGroup<AdamOptions>, state: ParamState): Tensor {
    const dt = p.dtype;
    const hp = (name: string) => this.hp(g, name, dt);
    const oneMinus = (name: string) => this.derived(g, `1-${name}:${dt}`, () => sub(1, this.hp(g, name)).cast(dt));
    const step = this.countStep(state);
    let param: Tensor = p;
    let d = this.structural(g, 'maximize', () => g.maximize) ? neg(grad) : grad;
    if (this.structural(g, 'weightDecay ≠ 0', () => g.weightDecay !== 0)) {
      if (this.decoupled) param = mul(p, this.derived(g, `1-lr*weightDecay:${dt}`, () => sub(1, mul(this.hp(g, 'lr'), this.hp(g, 'weightDecay'))).cast(dt)));
      else d = add(d, mul(p, hp('weightDecay')));
    }
    const expAvg = this.zerosState(state, 'expAvg', p);
    const expAvgSq = this.zerosState(state, 'expAvgSq', p);
    const m = this.setState(state, 'expAvg', add(mul(expAvg, hp('betas[0]')), mul(d, oneMinus('betas[0]'))));
    let v = this.setState(state, 'expAvgSq', add(mul(expAvgSq, hp('betas[1]')), mul(mul(d, d), oneMinus('betas[1]'))));
    if (this.structural(g, 'amsgrad', () => g.amsgrad)) {
      const maxSq = this.zerosState(state, 'maxExpAvgSq', p);
      v = this.setState(state, 'maxExpAvgSq', maximum(maxSq, v));
    }
    // Bias corrections from the step tensor, not a JavaScript number, so a compiled step stays
    // correct; in float64 and then rounded to the parameter's dtype, as PyTorch's Python floats.
    const stepSize = div(this.hp(g, 'lr'), sub(1, pow(this.hp(g, 'betas[0]'), step))).cast(dt);
    const biasCorrection2Sqrt = sqrt(sub(1, pow(this.hp(g, 'betas[1]'), step))).cast(dt);
    const denom = add(div(sqrt(v), biasCorrection2Sqrt), hp('eps'));
    return sub(param, mul(div(m, denom), stepSize));
  }
}

/**
 * Adam (Kingma & Ba), as `torch.optim.Adam`: bias-corrected moment estimates, optional
 * AMSGrad, and `weightDecay` as an L2 term added to the gradient (see {@link AdamW} for the
 * decoupled form).
 *
 * @example
 * ```ts
 * const opt = new Adam(model.parameters(), { lr: 3e-3 });
 * tidy(() => { crossEntropy(model.forward(x), y).backward(); opt.step(); });
 * opt.zeroGrad();
 * ```
 */
export class Adam extends AdamBase {
  protected readonly decoupled = false;

  constructor(params: ParamsArg<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('Adam', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false }, options);
    this.createState();
  }
}

/**
 * AdamW (Loshchilov & Hutter), as `torch.optim.AdamW`: Adam with the weight decay decoupled
 * from the gradient — each step first scales the parameter by `1 - lr·weightDecay`.
 *
 * @example
 * ```ts
 * const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.01 });
 * ```
 */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;

  constructor(params: ParamsArg<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('AdamW', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false }, options);
    this.createState();
  }
}

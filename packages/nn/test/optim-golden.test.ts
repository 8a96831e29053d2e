import type { Tensor } from '@kiln/eager';
import { mul, pow, sub, sum, tensor, tidy, zeros } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import type { LRScheduler, ParamGroupSpec } from '../src/index.js';
import { Adam, AdamW, CosineAnnealingLR, LinearWarmup, RMSprop, SequentialLR, SGD, StepLR, clipGradNorm } from '../src/index.js';
import { Parameter } from '../src/parameter.js';
import type { EncodedTensor } from './helpers/golden_losses_optim.js';
import { decode, decodeNum, expectClose, loadCases } from './helpers/golden_losses_optim.js';

interface OptimCase {
  optimizer: 'SGD' | 'Adam' | 'AdamW' | 'RMSprop';
  name: string;
  options: Record<string, unknown>;
  groups: Record<string, unknown>[] | null;
  constants: Record<'a' | 'm0' | 's' | 'm1', EncodedTensor>;
  init: EncodedTensor[];
  trajectory: EncodedTensor[][];
}

type AnyOptimizer = SGD | Adam | AdamW | RMSprop;
const OPTIMIZERS = {
  SGD: (p: never, o: never) => new SGD(p, o),
  Adam: (p: never, o: never) => new Adam(p, o),
  AdamW: (p: never, o: never) => new AdamW(p, o),
  RMSprop: (p: never, o: never) => new RMSprop(p, o),
} as unknown as Record<string, (params: Iterable<Parameter> | ParamGroupSpec<Record<string, unknown>>[], options: Record<string, unknown>) => AnyOptimizer>;

/** The same coupled quadratic as the generator's `objective`. */
function objective(p0: Tensor, p1: Tensor, c: Record<string, Tensor>): Tensor {
  const a = sum(mul(c.a, pow(sub(p0, c.m0), 2)));
  const b = sum(mul(c.s, pow(sub(p1, c.m1), 2)));
  return a.add(b).add(mul(mul(sum(p0), sum(p1)), 0.05));
}

describe('optimizers follow PyTorch\'s parameter trajectories', () => {
  for (const c of loadCases<OptimCase>('optim')) {
    it(`${c.optimizer}: ${c.name}`, () => {
      const consts = tidy(() => Object.fromEntries(Object.entries(c.constants).map(([k, v]) => [k, decode(v)])));
      const params = c.init.map((t) => new Parameter(decode(t)));
      const spec = c.groups ? c.groups.map((g, i) => ({ params: [params[i]], ...g })) : params;
      const opt = OPTIMIZERS[c.optimizer](spec, c.options);
      c.trajectory.forEach((expected, step) => {
        opt.zeroGrad();
        tidy(() => objective(params[0], params[1], consts).backward());
        opt.step();
        expected.forEach((e, i) => expectClose(params[i], e, undefined, undefined, `step ${step + 1}, parameter ${i}`));
      });
      opt.dispose();
    });
  }

  it('covers every optimizer with several option combinations', () => {
    const cases = loadCases<OptimCase>('optim');
    for (const name of Object.keys(OPTIMIZERS)) expect(cases.filter((c) => c.optimizer === name).length, name).toBeGreaterThanOrEqual(3);
  });
});

interface SchedSpec { type: string; schedulers?: SchedSpec[]; milestones?: number[]; [k: string]: unknown }
interface SchedCase { name: string; spec: SchedSpec; lrs: number[]; history: number[][] }

function build(opt: SGD, spec: SchedSpec): LRScheduler {
  const o = spec as never;
  switch (spec.type) {
    case 'StepLR': return new StepLR(opt, o);
    case 'CosineAnnealingLR': return new CosineAnnealingLR(opt, o);
    case 'LinearWarmup': return new LinearWarmup(opt, o);
    case 'SequentialLR': return new SequentialLR(opt, { schedulers: spec.schedulers!.map((s) => build(opt, s)), milestones: spec.milestones! });
    default: throw new Error(`unknown scheduler ${spec.type}`);
  }
}

describe('learning-rate schedulers match PyTorch', () => {
  for (const c of loadCases<SchedCase>('scheduler')) {
    it(c.name, () => {
      const opt = new SGD(c.lrs.map((lr) => ({ params: [new Parameter(zeros([1]))], lr })), { lr: c.lrs[0] });
      const sched = build(opt, c.spec);
      const seen = [opt.paramGroups.map((g) => g.lr)];
      for (let i = 1; i < c.history.length; i++) {
        sched.step();
        seen.push(opt.paramGroups.map((g) => g.lr));
        expect(sched.getLastLr()).toEqual(seen[i]);
      }
      seen.forEach((lrs, step) => lrs.forEach((lr, g) => expect(lr, `step ${step}, group ${g}`).toBeCloseTo(c.history[step][g], 12)));
    });
  }
});

interface ClipCase { name: string; maxNorm: number; normType: number | 'inf'; grads: EncodedTensor[]; total: EncodedTensor; clipped: EncodedTensor[] }

describe('clipGradNorm matches torch.nn.utils.clip_grad_norm_', () => {
  for (const c of loadCases<ClipCase>('clip')) {
    it(c.name, () => {
      const params = c.grads.map((g) => {
        const p = new Parameter(tensor(0, g.dtype).broadcastTo(g.shape).add(0));
        p.grad = decode(g);
        return p;
      });
      const total = clipGradNorm(params, c.maxNorm, decodeNum(c.normType));
      expectClose(total, c.total, undefined, undefined, 'total norm');
      params.forEach((p, i) => expectClose(p.grad!, c.clipped[i], undefined, undefined, `gradient ${i}`));
    });
  }
});

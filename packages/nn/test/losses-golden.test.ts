import type { Tensor } from '@kiln/eager';
import { memory, mul, sum, tidy, valueAndGrad } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { binaryCrossEntropyWithLogits, crossEntropy, l1Loss, mseLoss, nllLoss } from '../src/index.js';
import type { EncodedTensor } from './helpers/golden_losses_optim.js';
import { decode, expectClose, loadCases } from './helpers/golden_losses_optim.js';
import { settleGarbage } from './helpers/settle.js';

interface LossCase {
  loss: string;
  name: string;
  options: Record<string, unknown>;
  tensors: Record<string, EncodedTensor>;
  cotangent: EncodedTensor;
  output: EncodedTensor;
  grads: Record<string, EncodedTensor>;
}

type LossFn = (input: Tensor, target: Tensor, options: Record<string, unknown>) => Tensor;
const LOSSES: Record<string, LossFn> = { crossEntropy, nllLoss, mseLoss, l1Loss, binaryCrossEntropyWithLogits };

describe('losses match PyTorch (forward and gradients)', () => {
  for (const c of loadCases<LossCase>('loss')) {
    it(`${c.loss}: ${c.name}`, () => {
      tidy(() => {
        const t = Object.fromEntries(Object.entries(c.tensors).map(([k, v]) => [k, decode(v)]));
        const options: Record<string, unknown> = { ...c.options };
        for (const extra of ['weight', 'posWeight']) if (t[extra]) options[extra] = t[extra];
        const roles = Object.keys(c.grads);
        const cot = decode(c.cotangent);
        const fn = (...xs: Tensor[]) => {
          const args = { input: t.input, target: t.target };
          roles.forEach((r, i) => (args[r as 'input' | 'target'] = xs[i]));
          return LOSSES[c.loss](args.input, args.target, options);
        };
        const value = fn(...roles.map((r) => t[r]));
        expectClose(value, c.output, undefined, undefined, 'forward');
        const [, grads] = valueAndGrad((...xs: Tensor[]) => sum(mul(fn(...xs), cot)), roles.map((_, i) => i))(...roles.map((r) => t[r]));
        roles.forEach((r, i) => expectClose(grads[i], c.grads[r], undefined, undefined, `gradient of ${r}`));
      });
    });
  }

  it('has a case for every loss, every reduction, and gradients', () => {
    const cases = loadCases<LossCase>('loss');
    for (const loss of Object.keys(LOSSES)) {
      for (const reduction of ['mean', 'sum', 'none']) {
        expect(cases.some((c) => c.loss === loss && (c.options.reduction ?? 'mean') === reduction), `${loss} ${reduction}`).toBe(true);
      }
    }
    expect(cases.every((c) => Object.keys(c.grads).length > 0)).toBe(true);
  });

  it('frees its intermediates: only the loss stays', async () => {
    await settleGarbage();
    const before = memory().numTensors;
    const loss = tidy(() => {
      const x = decode(loadCases<LossCase>('loss')[0].tensors.input);
      const y = decode(loadCases<LossCase>('loss')[0].tensors.target);
      const before2 = memory().numTensors;
      const l = crossEntropy(x, y, { labelSmoothing: 0.1 });
      expect(memory().numTensors).toBe(before2 + 1);
      return l;
    });
    expect(memory().numTensors).toBe(before + 1);
    loss.dispose();
  });
});

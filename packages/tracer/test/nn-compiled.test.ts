/**
 * Every nn layer compiled vs eager: the forward pass (three calls, so state such as BatchNorm's
 * running statistics and the random generator's position is checked as it evolves), and forward
 * + backward (loss, the inputs' gradients, and every parameter's .grad written back), in
 * training and eval mode where they differ. Two copies of each model are made from the same
 * seed, one run eagerly and one compiled.
 */
import { verifyGraph } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { arange, cos, full, manualSeed, mul, randint, randn, reshape, sum, tensor, tidy, triu } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import * as nn from '../../nn/src/index.js';
import { compile } from '../src/index.js';
import { expectSameTensors } from './equivalence-compare.js';

type Mode = 'train' | 'eval';

interface Case {
  readonly name: string;
  /** The exported classes this case exercises. */
  readonly covers: readonly string[];
  readonly make: () => nn.Module;
  readonly inputs: () => Tensor[];
  readonly forward: (m: nn.Module, ...xs: Tensor[]) => Tensor | (Tensor | null)[];
  readonly modes?: readonly Mode[];
}

type Unary = nn.Module & { forward(x: Tensor): Tensor };
const unary = (name: string, make: () => Unary, shape: number[], modes?: Mode[]): Case => ({
  name,
  covers: [name.split(' ')[0]],
  make,
  inputs: () => [randn(shape)],
  forward: (m, x) => (m as Unary).forward(x),
  ...(modes ? { modes } : {}),
});

/** A model holding its layers in a ModuleList (which has no forward of its own). */
class Stack extends nn.Module {
  readonly layers = new nn.ModuleList([new nn.Linear(4, 6), new nn.Linear(6, 6), new nn.Linear(6, 2)]);
  forward(x: Tensor): Tensor {
    for (const layer of this.layers) x = (layer as nn.Linear).forward(x).tanh();
    return x;
  }
}

const causal = () => triu(full([5, 5], Number.NEGATIVE_INFINITY), 1);

const CASES: Case[] = [
  unary('Linear', () => new nn.Linear(5, 3), [4, 5]),
  unary('Linear without bias, 3-D input', () => new nn.Linear(5, 3, { bias: false }), [2, 3, 5]),
  unary('Flatten', () => new nn.Flatten(), [2, 3, 2, 2]),
  unary('Identity', () => new nn.Identity(), [3]),
  unary('Conv2d stride 2, padding 1', () => new nn.Conv2d(3, 4, 3, { stride: 2, padding: 1 }), [2, 3, 7, 7]),
  unary('Conv2d groups 2, dilation 2, same padding', () => new nn.Conv2d(4, 4, [3, 1], { groups: 2, dilation: 2, padding: 'same' }), [1, 4, 6, 5]),
  unary('MaxPool2d', () => new nn.MaxPool2d(2), [2, 2, 6, 6]),
  unary('MaxPool2d stride 2, padding 1, ceil mode', () => new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }), [1, 2, 6, 7]),
  unary('AvgPool2d', () => new nn.AvgPool2d(2), [2, 2, 6, 6]),
  unary('AvgPool2d padding 1, without counting the padding', () => new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }), [1, 2, 5, 5]),
  unary('ReLU', () => new nn.ReLU(), [3, 4]),
  unary('GELU', () => new nn.GELU(), [3, 4]),
  unary('GELU tanh', () => new nn.GELU({ approximate: 'tanh' }), [3, 4]),
  unary('Tanh', () => new nn.Tanh(), [3, 4]),
  unary('Sigmoid', () => new nn.Sigmoid(), [3, 4]),
  unary('Softmax', () => new nn.Softmax(1), [3, 4]),
  unary('Dropout', () => new nn.Dropout(0.3), [4, 8], ['train', 'eval']),
  unary('BatchNorm1d', () => new nn.BatchNorm1d(4), [8, 4], ['train', 'eval']),
  unary('BatchNorm1d over [N, C, L], cumulative average', () => new nn.BatchNorm1d(4, { momentum: null }), [6, 4, 3], ['train', 'eval']),
  unary('BatchNorm2d', () => new nn.BatchNorm2d(3), [4, 3, 5, 5], ['train', 'eval']),
  unary('BatchNorm2d without running statistics or affine', () => new nn.BatchNorm2d(3, { trackRunningStats: false, affine: false }), [4, 3, 2, 2], ['train', 'eval']),
  unary('LayerNorm', () => new nn.LayerNorm([5]), [2, 3, 5]),
  unary('LayerNorm over two axes without affine', () => new nn.LayerNorm([3, 5], { elementwiseAffine: false }), [2, 3, 5]),
  {
    name: 'Embedding with a padding index',
    covers: ['Embedding'],
    make: () => new nn.Embedding(10, 4, { paddingIdx: 0 }),
    inputs: () => [randint(0, 10, [2, 3])],
    forward: (m, i) => (m as nn.Embedding).forward(i),
  },
  unary('Sequential', () => new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Dropout(0.2), new nn.Linear(8, 3)), [5, 4], ['train', 'eval']),
  { ...unary('ModuleList', () => new Stack(), [3, 4]), covers: ['ModuleList'] },
  {
    name: 'MultiheadAttention (causal mask, key padding mask, per-head weights, dropout)',
    covers: ['MultiheadAttention'],
    make: () => new nn.MultiheadAttention(8, 2, { batchFirst: true, dropout: 0.2 }),
    inputs: () => [randn([2, 5, 8]), tensor([[false, false, false, false, true], [false, false, false, false, false]])],
    forward: (m, x, kpm) => (m as nn.MultiheadAttention).forward(x, x, x, { attnMask: causal(), keyPaddingMask: kpm, averageAttnWeights: false }),
    modes: ['train', 'eval'],
  },
  {
    name: 'MultiheadAttention (sequence first, separate key and value sizes)',
    covers: ['MultiheadAttention'],
    make: () => new nn.MultiheadAttention(6, 3, { kdim: 4, vdim: 5 }),
    inputs: () => [randn([3, 2, 6]), randn([4, 2, 4]), randn([4, 2, 5])],
    forward: (m, q, k, v) => (m as nn.MultiheadAttention).forward(q, k, v),
  },
  {
    name: 'TransformerEncoderLayer',
    covers: ['TransformerEncoderLayer'],
    make: () => new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true }),
    inputs: () => [randn([2, 5, 8])],
    forward: (m, x) => (m as nn.TransformerEncoderLayer).forward(x, { srcMask: causal() }),
    modes: ['train', 'eval'],
  },
  {
    name: 'TransformerEncoderLayer pre-LN with GELU',
    covers: ['TransformerEncoderLayer'],
    make: () => new nn.TransformerEncoderLayer(8, 4, { dimFeedforward: 12, normFirst: true, activation: 'gelu', dropout: 0 }),
    inputs: () => [randn([5, 2, 8])],
    forward: (m, x) => (m as nn.TransformerEncoderLayer).forward(x),
  },
];

const isFloat = (t: Tensor) => t.dtype === 'float32' || t.dtype === 'float64';
const outputsOf = (r: Tensor | (Tensor | null)[]): Tensor[] => (Array.isArray(r) ? r.filter((t): t is Tensor => t !== null) : [r]);

function models(c: Case, mode: Mode): [nn.Module, nn.Module] {
  const build = () => {
    manualSeed(42);
    const m = c.make();
    return mode === 'train' ? m.train() : m.eval();
  };
  return [build(), build()];
}

function inputsOf(c: Case): Tensor[] {
  manualSeed(1);
  return c.inputs();
}

/** A fixed, uneven weighting of an output, so the loss's gradient differs per element. */
const weighted = (t: Tensor) => sum(mul(t, cos(reshape(arange(0, t.size, 1, 'float32'), [...t.shape]))));

/** The loss of one forward pass, its gradient w.r.t. every float input (backward fills the parameters' .grad). */
function lossAndInputGrads(c: Case, m: nn.Module, xs: Tensor[]): Tensor[] {
  m.zeroGrad();
  const leaves = xs.map((x) => (isFloat(x) ? x.detach().requireGrad() : x));
  let loss = tensor(0, 'float32');
  for (const out of outputsOf(c.forward(m, ...leaves))) loss = loss.add(weighted(out));
  loss.backward();
  return [loss, ...leaves.filter(isFloat).map((x) => x.grad!)];
}

function gradsOf(m: nn.Module): Tensor[] {
  return m.parameters().map((p) => {
    expect(p.grad, 'a parameter gradient').not.toBeNull();
    return p.grad!;
  });
}

describe.each(CASES)('$name: compiled equals eager', (c) => {
  it.each<Mode>(c.modes ?? ['train'])('forward (%s mode), three calls, and the state after them', (mode) => {
    tidy(() => {
      const [eagerModel, compiledModel] = models(c, mode);
      const xs = inputsOf(c);
      const compiled = compile((...args: Tensor[]) => outputsOf(c.forward(compiledModel, ...args)));
      manualSeed(7);
      const want = [0, 1, 2].map(() => outputsOf(c.forward(eagerModel, ...xs)));
      manualSeed(7);
      const got = [0, 1, 2].map(() => compiled(...xs));
      got.forEach((g, i) => expectSameTensors(g, want[i], [], `call ${i} output`));
      expectSameTensors(compiledModel.buffers(), eagerModel.buffers(), [], 'buffer');
      expect(compiled.stats.traces).toBe(1);
      verifyGraph(compiled.graph(...xs));
    });
  });

  it.each<Mode>(c.modes ?? ['train'])('forward and backward (%s mode): loss, input gradients and parameter gradients', (mode) => {
    tidy(() => {
      const [eagerModel, compiledModel] = models(c, mode);
      const xs = inputsOf(c);
      const compiled = compile((...args: Tensor[]) => lossAndInputGrads(c, compiledModel, args));
      for (let call = 0; call < 2; call++) {
        manualSeed(11 + call);
        const want = lossAndInputGrads(c, eagerModel, xs);
        manualSeed(11 + call);
        expectSameTensors(compiled(...xs), want, [], `call ${call} loss or input gradient`);
        expectSameTensors(gradsOf(compiledModel), gradsOf(eagerModel), [], `call ${call} parameter gradient`);
      }
      expectSameTensors(compiledModel.buffers(), eagerModel.buffers(), [], 'buffer');
    });
  });
});

describe('coverage', () => {
  it('every layer class @kiln/nn exports has a case', () => {
    const layers = Object.entries(nn)
      .filter(([name, v]) => typeof v === 'function' && v.prototype instanceof nn.Module && name !== 'Parameter')
      .map(([name]) => name)
      .sort();
    const covered = new Set(CASES.flatMap((c) => c.covers));
    expect(layers.filter((n) => !covered.has(n))).toEqual([]);
    expect(layers.length).toBeGreaterThanOrEqual(20);
  });
});

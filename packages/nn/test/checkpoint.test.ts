/**
 * Checkpoints: training resumed from saveCheckpoint/loadCheckpoint into a freshly built model
 * and optimizer continues bit for bit as the uninterrupted run (losses, weights, running
 * statistics, optimizer moments, dropout's random numbers), for SGD with momentum, Adam with
 * amsgrad and two parameter groups, and centered RMSprop; mismatches and damage are refused.
 */
import type { Tensor } from '@kiln/eager';
import { manualSeed, randint, randn, tidy } from '@kiln/eager';
import { FormatError, readTensors } from '@kiln/serializer';
import { describe, expect, it } from 'vitest';
import type { BaseOptions, Optimizer } from '../src/index.js';
import { Adam, BatchNorm1d, crossEntropy, Dropout, Linear, loadCheckpoint, ReLU, RMSprop, saveCheckpoint, Sequential, SGD, StateDictError } from '../src/index.js';

const bits = (t: Tensor) => Array.from(new Uint8Array(t.dataSync().buffer.slice(0)));
const lossBits = (x: number) => Array.from(new Uint8Array(Float64Array.of(x).buffer));

type MakeOptimizer = (model: Sequential) => Optimizer<BaseOptions>;

const OPTIMIZERS: [string, MakeOptimizer][] = [
  ['SGD with momentum and weight decay', (m) => new SGD(m.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-3, nesterov: true })],
  ['Adam with amsgrad, two parameter groups', (m) => {
    const [first, ...rest] = m.parameters();
    return new Adam([{ params: [first] }, { params: rest, lr: 3e-3 }], { lr: 1e-2, amsgrad: true }) as unknown as Optimizer<BaseOptions>;
  }],
  ['centered RMSprop with momentum', (m) => new RMSprop(m.parameters(), { lr: 1e-3, centered: true, momentum: 0.5 }) as unknown as Optimizer<BaseOptions>],
];

function build(seed: number, makeOptimizer: MakeOptimizer) {
  manualSeed(seed);
  const model = new Sequential(new Linear(6, 16), new BatchNorm1d(16), new ReLU(), new Dropout(0.3), new Linear(16, 3));
  return { model, opt: makeOptimizer(model) };
}

function step(model: Sequential, opt: Optimizer<BaseOptions>, x: Tensor, y: Tensor): number {
  return tidy(() => {
    opt.zeroGrad();
    const loss = crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss.item() as number;
  });
}

describe('saveCheckpoint / loadCheckpoint', () => {
  manualSeed(100);
  const data = Array.from({ length: 6 }, () => [randn([8, 6]), randint(0, 3, [8])] as const);

  for (const [name, makeOptimizer] of OPTIMIZERS) {
    it(`resumes training bit for bit: ${name}`, () => {
      const a = build(1, makeOptimizer);
      for (const [x, y] of data.slice(0, 3)) step(a.model, a.opt, x, y);
      const bytes = saveCheckpoint({ module: a.model, optimizer: a.opt, metadata: { epoch: 3, tag: 'mid' } });
      const uninterrupted = data.slice(3).map(([x, y]) => step(a.model, a.opt, x, y));

      const b = build(2, makeOptimizer); // different initial weights, fresh optimizer state
      const { metadata } = loadCheckpoint(bytes, { module: b.model, optimizer: b.opt });
      expect(metadata).toEqual({ epoch: 3, tag: 'mid' });
      const resumed = data.slice(3).map(([x, y]) => step(b.model, b.opt, x, y));
      expect(resumed.map(lossBits)).toEqual(uninterrupted.map(lossBits));
      const want = a.model.stateDict();
      for (const [key, t] of Object.entries(b.model.stateDict())) expect(bits(t), key).toEqual(bits(want[key]));
      const stateA = a.opt.stateDict().state;
      const stateB = b.opt.stateDict().state;
      for (const [i, s] of Object.entries(stateA)) {
        for (const [k, v] of Object.entries(s)) {
          const w = stateB[Number(i)][k];
          if (typeof v === 'number') expect(w).toBe(v);
          else expect(bits(w as Tensor), `state ${i}.${k}`).toEqual(bits(v));
        }
      }
    });
  }

  it('stores tensors under readable names', () => {
    const a = build(1, OPTIMIZERS[1][1]);
    step(a.model, a.opt, data[0][0], data[0][1]);
    const file = readTensors(saveCheckpoint({ module: a.model, optimizer: a.opt }));
    expect([...file.tensors.keys()].filter((k) => k.startsWith('module/'))).toEqual(Object.keys(a.model.stateDict()).map((k) => `module/${k}`));
    expect(file.tensors.has('optimizer/state/0/expAvg')).toBe(true);
    expect(file.metadata['optimizer/name']).toBe('Adam');
    expect(file.metadata['optimizer/group/1/lr']).toBe(3e-3);
  });

  it('refuses a checkpoint that does not fit, and damaged bytes, changing nothing', () => {
    const a = build(1, OPTIMIZERS[0][1]);
    const bytes = saveCheckpoint({ module: a.model, optimizer: a.opt });
    const other = new Sequential(new Linear(6, 4), new ReLU(), new Linear(4, 3));
    const before = bits(other.stateDict()['0.weight']);
    expect(() => loadCheckpoint(bytes, { module: other })).toThrow(StateDictError);
    expect(bits(other.stateDict()['0.weight'])).toEqual(before);
    const b = build(2, OPTIMIZERS[1][1]);
    expect(() => loadCheckpoint(bytes, { optimizer: b.opt })).toThrow(/holds SGD state, not Adam state/);
    expect(() => loadCheckpoint(bytes.subarray(0, bytes.length - 10), { module: b.model })).toThrow(FormatError);
    expect(() => loadCheckpoint(saveCheckpoint({ module: a.model, rng: false }))).toThrow(/no generator state/);
  });
});

import type { Tensor } from '@kiln/eager';
import { manualSeed, memory, randint, randn, tensor } from '@kiln/eager';
import { ArgumentError } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { compile } from '../../tracer/src/index.js';
import { loadDigits } from '../../../docs/examples/data/digits.js';
import { settleGarbage } from './helpers/settle.js';
import type { Callback, EpochLogs } from '../src/index.js';
import {
  Adam, DataLoader, Linear, ReLU, SGD, Sequential, accuracy, batches, checkpoint, crossEntropy, earlyStopping, fit,
  StepLR, historyFromJsonl, jsonlLogger, lrSchedule, plotHistorySvg, progressBar, resumeFrom, saveCheckpoint, trainTestSplit,
} from '../src/index.js';

/** A small classification problem: 40 rows of 4 features, 3 classes; 4 batches of 10 per epoch. */
function problem(seed = 0) {
  manualSeed(seed);
  const x = randn([40, 4]);
  const y = randint(0, 3, [40]);
  const model = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3));
  const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const dispose = () => {
    for (const t of [x, y]) t.dispose();
    optimizer.dispose();
    model.dispose();
  };
  return { x, y, model, optimizer, dispose };
}

const weightsOf = (model: Sequential) => model.parameters().map((p) => Array.from(p.dataSync()));

/** A validation function that reports the given values of `name`, one per epoch. */
const scripted = (name: string, values: number[]) => {
  let epoch = 0;
  return () => ({ [name]: values[epoch++] });
};

describe('fit: early stopping', () => {
  it('stops after `patience` epochs without improvement, on a scripted val_loss', () => {
    const p = problem();
    const history = fit({
      model: p.model, optimizer: p.optimizer, loss: crossEntropy, epochs: 10,
      data: () => batches([p.x, p.y], { batchSize: 10 }),
      validation: scripted('val_loss', [1.0, 0.8, 0.9, 0.85, 0.95, 0.7, 0.6, 0.5, 0.4, 0.3]),
      callbacks: [earlyStopping({ monitor: 'val_loss', patience: 2 })],
    });
    // Best at epoch 2 (0.8); epochs 3 and 4 do not improve on it: stop after epoch 4.
    expect(history.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
    expect(history.stoppedEpoch).toBe(4);
    expect(history.bestEpoch).toBe(2);
    p.dispose();
  });

  it('minDelta: smaller changes are not improvements; mode auto maximises accuracy', () => {
    const p = problem();
    const run = (monitor: string, values: number[], minDelta: number) => fit({
      model: p.model, optimizer: p.optimizer, loss: crossEntropy, epochs: 10, data: () => batches([p.x, p.y], { batchSize: 10 }),
      validation: scripted(monitor, values), callbacks: [earlyStopping({ monitor, patience: 1, minDelta })],
    });
    // 0.95 is within 0.1 of 1.0: no improvement, stop at epoch 2.
    expect(run('val_loss', [1.0, 0.95, 0.5, 0.4], 0.1).stoppedEpoch).toBe(2);
    // Without minDelta it improves until 0.4 → 0.45 at epoch 5.
    expect(run('val_loss', [1.0, 0.95, 0.5, 0.4, 0.45, 0.1], 0).stoppedEpoch).toBe(5);
    // Accuracy: larger is better; 0.7 after 0.8 stops at epoch 3, best epoch 2.
    const acc = run('val_accuracy', [0.5, 0.8, 0.7, 0.9], 0);
    expect([acc.stoppedEpoch, acc.bestEpoch]).toEqual([3, 2]);
    p.dispose();
  });

  it('restoreBestWeights puts back the best epoch\'s weights', () => {
    const p = problem();
    const seen: number[][][] = [];
    const record: Callback = { onEpochEnd: () => void seen.push(weightsOf(p.model)) };
    const history = fit({
      model: p.model, optimizer: p.optimizer, loss: crossEntropy, epochs: 10, data: () => batches([p.x, p.y], { batchSize: 10 }),
      validation: scripted('val_loss', [1.0, 0.5, 0.7, 0.8, 0.9]),
      callbacks: [record, earlyStopping({ patience: 3, restoreBestWeights: true })],
    });
    expect(history.stoppedEpoch).toBe(5);
    expect(seen[1]).not.toEqual(seen[4]);
    expect(weightsOf(p.model)).toEqual(seen[1]);
    p.dispose();
  });

  it('a monitored metric that is not logged is an ArgumentError naming the metrics there are', () => {
    const p = problem();
    expect(() => fit({ model: p.model, optimizer: p.optimizer, loss: crossEntropy, epochs: 2, data: () => batches([p.x, p.y], { batchSize: 10 }), callbacks: [earlyStopping()] }))
      .toThrow(/no metric 'val_loss' in epoch 1's logs \(epoch, loss, steps, seconds\)/);
    p.dispose();
  });
});

describe('fit: checkpoints', () => {
  it('writes a checkpoint every N steps, and resuming from one continues exactly', () => {
    const full = problem(3);
    const files = new Map<string, Uint8Array>();
    const train = new DataLoader([full.x, full.y], { batchSize: 10, shuffle: true });
    fit({
      model: full.model, optimizer: full.optimizer, loss: crossEntropy, epochs: 3, data: train,
      callbacks: [checkpoint({ everySteps: 4, write: (name, bytes) => files.set(name, bytes) })],
    });
    expect([...files.keys()]).toEqual(['checkpoint-step-4.kiln', 'checkpoint-step-8.kiln', 'checkpoint-step-12.kiln']);
    const expected = weightsOf(full.model);

    // A fresh model and optimizer (different initial weights), resumed after epoch 2.
    const resumed = problem(99);
    const at = resumeFrom(files.get('checkpoint-step-8.kiln') as Uint8Array, { model: resumed.model, optimizer: resumed.optimizer });
    expect(at).toEqual({ initialEpoch: 2, globalStep: 8, exact: true });
    const history = fit({
      model: resumed.model, optimizer: resumed.optimizer, loss: crossEntropy, epochs: 3, initialEpoch: at.initialEpoch,
      data: new DataLoader([full.x, full.y], { batchSize: 10, shuffle: true }),
    });
    expect(history.steps.map((s) => s.globalStep)).toEqual([9, 10, 11, 12]);
    expect(weightsOf(resumed.model)).toEqual(expected);
    full.dispose();
    resumed.dispose();
  });

  it('best and per-epoch checkpoints; a mid-epoch checkpoint redoes its epoch', () => {
    const p = problem();
    const files = new Map<string, Uint8Array>();
    fit({
      model: p.model, optimizer: p.optimizer, loss: crossEntropy, epochs: 4, data: new DataLoader([p.x, p.y], { batchSize: 10 }),
      validation: scripted('val_loss', [0.9, 0.5, 0.6, 0.4]),
      callbacks: [checkpoint({ everyEpochs: 2, everySteps: 6, best: { monitor: 'val_loss' }, prefix: 'run', write: (name, bytes) => files.set(name, bytes) })],
    });
    expect([...files.keys()].sort()).toEqual(['run-best.kiln', 'run-epoch-2.kiln', 'run-epoch-4.kiln', 'run-step-12.kiln', 'run-step-6.kiln']);
    const fresh = problem(5);
    expect(resumeFrom(files.get('run-best.kiln') as Uint8Array, { model: fresh.model })).toEqual({ initialEpoch: 4, globalStep: 16, exact: true });
    expect(resumeFrom(files.get('run-step-6.kiln') as Uint8Array, { model: fresh.model })).toEqual({ initialEpoch: 1, globalStep: 6, exact: false });
    p.dispose();
    fresh.dispose();
  });
});

describe('fit: metric log, history and plot', () => {
  it('JSONL lines parse and match the returned history; the plot draws them', () => {
    const p = problem();
    let text = '';
    const history = fit({
      model: p.model, optimizer: p.optimizer, loss: crossEntropy, epochs: 3, data: new DataLoader([p.x, p.y], { batchSize: 16 }),
      validation: { data: [[p.x, p.y]], metrics: { accuracy } },
      callbacks: [jsonlLogger({ write: (line) => { text += line; } })],
    });
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.length).toBe(3 * 3 + 3); // 3 steps (16, 16, 8 rows) and one epoch line per epoch
    const records = lines.map((l) => JSON.parse(l));
    expect(records.map((r) => r.kind)).toEqual(['step', 'step', 'step', 'epoch', 'step', 'step', 'step', 'epoch', 'step', 'step', 'step', 'epoch']);
    expect(records[2]).toEqual({ kind: 'step', ...history.steps[2] });
    expect(historyFromJsonl(text)).toEqual(history);
    // Epoch loss is the row-weighted mean of its steps; val metrics are over the whole set.
    const s = history.steps.slice(0, 3);
    expect(history.epochs[0].loss).toBeCloseTo((16 * s[0].loss + 16 * s[1].loss + 8 * s[2].loss) / 40, 6);
    expect(Object.keys(history.epochs[0]).sort()).toEqual(['epoch', 'loss', 'seconds', 'steps', 'val_accuracy', 'val_loss']);
    const checkAcc = accuracy(p.model.forward(p.x), p.y);
    expect(history.epochs[2].val_accuracy).toBeCloseTo(checkAcc, 6);

    const svg = plotHistorySvg(historyFromJsonl(text), { title: 'three epochs' });
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>\n$/);
    for (const name of ['three epochs', 'training loss (per step)', 'val_loss (per epoch)', 'val_accuracy (per epoch)', 'loss (per epoch)']) expect(svg).toContain(name);
    expect(() => historyFromJsonl('{"kind":"step"}\nnot json')).toThrow(/line 2 is not JSON/);
    p.dispose();
  });

  it('progress: one plain line per epoch off a terminal, a bar redrawn in place on one', () => {
    const p = problem();
    let plain = '';
    let bar = '';
    fit({
      model: p.model, optimizer: p.optimizer, loss: crossEntropy, epochs: 2, data: new DataLoader([p.x, p.y], { batchSize: 4 }),
      callbacks: [progressBar({ label: 'eager', tty: false, write: (t) => { plain += t; } }), progressBar({ tty: true, every: 5, write: (t) => { bar += t; } })],
    });
    const lines = plain.split('\n');
    expect(lines.length).toBe(3);
    expect(lines[0]).toMatch(/^eager {4}epoch 1\/2 {2}step 10\/10 {2}loss \d\.\d{4} +[\d,]+ examples\/s {2}ETA \d+\.\d s$/);
    expect(lines[1]).toMatch(/^eager {4}epoch 2\/2 {2}step 10\/10 .* ETA 0\.0 s$/);
    // The bar: redrawn at step 5 of each epoch, a final full bar ending each epoch's line.
    expect(bar.split('\r\x1b[2K').slice(1).map((s) => s.slice(0, 22))).toEqual(['[##########..........]', '[####################]', '[##########..........]', '[####################]']);
    expect(bar.match(/\n/g)?.length).toBe(2);
    p.dispose();
  });
});

describe('fit: steps, compile, memory and errors', () => {
  it('a compiled step gives the eager step\'s losses, and its tracing steps are flagged', () => {
    const run = (compiled: boolean) => {
      const p = problem(7);
      const history = fit({
        model: p.model, optimizer: p.optimizer, loss: crossEntropy, epochs: 2, data: new DataLoader([p.x, p.y], { batchSize: 16 }),
        ...(compiled ? { compile } : {}),
      });
      p.dispose();
      return history;
    };
    const eager = run(false);
    const compiled = run(true);
    // Two traces: the batch of 16 and the last batch of 8.
    expect(compiled.steps.map((s) => s.traced)).toEqual([true, false, true, false, false, false]);
    expect(eager.steps.every((s) => !s.traced)).toBe(true);
    compiled.steps.forEach((s, i) => expect(s.loss).toBeCloseTo(eager.steps[i].loss, 5));
  });

  it('memory() is flat across epochs', async () => {
    const p = problem();
    const counts: number[] = [];
    const bytes: number[] = [];
    await settleGarbage();
    fit({
      model: p.model, optimizer: p.optimizer, loss: crossEntropy, epochs: 6, data: new DataLoader([p.x, p.y], { batchSize: 8, shuffle: true }),
      validation: { data: () => batches([p.x, p.y], { batchSize: 16 }), metrics: { accuracy } },
      callbacks: [earlyStopping({ patience: 10, restoreBestWeights: true }), checkpoint({ everySteps: 3, write: () => {} }), { onEpochEnd: () => { counts.push(memory().numTensors); bytes.push(memory().numBytes); } }],
    });
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(new Set(bytes.slice(1)).size).toBe(1);
    expect(counts[0]).toBe(counts[5]);
    p.dispose();
  });

  it('bad input is a clear ArgumentError', () => {
    const p = problem();
    const base = { model: p.model, optimizer: p.optimizer, loss: crossEntropy };
    expect(() => fit({ ...base, epochs: 2, data: batches([p.x, p.y], { batchSize: 10 }) })).toThrow(/epoch 2 had no batches; pass data as an array or a function/);
    expect(() => fit({ model: p.model, epochs: 1, data: [[p.x, p.y]] })).toThrow(/pass optimizer and loss \(for the default step\), or your own step/);
    expect(() => fit({ ...base, epochs: 1.5, data: [[p.x, p.y]] })).toThrow(ArgumentError);
    expect(() => fit({ ...base, epochs: 1, data: [[p.x, p.y]], step: () => tensor([1, 2]) })).toThrow(/step must return the loss as a number or a one-element tensor, got a tensor of shape \[2\]/);
    expect(() => fit({ ...base, epochs: 1, data: [[1, 2] as unknown as Tensor[]] })).toThrow(/batch 1 is not an array of tensors/);
    expect(() => fit({ ...base, epochs: 1, data: [[p.x, p.y]], validation: { data: [[p.x, p.y], [] as Tensor[]] } })).toThrow(/fit: validation batch 2 is not an array of tensors such as \[x, y\]/);
    expect(() => new DataLoader([p.x, p.y], { batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
    // 40 rows: 3 batches of 16 (the last of 8), or 2 without the short one.
    expect([new DataLoader([p.x, p.y], { batchSize: 16 }).length, new DataLoader([p.x, p.y], { batchSize: 16, dropLast: true }).length]).toEqual([3, 2]);
    expect([...new DataLoader([p.x, p.y], { batchSize: 16, dropLast: true })].length).toBe(2);
    expect(() => checkpoint({} as never)).toThrow(/expected \{ write/);
    p.dispose();
  });
});

describe('fit on the digits', () => {
  it('an MLP trained with fit reaches ≥ 95% test accuracy, with a custom step and val metrics', () => {
    manualSeed(0);
    const { x, y } = loadDigits();
    const { train: [trainX, trainY], test: [testX, testY] } = trainTestSplit([x, y], { testFraction: 0.2, seed: 0 });
    x.dispose();
    y.dispose();
    const model = new Sequential(new Linear(64, 128), new ReLU(), new Linear(128, 10));
    const optimizer = new Adam(model.parameters(), { lr: 3e-3 });
    const history = fit({
      model, optimizer, loss: crossEntropy, epochs: 8,
      data: new DataLoader([trainX, trainY], { batchSize: 32, shuffle: true }),
      validation: { data: [[testX, testY]], metrics: { accuracy } },
    });
    const last = history.epochs.at(-1) as EpochLogs;
    expect(history.epochs[0].val_accuracy).toBeLessThan(last.val_accuracy);
    expect(last.val_accuracy).toBeGreaterThanOrEqual(0.95);
    expect(last.loss).toBeLessThan(history.epochs[0].loss / 3);
    expect(history.steps.length).toBe(8 * Math.ceil(1437 / 32));
    for (const t of [trainX, trainY, testX, testY]) t.dispose();
    optimizer.dispose();
    model.dispose();
  });
});

describe('lrSchedule', () => {
  it('steps the scheduler once per epoch, or once per step', () => {
    const p = problem();
    const lrs: number[] = [];
    const record: Callback = { onEpochBegin: () => void lrs.push(p.optimizer.paramGroups[0].lr) };
    fit({
      model: p.model, optimizer: p.optimizer, loss: crossEntropy, epochs: 4, data: new DataLoader([p.x, p.y], { batchSize: 10 }),
      callbacks: [lrSchedule(new StepLR(p.optimizer, { stepSize: 2, gamma: 0.5 })), record],
    });
    expect(lrs).toEqual([0.1, 0.1, 0.05, 0.05]);
    const q = problem();
    fit({
      model: q.model, optimizer: q.optimizer, loss: crossEntropy, epochs: 1, data: new DataLoader([q.x, q.y], { batchSize: 10 }),
      callbacks: [lrSchedule(new StepLR(q.optimizer, { stepSize: 2, gamma: 0.5 }), { every: 'step' })],
    });
    expect(q.optimizer.paramGroups[0].lr).toBeCloseTo(0.1 * 0.25, 12); // 4 steps: halved twice
    expect(() => lrSchedule({} as never)).toThrow(/expected a scheduler with a step\(\) method/);
    p.dispose();
    q.dispose();
  });
});

describe('saveCheckpoint and memory', () => {
  it('leaves no tensor behind (the stateDict it reads is disposed)', () => {
    const p = problem();
    saveCheckpoint({ module: p.model, optimizer: p.optimizer }); // warm: anything made once
    const before = memory().numTensors;
    for (let i = 0; i < 3; i++) saveCheckpoint({ module: p.model, optimizer: p.optimizer });
    expect(memory().numTensors).toBe(before);
    p.dispose();
  });
});

/**
 * The main job's training phases (src/demo/train.ts): `fitReadingAsync`, the copy of fit's loop
 * that awaits each loss for WebGPU, must give the callbacks what `fit` gives them. Both run on
 * the CPU here from the same seed, so the losses, traced flags and test accuracies are equal
 * bit for bit; and the plot is drawn from the JSONL the callbacks wrote.
 */
import type { Tensor } from '@kiln/eager';
import { manualSeed, randn, randint } from '@kiln/eager';
import type { EpochLogs, StepLogs } from '@kiln/nn';
import { Adam, DataLoader, Linear, ReLU, Sequential, crossEntropy, jsonlLogger } from '@kiln/nn';
import { compile } from '@kiln/tracer';
import { describe, expect, it } from 'vitest';
import { plotTrainingSvg, testAccuracy, trainPhase } from '../src/demo/train.js';

interface Run { steps: Omit<StepLogs, 'seconds'>[]; epochs: Omit<EpochLogs, 'seconds'>[]; accuracy: number[]; jsonl: string; beforeEpochEnd: number }

async function run(asyncReads: boolean, compiled: boolean): Promise<Run> {
  manualSeed(7);
  const x = randn([50, 4]);
  const y = randint(0, 3, [50]);
  const model = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3));
  const optimizer = new Adam(model.parameters(), { lr: 1e-2 });
  const body = (xb: Tensor, yb: Tensor): Tensor => {
    optimizer.zeroGrad();
    const loss = crossEntropy(model.forward(xb), yb);
    loss.backward();
    optimizer.step();
    return loss;
  };
  const accuracy: number[] = [];
  let jsonl = '';
  let beforeEpochEnd = 0;
  const history = await trainPhase({
    model, epochs: 3, asyncReads,
    data: new DataLoader([x, y] as const, { batchSize: 16, shuffle: true }),
    step: compiled ? compile(body) : body,
    callbacks: [
      jsonlLogger({ write: (line) => (jsonl += line), epochs: false }),
      testAccuracy(model, x, y, asyncReads, (logs, a) => {
        accuracy.push(a);
        jsonl += `${JSON.stringify({ kind: 'epoch', ...logs, test_accuracy: a })}\n`;
      }),
      { beforeEpochEnd: async () => void beforeEpochEnd++ },
    ],
  });
  return {
    steps: history.steps.map(({ seconds: _, ...s }) => s),
    epochs: history.epochs.map(({ seconds: _, ...e }) => e),
    accuracy, jsonl, beforeEpochEnd,
  };
}

describe('fitReadingAsync gives the callbacks what fit gives them', () => {
  for (const compiled of [false, true]) {
    it(`${compiled ? 'compiled' : 'eager'} step: same losses, traced flags, epochs and test accuracy`, async () => {
      const sync = await run(false, compiled);
      const async = await run(true, compiled);
      expect(async.steps).toEqual(sync.steps);
      expect(async.epochs).toEqual(sync.epochs);
      expect(async.accuracy).toEqual(sync.accuracy);
      expect(sync.steps).toHaveLength(12); // 50 rows in batches of 16: 4 steps, 3 epochs
      expect(sync.steps.filter((s) => s.traced).map((s) => [s.epoch, s.step])).toEqual(compiled ? [[1, 1], [1, 4]] : []);
      expect(sync.epochs[2].loss).toBeLessThan(sync.epochs[0].loss);
      // fit never calls the async hook; the async loop awaits it once per epoch.
      expect([sync.beforeEpochEnd, async.beforeEpochEnd]).toEqual([0, 3]);
    });
  }

  it('plots loss per step and test accuracy per epoch from the JSONL', async () => {
    const { jsonl, accuracy } = await run(false, false);
    const svg = plotTrainingSvg(jsonl, 'a title');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>\n$/);
    for (const text of ['a title', 'training loss (per step)', 'test accuracy (per epoch)', 'training step']) expect(svg).toContain(text);
    expect(accuracy).toHaveLength(3);
    expect(jsonl.trim().split('\n')).toHaveLength(15);
  });
});

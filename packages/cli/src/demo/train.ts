/**
 * The main job's training phases: `fit` from `@kiln/nn` with `progressBar`, `jsonlLogger` and
 * a test-accuracy callback, and the plot of the JSONL log.
 *
 * `fit` reads each step's loss synchronously (`item()`), which a backend with asynchronous
 * readback (WebGPU) refuses. There the same callbacks are driven by {@link fitReadingAsync}, a
 * copy of fit's loop that awaits each loss (and the test accuracy) instead; the callbacks
 * cannot tell the two apart.
 */
import type { Tensor } from '@kiln/eager';
import { argmax, eq, noGrad, tidy } from '@kiln/eager';
import type { Callback, EpochLogs, FitBatch, FitContext, ForwardModule, History, StepLogs } from '@kiln/nn';
import { fit, historyFromJsonl, plotMetricsSvg } from '@kiln/nn';

/** A callback that may also prepare, asynchronously, before the epoch's end is announced. */
export interface DemoCallback extends Callback {
  /** Awaited by {@link fitReadingAsync} before `onEpochEnd`; fit never calls it. */
  beforeEpochEnd?(epoch: number): Promise<void>;
}

/** One phase of training (eager or compiled). */
export interface PhaseOptions {
  readonly model: ForwardModule;
  /** Re-iterable batches with a `length` (a DataLoader). */
  readonly data: Iterable<FitBatch> & { readonly length: number };
  readonly epochs: number;
  /** One training step returning the scalar loss; a compiled function counts its traces. */
  readonly step: (x: Tensor, y: Tensor) => Tensor;
  readonly callbacks: readonly DemoCallback[];
  /** The backend reads only asynchronously (WebGPU): await each loss instead of `item()`. */
  readonly asyncReads: boolean;
}

/**
 * Trains one phase with `fit`, or with {@link fitReadingAsync} where reads are asynchronous.
 *
 * @example
 * ```ts
 * const history = await trainPhase({ model, data, epochs: 5, step, callbacks: [progressBar()], asyncReads: false });
 * ```
 */
export async function trainPhase(options: PhaseOptions): Promise<History> {
  const { model, data, epochs, step, callbacks } = options;
  return options.asyncReads ? fitReadingAsync(options) : fit({ model, data, epochs, step, callbacks });
}

/**
 * fit's loop (train mode, each step in a `tidy`, StepLogs and EpochLogs to the callbacks in
 * order, traced steps flagged) reading each loss with `await data()`: for WebGPU.
 *
 * @example
 * ```ts
 * const history = await fitReadingAsync({ model, data, epochs: 2, step, callbacks: [progressBar()], asyncReads: true });
 * ```
 */
export async function fitReadingAsync(options: PhaseOptions): Promise<History> {
  const { model, data, epochs, step, callbacks } = options;
  const counted = step as { stats?: { traces?: number } };
  const traces = () => counted.stats?.traces ?? 0;
  const history: History = { epochs: [], steps: [] };
  const context: FitContext = { model, optimizer: undefined, epochs, stepsPerEpoch: data.length, history, stopTraining: false };
  model.train();
  for (const c of callbacks) c.onTrainBegin?.(context);
  let globalStep = 0;
  for (let epoch = 1; epoch <= epochs && !context.stopTraining; epoch++) {
    for (const c of callbacks) c.onEpochBegin?.(epoch, context);
    const start = performance.now();
    let lossSum = 0;
    let rows = 0;
    let steps = 0;
    for (const [x, y] of data) {
      const before = traces();
      const t0 = performance.now();
      const loss = tidy(() => step(x, y));
      const value = (await loss.data())[0];
      loss.dispose();
      const seconds = (performance.now() - t0) / 1000;
      const batchSize = x.shape[0];
      steps++;
      globalStep++;
      lossSum += value * batchSize;
      rows += batchSize;
      const logs: StepLogs = { epoch, step: steps, globalStep, loss: value, batchSize, seconds, traced: traces() !== before };
      history.steps.push(logs);
      for (const c of callbacks) c.onStepEnd?.(logs, context);
    }
    for (const c of callbacks) await c.beforeEpochEnd?.(epoch);
    const logs: EpochLogs = { epoch, loss: lossSum / rows, steps, seconds: (performance.now() - start) / 1000 };
    history.epochs.push(logs);
    for (const c of callbacks) c.onEpochEnd?.(logs, context);
  }
  for (const c of callbacks) c.onTrainEnd?.(history, context);
  return history;
}

/**
 * Test accuracy after every epoch, in its own callback (not fit's `validation`, so the progress
 * lines do not change): the model in eval mode without gradients, read synchronously, or ahead
 * of `onEpochEnd` in `beforeEpochEnd` where reads are asynchronous. `record` receives it.
 *
 * @example
 * ```ts
 * testAccuracy(model, testX, testY, false, (logs, accuracy) => console.log(logs.epoch, accuracy));
 * ```
 */
export function testAccuracy(model: ForwardModule, x: Tensor, y: Tensor, asyncReads: boolean, record: (logs: EpochLogs, accuracy: number) => void): DemoCallback {
  const correct = (): Tensor => {
    model.eval();
    try {
      return noGrad(() => tidy(() => eq(argmax(model.forward(x), 1), y).cast('float32').mean()));
    } finally {
      model.train();
    }
  };
  let measured: number | undefined;
  return {
    ...(asyncReads ? {
      async beforeEpochEnd() {
        const t = correct();
        measured = (await t.data())[0];
        t.dispose();
      },
    } : {}),
    onEpochEnd(logs) {
      if (measured === undefined) {
        const t = correct();
        measured = t.item() as number;
        t.dispose();
      }
      record(logs, measured);
      measured = undefined;
    },
  };
}

/**
 * The training curves from the demo's metrics JSONL (`jsonlLogger`'s step lines, and epoch
 * lines carrying `test_accuracy`, over one or more phases): loss per step and test accuracy per
 * epoch against the step count over all phases.
 *
 * @example
 * ```ts
 * writeFileSync('out/training.svg', plotTrainingSvg(readFileSync('out/metrics.jsonl', 'utf8'), 'digits MLP'));
 * ```
 */
export function plotTrainingSvg(jsonl: string, title: string): string {
  const history = historyFromJsonl(jsonl);
  let x = 0;
  const accuracy = history.epochs.map((e): [number, number] => [(x += e.steps), e.test_accuracy]);
  return plotMetricsSvg([
    { name: 'training loss (per step)', points: history.steps.map((s, i): [number, number] => [i + 1, s.loss]) },
    { name: 'test accuracy (per epoch)', points: accuracy, axis: 'right', markers: true },
  ], { title, xLabel: 'training step', yLabel: 'cross-entropy loss', y2Label: 'test accuracy' });
}

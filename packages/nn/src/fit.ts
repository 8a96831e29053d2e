import { ArgumentError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { Tensor as TensorClass, argmax, eq, noGrad, tidy } from '@kiln/eager';
import type { Module } from './module.js';
import type { BaseOptions, Optimizer } from './optim/optimizer.js';

/**
 * `fit`: the training loop a PyTorch Lightning or Keras user expects — epochs of mini-batches,
 * an optional validation pass after each epoch, callbacks (progress, early stopping,
 * checkpoints, metric logs; callbacks.ts) and a history of what happened.
 *
 * `@kiln/nn` does not depend on the tracer (nothing but user code does), so compiling the step
 * is the caller's choice: pass `compile` (the function from `@kiln/tracer`) and fit compiles
 * its default step with it, or pass your own `step`, compiled or not.
 */

/** A mini-batch: the model's input and the target (more tensors are passed on to `step`). */
export type FitBatch = readonly Tensor[];

/** Batches for one epoch: an array or other re-iterable, or a function giving a fresh iterable per epoch. */
export type FitData = Iterable<FitBatch> | (() => Iterable<FitBatch>);

/** What a training step returns: the loss as a scalar tensor (read with `item()`) or a number. */
export type StepResult = Tensor | number;

/** One training step on one batch; fit calls it inside a `tidy`. */
export type TrainStep = (...batch: Tensor[]) => StepResult;

/** A metric on one validation batch: a number or scalar tensor, averaged over rows. */
export type Metric = (output: Tensor, target: Tensor) => Tensor | number;

/** What fit records after each training step. */
export interface StepLogs {
  /** 1-based epoch. */
  readonly epoch: number;
  /** 1-based step within the epoch. */
  readonly step: number;
  /** 1-based step counted over the whole run (continuing from `initialEpoch`'s). */
  readonly globalStep: number;
  readonly loss: number;
  /** Rows in this batch. */
  readonly batchSize: number;
  /** Wall time of the step. */
  readonly seconds: number;
  /** The step traced (a compiled step's first call for a shape): left out of throughput. */
  readonly traced: boolean;
}

/** What fit records after each epoch: the mean training loss and the validation metrics. */
export interface EpochLogs {
  readonly epoch: number;
  /** Training loss averaged over the epoch's rows. */
  readonly loss: number;
  readonly steps: number;
  readonly seconds: number;
  /** `val_loss`, `val_<metric>` and whatever a validation function returns. */
  readonly [metric: string]: number;
}

/** What `fit` returns. */
export interface History {
  readonly epochs: EpochLogs[];
  readonly steps: StepLogs[];
  /** Set by early stopping: the epoch training stopped after. */
  stoppedEpoch?: number;
  /** Set by early stopping: the epoch with the best monitored value. */
  bestEpoch?: number;
}

/** What callbacks see and may change. */
export interface FitContext {
  readonly model: Module;
  readonly optimizer: Optimizer<BaseOptions> | undefined;
  readonly epochs: number;
  /** Steps per epoch when the data says (`length`) or after the first epoch; else undefined. */
  readonly stepsPerEpoch: number | undefined;
  readonly history: History;
  /** Set true to stop after the current epoch (what early stopping does). */
  stopTraining: boolean;
}

/** Hooks called by fit, in the order the callbacks are given. Every hook is optional. */
export interface Callback {
  onTrainBegin?(context: FitContext): void;
  onEpochBegin?(epoch: number, context: FitContext): void;
  onStepEnd?(logs: StepLogs, context: FitContext): void;
  onEpochEnd?(logs: EpochLogs, context: FitContext): void;
  onTrainEnd?(history: History, context: FitContext): void;
}

/** A forward pass `(x) => output`. */
export type ForwardModule = Module & { forward(x: Tensor): Tensor };

export interface FitOptions {
  readonly model: ForwardModule;
  /** Needed by the default step; optional with your own `step`. */
  readonly optimizer?: Optimizer<BaseOptions>;
  /** `(output, target) => scalar loss`, e.g. `crossEntropy`. Needed by the default step and validation loss. */
  readonly loss?: (output: Tensor, target: Tensor) => Tensor;
  /** Training batches, `[x, y]` each: e.g. `() => batches([x, y], { batchSize: 32, shuffle: true })`. */
  readonly data: FitData;
  /** Epochs to train (counting from `initialEpoch`). */
  readonly epochs: number;
  /** Epochs already done (resuming from a checkpoint); training runs epochs initialEpoch+1..epochs. */
  readonly initialEpoch?: number;
  /**
   * After each epoch: batches to compute `val_loss` and `val_<name>` for each metric on (the
   * model in eval mode, no gradients), or a function returning metrics by name.
   */
  readonly validation?: { readonly data: FitData; readonly metrics?: Readonly<Record<string, Metric>> } | (() => Readonly<Record<string, number>>);
  /**
   * The training step (default: zeroGrad, forward, loss, backward, optimizer step, returning the
   * loss). Runs inside a `tidy`; return the loss tensor or a number.
   */
  readonly step?: TrainStep;
  /** Compiles the default step, e.g. `compile` from `@kiln/tracer` (ignored with your own `step`). */
  readonly compile?: (step: (x: Tensor, y: Tensor) => Tensor) => (x: Tensor, y: Tensor) => Tensor;
  readonly callbacks?: readonly Callback[];
}

/**
 * Trains `model` for `epochs` epochs and returns the history. Each step runs in a `tidy`, so
 * memory stays flat; the model is in train mode during epochs and in eval mode (without
 * gradients) during validation, and is left in train mode.
 *
 * @example
 * ```ts
 * const history = fit({
 *   model, optimizer, loss: crossEntropy, epochs: 20,
 *   data: () => batches([trainX, trainY], { batchSize: 32, shuffle: true }),
 *   validation: { data: [[testX, testY]], metrics: { accuracy } },
 *   compile,                                    // from @kiln/tracer: compile the step
 *   callbacks: [progressBar(), earlyStopping({ monitor: 'val_loss', patience: 3 })],
 * });
 * history.epochs.at(-1)?.val_accuracy;
 * ```
 */
export function fit(options: FitOptions): History {
  if (options === null || typeof options !== 'object') throw new ArgumentError('fit: expected { model, optimizer, loss, data, epochs, … }');
  const { model, optimizer, loss, epochs, callbacks = [] } = options;
  const initialEpoch = options.initialEpoch ?? 0;
  if (model === null || typeof model !== 'object' || typeof model.forward !== 'function') throw new ArgumentError('fit: model must be a Module with a forward(x) method');
  if (!Number.isInteger(epochs) || epochs < 0) throw new ArgumentError(`fit: epochs must be a non-negative integer, got ${JSON.stringify(epochs)}`);
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch > epochs) throw new ArgumentError(`fit: initialEpoch must be an integer in 0..epochs (${epochs}), got ${JSON.stringify(initialEpoch)}`);
  const step = options.step ?? defaultStep(options);
  const traces = traceCounter(step);
  const history: History = { epochs: [], steps: [] };
  const context: FitContext = { model, optimizer, epochs, stepsPerEpoch: lengthOf(options.data), history, stopTraining: false };
  const call = <K extends keyof Callback>(hook: K, ...args: Parameters<NonNullable<Callback[K]>>) => {
    for (const callback of callbacks) (callback[hook] as ((...a: unknown[]) => void) | undefined)?.call(callback, ...args);
  };

  model.train();
  call('onTrainBegin', context);
  let globalStep = initialEpoch * (context.stepsPerEpoch ?? 0);
  for (let epoch = initialEpoch + 1; epoch <= epochs && !context.stopTraining; epoch++) {
    call('onEpochBegin', epoch, context);
    const start = now();
    let lossSum = 0;
    let rows = 0;
    let steps = 0;
    for (const batch of epochData(options.data, epoch)) {
      const batchSize = checkBatch(batch, `batch ${globalStep + 1}`);
      const before = traces();
      const t0 = now();
      const value = tidy(() => toNumber(step(...batch), 'step'));
      const seconds = (now() - t0) / 1000;
      steps++;
      globalStep++;
      lossSum += value * batchSize;
      rows += batchSize;
      const logs: StepLogs = { epoch, step: steps, globalStep, loss: value, batchSize, seconds, traced: traces() !== before };
      history.steps.push(logs);
      call('onStepEnd', logs, context);
    }
    if (steps === 0) throw new ArgumentError(`fit: epoch ${epoch} had no batches; pass data as an array or a function returning a fresh iterator per epoch (a generator runs out after one epoch)`);
    if (context.stepsPerEpoch === undefined) (context as { stepsPerEpoch?: number }).stepsPerEpoch = steps;
    const metrics = validate(options);
    const logs: EpochLogs = { epoch, loss: lossSum / rows, steps, seconds: (now() - start) / 1000, ...metrics };
    history.epochs.push(logs);
    call('onEpochEnd', logs, context);
  }
  call('onTrainEnd', history, context);
  return history;
}

/**
 * Fraction of rows whose largest output is the target class (`output` [N, C], `target` int32 [N]).
 *
 * @example
 * ```ts
 * fit({ …, validation: { data: [[testX, testY]], metrics: { accuracy } } }); // logs val_accuracy
 * ```
 */
export function accuracy(output: Tensor, target: Tensor): number {
  return tidy(() => eq(argmax(output, 1), target).cast('float32').mean().item() as number);
}

function defaultStep(options: FitOptions): TrainStep {
  const { model, optimizer, loss } = options;
  if (!optimizer || typeof loss !== 'function') throw new ArgumentError('fit: pass optimizer and loss (for the default step), or your own step');
  const trainStep = (x: Tensor, y: Tensor): Tensor => {
    optimizer.zeroGrad();
    const value = loss(model.forward(x), y);
    value.backward();
    optimizer.step();
    return value;
  };
  return options.compile ? options.compile(trainStep) : trainStep;
}

/** Milliseconds from a monotonic clock (performance.now where there is one); no DOM or Node types needed. */
function now(): number {
  const clock = (globalThis as { performance?: { now(): number } }).performance;
  return clock ? clock.now() : Date.now();
}

/** A compiled function counts its traces in `stats.traces`; anything else never traces. */
function traceCounter(step: TrainStep): () => number {
  const counted = step as { stats?: { traces?: unknown } };
  return () => {
    const traces = counted.stats?.traces; // read each time: stats may be a fresh snapshot per read
    return typeof traces === 'number' ? traces : 0;
  };
}

function lengthOf(data: FitData): number | undefined {
  const length = typeof data === 'function' ? undefined : (data as { length?: unknown }).length;
  return typeof length === 'number' ? length : undefined;
}

function epochData(data: FitData, epoch: number): Iterable<FitBatch> {
  const iterable = typeof data === 'function' ? data() : data;
  if (iterable === null || typeof (iterable as Iterable<FitBatch>)[Symbol.iterator] !== 'function') throw new ArgumentError(`fit: data for epoch ${epoch} is not iterable; pass an array of batches or a function returning batches(...)`);
  return iterable;
}

function checkBatch(batch: FitBatch, where: string): number {
  if (!Array.isArray(batch) || batch.length === 0 || !batch.every((t) => t instanceof TensorClass)) throw new ArgumentError(`fit: ${where} is not an array of tensors such as [x, y]`);
  const first = batch[0] as Tensor;
  return first.rank === 0 ? 1 : first.shape[0];
}

function toNumber(value: unknown, where: string): number {
  if (typeof value === 'number') return value;
  if (value instanceof TensorClass && value.size === 1) return value.item() as number;
  throw new ArgumentError(`fit: ${where} must return the loss as a number or a one-element tensor, got ${value instanceof TensorClass ? `a tensor of shape [${value.shape.join(',')}]` : typeof value}`);
}

function validate(options: FitOptions): Record<string, number> {
  const { validation, model, loss } = options;
  if (validation === undefined) return {};
  if (typeof validation === 'function') return { ...validation() };
  model.eval();
  try {
    const sums: Record<string, number> = {};
    let rows = 0;
    let count = 0;
    noGrad(() => {
      for (const batch of epochData(validation.data, 0)) {
        const n = checkBatch(batch, `validation batch ${++count}`);
        const [x, y] = batch;
        tidy(() => {
          const output = model.forward(x);
          if (loss && y) sums.val_loss = (sums.val_loss ?? 0) + toNumber(loss(output, y), 'loss') * n;
          for (const [name, metric] of Object.entries(validation.metrics ?? {})) sums[`val_${name}`] = (sums[`val_${name}`] ?? 0) + toNumber(metric(output, y), `metric '${name}'`) * n;
        });
        rows += n;
      }
    });
    const result: Record<string, number> = {};
    for (const [name, sum] of Object.entries(sums)) result[name] = sum / rows;
    return result;
  } finally {
    model.train();
  }
}

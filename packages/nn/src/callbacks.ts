import { ArgumentError } from '@kiln/core';
import type { DType } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { tensor, tidy } from '@kiln/eager';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import type { Callback, EpochLogs, FitContext, StepLogs } from './fit.js';
import type { Module } from './module.js';
import type { BaseOptions, Optimizer } from './optim/optimizer.js';

/**
 * Callbacks for {@link fit}: progress, early stopping, checkpoints and a JSONL metric log.
 * Nothing here touches the file system: checkpoints and logs go to a `write` function you give
 * (`writeFileSync`, `appendFileSync`, a browser download…), so the package stays browser-safe.
 */

// ── progress ─────────────────────────────────────────────────────────────────────────────────

export interface ProgressOptions {
  /** Printed first, padded to 8 characters (e.g. 'eager', 'compiled'). Default 'train'. */
  readonly label?: string;
  /** Draw a one-line bar, redrawn in place (default: whether stdout is a terminal). */
  readonly tty?: boolean;
  /** Where text goes (default: process.stdout.write in Node, console.log elsewhere). Lines end with '\n'. */
  readonly write?: (text: string) => void;
  /** Steps between redraws of the bar (default 5). */
  readonly every?: number;
}

interface NodeLike {
  process?: { stdout?: { isTTY?: boolean; write?: (text: string) => unknown } };
  console?: { log(text: string): void };
}

function defaultWrite(): (text: string) => void {
  const stdout = (globalThis as NodeLike).process?.stdout;
  if (stdout?.write) return (text) => void stdout.write?.(text);
  return (text) => (globalThis as NodeLike).console?.log(text.replace(/^\r\x1b\[2K/, '').replace(/\n$/, ''));
}

/**
 * Shows epoch, step, running loss, throughput and ETA: a bar redrawn in place on a terminal,
 * one plain line per epoch otherwise (logs, CI). Steps that traced a compiled function are left
 * out of the throughput.
 *
 * @example
 * ```ts
 * fit({ …, callbacks: [progressBar({ label: 'train' })] });
 * // train    epoch  3/20  step 45/45  loss 0.1234   14,203 examples/s  ETA 2.1 s
 * ```
 */
export function progressBar(options: ProgressOptions = {}): Callback {
  const label = options.label ?? 'train';
  const tty = options.tty ?? (globalThis as NodeLike).process?.stdout?.isTTY === true;
  const write = options.write ?? defaultWrite();
  const every = options.every ?? 5;
  let examples = 0;
  let seconds = 0;
  let lossSum = 0;
  let timedSteps = 0;
  const line = (epoch: number, steps: number, loss: number, context: FitContext) => {
    const spe = context.stepsPerEpoch;
    const rate = seconds > 0 ? examples / seconds : 0;
    const stepRate = seconds > 0 ? timedSteps / seconds : 0;
    const left = spe === undefined ? undefined : (context.epochs - epoch) * spe + (spe - steps);
    const eta = left === undefined || stepRate === 0 ? '?' : (left / stepRate).toFixed(1);
    const width = String(context.epochs).length;
    return `${label.padEnd(8)} epoch ${String(epoch).padStart(width)}/${context.epochs}  step ${String(steps).padStart(2)}/${spe ?? '?'}  loss ${loss.toFixed(4)}  ${Math.round(rate).toLocaleString('en-US').padStart(6)} examples/s  ETA ${eta} s`;
  };
  return {
    onEpochBegin() {
      lossSum = 0;
    },
    onStepEnd(logs, context) {
      lossSum += logs.loss;
      if (!logs.traced) {
        examples += logs.batchSize;
        seconds += logs.seconds;
        timedSteps++;
      }
      if (!tty || logs.step % every !== 0 || logs.step === context.stepsPerEpoch) return;
      const spe = context.stepsPerEpoch;
      const filled = spe === undefined ? 0 : Math.round((20 * logs.step) / spe);
      write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${line(logs.epoch, logs.step, lossSum / logs.step, context)}`);
    },
    onEpochEnd(logs, context) {
      const extra = Object.keys(logs).filter((k) => !['epoch', 'loss', 'steps', 'seconds'].includes(k)).map((k) => `  ${k} ${logs[k].toFixed(4)}`).join('');
      const text = `${line(logs.epoch, logs.steps, lossSum / logs.steps, context)}${extra}`;
      write(tty ? `\r\x1b[2K[${'#'.repeat(20)}] ${text}\n` : `${text}\n`);
    },
  };
}

// ── early stopping ───────────────────────────────────────────────────────────────────────────

export interface EarlyStoppingOptions {
  /** An epoch metric: 'val_loss' (default), 'loss', 'val_accuracy', or one your validation returns. */
  readonly monitor?: string;
  /** Whether smaller or larger is better (default 'auto': 'max' for names with 'acc', else 'min'). */
  readonly mode?: 'min' | 'max' | 'auto';
  /** Epochs without improvement before stopping (default 1: stop at the first; 0 means the same, as in Keras). */
  readonly patience?: number;
  /** The least change that counts as an improvement (default 0). */
  readonly minDelta?: number;
  /** At the end, put back the weights of the best epoch (default false). */
  readonly restoreBestWeights?: boolean;
}

/** Host copies of a module's state, for restoring later without holding backend memory. */
type Snapshot = Map<string, { dtype: DType; shape: number[]; data: ArrayLike<number | boolean> }>;

function snapshot(model: Module): Snapshot {
  const copy: Snapshot = new Map();
  for (const [key, t] of Object.entries(model.stateDict())) {
    copy.set(key, { dtype: t.dtype, shape: [...t.shape], data: t.dataSync() as ArrayLike<number | boolean> });
    t.dispose(); // stateDict's tensors are new objects sharing the parameters' data
  }
  return copy;
}

function restore(model: Module, copy: Snapshot): void {
  const dict: Record<string, Tensor> = {};
  for (const [key, t] of copy) dict[key] = tensor(t.data as Float32Array, { dtype: t.dtype, shape: t.shape });
  try {
    model.loadStateDict(dict);
  } finally {
    for (const t of Object.values(dict)) t.dispose();
  }
}

function improvement(monitor: string, mode: 'min' | 'max' | 'auto' | undefined, minDelta: number): (current: number, best: number) => boolean {
  const max = mode === 'max' || ((mode ?? 'auto') === 'auto' && /acc/i.test(monitor));
  return max ? (current, best) => current > best + minDelta : (current, best) => current < best - minDelta;
}

function monitored(logs: EpochLogs, monitor: string, where: string): number {
  const value = logs[monitor];
  if (typeof value !== 'number') throw new ArgumentError(`${where}: no metric '${monitor}' in epoch ${logs.epoch}'s logs (${Object.keys(logs).join(', ')}); pass monitor, or validation data for val_ metrics`);
  return value;
}

/**
 * Stops training when `monitor` has not improved for `patience` epochs (Keras's EarlyStopping),
 * and optionally restores the best epoch's weights. Sets `history.stoppedEpoch` and `bestEpoch`.
 *
 * @example
 * ```ts
 * fit({ …, callbacks: [earlyStopping({ monitor: 'val_loss', patience: 3, restoreBestWeights: true })] });
 * ```
 */
export function earlyStopping(options: EarlyStoppingOptions = {}): Callback {
  const monitor = options.monitor ?? 'val_loss';
  const patience = options.patience ?? 0;
  const minDelta = Math.abs(options.minDelta ?? 0);
  if (!Number.isInteger(patience) || patience < 0) throw new ArgumentError(`earlyStopping: patience must be a non-negative integer, got ${JSON.stringify(patience)}`);
  if (options.mode !== undefined && !['min', 'max', 'auto'].includes(options.mode)) throw new ArgumentError(`earlyStopping: mode must be 'min', 'max' or 'auto', got ${JSON.stringify(options.mode)}`);
  const better = improvement(monitor, options.mode, minDelta);
  let best = Number.NaN;
  let wait = 0;
  let weights: Snapshot | undefined;
  return {
    onTrainBegin() {
      best = Number.NaN;
      wait = 0;
      weights = undefined;
    },
    onEpochEnd(logs, context) {
      const value = monitored(logs, monitor, 'earlyStopping');
      if (Number.isNaN(best) || better(value, best)) {
        best = value;
        wait = 0;
        context.history.bestEpoch = logs.epoch;
        if (options.restoreBestWeights) weights = snapshot(context.model);
        return;
      }
      wait++;
      if (wait >= Math.max(patience, 1)) {
        context.stopTraining = true;
        context.history.stoppedEpoch = logs.epoch;
      }
    },
    onTrainEnd(history, context) {
      if (weights && history.bestEpoch !== history.epochs.at(-1)?.epoch) restore(context.model, weights);
      weights = undefined;
    },
  };
}

// ── checkpoints ──────────────────────────────────────────────────────────────────────────────

export interface CheckpointCallbackOptions {
  /** Receives each checkpoint: a file name (e.g. 'checkpoint-step-100.kiln') and its bytes. */
  readonly write: (name: string, bytes: Uint8Array) => void;
  /** Save every N training steps (counted over the run). */
  readonly everySteps?: number;
  /** Save after every N epochs (default 1 unless everySteps or best is given). */
  readonly everyEpochs?: number;
  /** Save `<prefix>-best.kiln` whenever this epoch metric improves. */
  readonly best?: { readonly monitor: string; readonly mode?: 'min' | 'max' | 'auto'; readonly minDelta?: number };
  /** File name prefix (default 'checkpoint'). */
  readonly prefix?: string;
}

/**
 * Saves checkpoints (`saveCheckpoint`: model, optimizer and generator state) every N steps,
 * every N epochs and/or when a metric improves. The metadata records `epoch`, `step` (within
 * the epoch), `globalStep` and `epochDone`; {@link resumeFrom} reads it back.
 *
 * @example
 * ```ts
 * fit({ …, callbacks: [checkpoint({ everySteps: 500, best: { monitor: 'val_loss' },
 *   write: (name, bytes) => writeFileSync(join('runs', name), bytes) })] });
 * ```
 */
export function checkpoint(options: CheckpointCallbackOptions): Callback {
  if (options === null || typeof options !== 'object' || typeof options.write !== 'function') throw new ArgumentError('checkpoint: expected { write: (name, bytes) => void, everySteps?, everyEpochs?, best? }');
  const { everySteps, best } = options;
  const everyEpochs = options.everyEpochs ?? (everySteps === undefined && best === undefined ? 1 : undefined);
  for (const [name, n] of [['everySteps', everySteps], ['everyEpochs', everyEpochs]] as const) {
    if (n !== undefined && (!Number.isInteger(n) || n < 1)) throw new ArgumentError(`checkpoint: ${name} must be a positive integer, got ${JSON.stringify(n)}`);
  }
  const prefix = options.prefix ?? 'checkpoint';
  const better = best ? improvement(best.monitor, best.mode, Math.abs(best.minDelta ?? 0)) : undefined;
  let bestValue = Number.NaN;
  const save = (name: string, context: FitContext, epoch: number, step: number, globalStep: number, epochDone: boolean) => {
    // tidy: saveCheckpoint reads the module through stateDict(), whose tensors are new objects.
    const bytes = tidy(() => saveCheckpoint({ module: context.model, ...(context.optimizer ? { optimizer: context.optimizer } : {}), metadata: { epoch, step, globalStep, epochDone } }));
    options.write(name, bytes);
  };
  return {
    onTrainBegin() {
      bestValue = Number.NaN;
    },
    onStepEnd(logs: StepLogs, context) {
      if (everySteps !== undefined && logs.globalStep % everySteps === 0) save(`${prefix}-step-${logs.globalStep}.kiln`, context, logs.epoch, logs.step, logs.globalStep, logs.step === context.stepsPerEpoch);
    },
    onEpochEnd(logs, context) {
      const globalStep = context.history.steps.at(-1)?.globalStep ?? 0;
      if (everyEpochs !== undefined && logs.epoch % everyEpochs === 0) save(`${prefix}-epoch-${logs.epoch}.kiln`, context, logs.epoch, logs.steps, globalStep, true);
      if (best && better) {
        const value = monitored(logs, best.monitor, 'checkpoint');
        if (Number.isNaN(bestValue) || better(value, bestValue)) {
          bestValue = value;
          save(`${prefix}-best.kiln`, context, logs.epoch, logs.steps, globalStep, true);
        }
      }
    },
  };
}

/** What {@link resumeFrom} found in a checkpoint. */
export interface ResumeResult {
  /** Epochs completed: pass as fit's `initialEpoch`. A checkpoint taken mid-epoch redoes that epoch. */
  readonly initialEpoch: number;
  readonly globalStep: number;
  /** Whether the checkpoint was taken at an epoch's end (resuming then continues exactly). */
  readonly exact: boolean;
}

/**
 * Loads a checkpoint written by {@link checkpoint} into a model and optimizer built the same
 * way, and says where to go on.
 *
 * @example
 * ```ts
 * const { initialEpoch } = resumeFrom(readFileSync('runs/checkpoint-epoch-5.kiln'), { model, optimizer });
 * fit({ model, optimizer, loss: crossEntropy, data, epochs: 20, initialEpoch });
 * ```
 */
export function resumeFrom(bytes: Uint8Array, parts: { readonly model: Module; readonly optimizer?: Optimizer<BaseOptions> }): ResumeResult {
  const { metadata } = loadCheckpoint(bytes, { module: parts.model, ...(parts.optimizer ? { optimizer: parts.optimizer } : {}) });
  const { epoch, globalStep, epochDone } = metadata;
  if (typeof epoch !== 'number' || typeof globalStep !== 'number') throw new ArgumentError('resumeFrom: the checkpoint has no epoch/globalStep metadata; it was not written by the checkpoint() callback (use loadCheckpoint)');
  const exact = epochDone === true;
  return { initialEpoch: exact ? epoch : epoch - 1, globalStep, exact };
}

// ── learning-rate schedules ──────────────────────────────────────────────────────────────────

/**
 * Steps a learning-rate scheduler (`StepLR`, `CosineAnnealingLR`, …) after every epoch (default)
 * or every training step — where a hand-written loop calls `scheduler.step()`.
 *
 * @example
 * ```ts
 * const schedule = new CosineAnnealingLR(optimizer, { tMax: 20 });
 * fit({ …, epochs: 20, callbacks: [lrSchedule(schedule)] });
 * ```
 */
export function lrSchedule(scheduler: { step(): void }, options: { readonly every?: 'epoch' | 'step' } = {}): Callback {
  if (scheduler === null || typeof scheduler !== 'object' || typeof scheduler.step !== 'function') throw new ArgumentError('lrSchedule: expected a scheduler with a step() method, e.g. new StepLR(optimizer, { stepSize: 10 })');
  const every = options.every ?? 'epoch';
  if (every !== 'epoch' && every !== 'step') throw new ArgumentError(`lrSchedule: every must be 'epoch' or 'step', got ${JSON.stringify(every)}`);
  return every === 'step' ? { onStepEnd: () => scheduler.step() } : { onEpochEnd: () => scheduler.step() };
}

// ── JSONL metric log ─────────────────────────────────────────────────────────────────────────

export interface JsonlLoggerOptions {
  /** Receives each line, ending in '\n' (e.g. `(line) => appendFileSync('metrics.jsonl', line)`). */
  readonly write: (line: string) => void;
  /** Log every step (default true) and every epoch (default true). */
  readonly steps?: boolean;
  readonly epochs?: boolean;
}

/**
 * Writes one JSON object per line: `{"kind":"step",…StepLogs}` after each step and
 * `{"kind":"epoch",…EpochLogs}` after each epoch. `historyFromJsonl` reads it back, and
 * `plotHistorySvg` draws it.
 *
 * @example
 * ```ts
 * fit({ …, callbacks: [jsonlLogger({ write: (line) => appendFileSync('metrics.jsonl', line) })] });
 * ```
 */
export function jsonlLogger(options: JsonlLoggerOptions): Callback {
  if (options === null || typeof options !== 'object' || typeof options.write !== 'function') throw new ArgumentError('jsonlLogger: expected { write: (line) => void }');
  return {
    onStepEnd(logs) {
      if (options.steps ?? true) options.write(`${JSON.stringify({ kind: 'step', ...logs })}\n`);
    },
    onEpochEnd(logs) {
      if (options.epochs ?? true) options.write(`${JSON.stringify({ kind: 'epoch', ...logs })}\n`);
    },
  };
}

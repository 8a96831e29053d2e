/**
 * The benchmark harness: workloads, each with one or more implementations (Kiln and peers
 * such as tfjs, jax-js and onnxruntime), timed with warm-up runs then N repetitions.
 */
import { gflopsPerSecond, microsecondsPerOp, summarize } from './stats.js';

export type Params = Readonly<Record<string, string | number | boolean>>;

/**
 * One way to run a workload. `setup` builds inputs (not timed), `run` is the timed part,
 * `teardown` frees what setup made. Runs must leave no work pending: an implementation with
 * asynchronous execution awaits its result inside `run`.
 */
export interface Implementation<S = unknown> {
  readonly name: string;
  setup(params: Params): S | Promise<S>;
  run(state: S): void | Promise<void>;
  teardown?(state: S): void | Promise<void>;
  /** Overrides of the workload's warm-up and repetitions for this implementation (a slow peer). */
  readonly warmup?: number;
  readonly repetitions?: number;
  /** Set on an implementation too slow for `--quick`: why it is left out there (recorded as skipped). */
  readonly skipWhenQuick?: string;
}

export interface Workload {
  readonly name: string;
  readonly description: string;
  readonly params: Params;
  /** Ops done by one run, for workloads that measure per-op cost (reported as µs/op). */
  readonly opsPerRun?: number;
  /** Floating-point operations done by one run, for workloads that report GFLOP/s. */
  readonly flopsPerRun?: number;
  /** Overrides of the run-wide defaults, e.g. fewer repetitions for a slow workload. */
  readonly warmup?: number;
  readonly repetitions?: number;
  /** Each keeps its own state type (methods are bivariant, so any `Implementation<S>` fits). */
  readonly implementations: readonly Implementation[];
}

/** The result of one implementation of one workload. Times are per run, in milliseconds. */
export interface BenchRecord {
  readonly workload: string;
  readonly implementation: string;
  /** null when skipped or failed. */
  readonly medianMs: number | null;
  readonly minMs: number | null;
  readonly maxMs: number | null;
  /** Median µs per op, for workloads with `opsPerRun`. */
  readonly usPerOp?: number;
  /** GFLOP/s at the median time, for workloads with `flopsPerRun`. */
  readonly gflops?: number;
  /** Number of timed repetitions (0 when skipped). */
  readonly samples: number;
  readonly params: Params;
  /** Why the implementation was not measured (an op or kernel it needs does not exist yet). */
  readonly skipped?: string;
  /** Why the implementation was not timed: its result did not match the reference (a {@link MismatchError}), or with `keepGoing`, the error it threw. */
  readonly failed?: string;
}

export interface RunOptions {
  readonly warmup: number;
  readonly repetitions: number;
  /** Milliseconds from an arbitrary origin; `performance.now` by default. */
  readonly now?: () => number;
  /** Progress and skip notes; `console.log` by default. */
  readonly log?: (line: string) => void;
  /** Upper bounds on every workload's and implementation's warm-up and repetitions (`--quick`). */
  readonly maxWarmup?: number;
  readonly maxRepetitions?: number;
  /**
   * Stop an implementation's timed repetitions once they have taken this many milliseconds in all
   * and there are at least 3 samples (a peer that takes seconds a run); the record's `samples` says
   * how many were taken. No limit by default.
   */
  readonly budgetMs?: number;
  /** Likewise for warm-up runs: stop once they have taken this long (after at least one). No limit by default. */
  readonly warmupBudgetMs?: number;
  /** Time each workload's implementations round-robin ({@link runWorkloadInterleaved}) instead of one after another. */
  readonly interleave?: boolean;
  /** A quick run: implementations with `skipWhenQuick` are recorded as skipped, not run. */
  readonly quick?: boolean;
  /**
   * Record any error an implementation throws (not only a {@link MismatchError}) as `failed` and go
   * on with the next one, instead of failing the whole run. Off by default.
   */
  readonly keepGoing?: boolean;
}

/**
 * Thrown by an implementation's `setup` when its result disagrees with the reference: the
 * harness records the implementation as failed (with this message) instead of timing a wrong
 * answer, and the run goes on.
 *
 * @example
 * ```ts
 * if (difference > 1e-4) throw new MismatchError(`tfjs-wasm: differs from Kiln by ${difference}`);
 * ```
 */
export class MismatchError extends Error {
  override readonly name = 'MismatchError';
}

/** The fewest timed repetitions a time budget may leave (when `repetitions` asks for at least that many). */
const MIN_SAMPLES = 3;

const MISSING = [/no kernel/i, /is not a function/i, /not implemented/i, /unknown op/i, /does not provide an export/i, /no WebGPU adapter/i];

/**
 * Whether an error says that something the implementation needs does not exist yet (an op
 * that is not exported, a kernel that is not registered), so the run is skipped rather than
 * failed. Any other error is a real failure and propagates.
 */
export function isMissingFeatureError(error: unknown): boolean {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return MISSING.some((re) => re.test(message));
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Calls fn, awaiting its result only when it is a promise (so synchronous runs stay synchronous). */
export async function call<T>(fn: () => T | Promise<T>): Promise<T> {
  const result = fn();
  return result instanceof Promise ? await result : result;
}

/** An implementation's warm-up and repetition counts: its own, else the workload's, else the run's, capped by the run's maxima. */
export function countsFor(workload: Workload, impl: Implementation, options: RunOptions): { warmup: number; repetitions: number } {
  const warmup = Math.min(impl.warmup ?? workload.warmup ?? options.warmup, options.maxWarmup ?? Infinity);
  const repetitions = Math.min(impl.repetitions ?? workload.repetitions ?? options.repetitions, options.maxRepetitions ?? Infinity);
  if (!(repetitions >= 1)) throw new RangeError(`${workload.name}: repetitions must be at least 1, got ${repetitions}`);
  return { warmup, repetitions };
}

/** The skipped record of an implementation left out of a quick run, or undefined when it runs. */
export function quickSkip(workload: Workload, impl: Implementation, options: RunOptions): BenchRecord | undefined {
  if (options.quick !== true || impl.skipWhenQuick === undefined) return undefined;
  const reason = `--quick: ${impl.skipWhenQuick}`;
  (options.log ?? console.log)(`  skipped ${workload.name} / ${impl.name}: ${reason}`);
  return { workload: workload.name, implementation: impl.name, medianMs: null, minMs: null, maxMs: null, samples: 0, params: workload.params, skipped: reason };
}

/**
 * The record of an implementation that threw: failed for a {@link MismatchError} (or any error,
 * with `keepGoing`), skipped for a missing feature; any other error is rethrown.
 */
export function errorRecord(workload: Workload, impl: Implementation, error: unknown, options: RunOptions): BenchRecord {
  const log = options.log ?? console.log;
  const base = { workload: workload.name, implementation: impl.name, medianMs: null, minMs: null, maxMs: null, samples: 0, params: workload.params };
  const mismatch = error instanceof MismatchError;
  if (mismatch || (options.keepGoing === true && !isMissingFeatureError(error))) {
    const failed = mismatch ? error.message : `error: ${errorText(error)}`;
    log(`  FAILED ${workload.name} / ${impl.name}: ${failed}`);
    return { ...base, failed };
  }
  if (!isMissingFeatureError(error)) throw error;
  const reason = errorText(error);
  log(`  skipped ${workload.name} / ${impl.name}: ${reason}`);
  return { ...base, skipped: reason };
}

/** Warm-up runs, stopping early once they have taken `warmupBudgetMs` (when set). */
export async function warmUp(impl: Implementation, state: unknown, warmup: number, options: RunOptions): Promise<void> {
  const now = options.now ?? (() => performance.now());
  let warm = 0;
  for (let i = 0; i < warmup; i++) {
    if (options.warmupBudgetMs === undefined) {
      await call(() => impl.run(state));
      continue;
    }
    const start = now();
    await call(() => impl.run(state));
    warm += now() - start;
    if (warm >= options.warmupBudgetMs) break;
  }
}

/** One timed run, in milliseconds. */
export async function timeOnce(impl: Implementation, state: unknown, now: () => number): Promise<number> {
  const start = now();
  const result = impl.run(state);
  if (result instanceof Promise) await result;
  return now() - start;
}

/** Whether timing should stop: every repetition taken, or the budget spent with enough samples. */
export function doneTiming(samples: readonly number[], repetitions: number, options: RunOptions): boolean {
  if (samples.length >= repetitions) return true;
  if (options.budgetMs === undefined || samples.length < Math.min(MIN_SAMPLES, repetitions)) return false;
  return samples.reduce((a, b) => a + b, 0) >= options.budgetMs;
}

/** The record of a measured implementation. */
export function measuredRecord(workload: Workload, impl: Implementation, samples: readonly number[]): BenchRecord {
  const stats = summarize(samples);
  return {
    workload: workload.name,
    implementation: impl.name,
    medianMs: stats.median,
    minMs: stats.min,
    maxMs: stats.max,
    ...(workload.opsPerRun !== undefined ? { usPerOp: microsecondsPerOp(stats.median, workload.opsPerRun) } : {}),
    ...(workload.flopsPerRun !== undefined && stats.median > 0 ? { gflops: gflopsPerSecond(workload.flopsPerRun, stats.median) } : {}),
    samples: stats.count,
    params: workload.params,
  };
}

/** Runs one implementation of one workload: setup, warm-up, timed repetitions, teardown. */
export async function runImplementation(workload: Workload, impl: Implementation, options: RunOptions): Promise<BenchRecord> {
  const now = options.now ?? (() => performance.now());
  const { warmup, repetitions } = countsFor(workload, impl, options);
  const skip = quickSkip(workload, impl, options);
  if (skip !== undefined) return skip;

  let state: unknown;
  let setUp = false;
  const samples: number[] = [];
  try {
    state = await call(() => impl.setup(workload.params));
    setUp = true;
    await warmUp(impl, state, warmup, options);
    while (!doneTiming(samples, repetitions, options)) samples.push(await timeOnce(impl, state, now));
  } catch (error) {
    return errorRecord(workload, impl, error, options);
  } finally {
    if (setUp && impl.teardown !== undefined) {
      const teardown = impl.teardown.bind(impl);
      await call(() => teardown(state));
    }
  }
  return measuredRecord(workload, impl, samples);
}

interface Slot {
  readonly impl: Implementation;
  readonly repetitions: number;
  readonly samples: number[];
  state?: unknown;
  setUp: boolean;
  record?: BenchRecord;
}

/**
 * Runs every implementation of one workload interleaved: all set up and warmed up (in order),
 * then timed round-robin, one run of each per round, until each has its repetitions (or has
 * spent its budget); then all torn down. Load that comes and goes on a shared machine then falls
 * on every implementation alike, so their ratios are fairer than from back-to-back blocks.
 * Records come back in the implementations' order.
 */
export async function runWorkloadInterleaved(workload: Workload, options: RunOptions): Promise<BenchRecord[]> {
  const now = options.now ?? (() => performance.now());
  const slots: Slot[] = workload.implementations.map((impl) => ({
    impl, repetitions: countsFor(workload, impl, options).repetitions, samples: [], setUp: false, record: quickSkip(workload, impl, options),
  }));
  const tearDown = async (slot: Slot) => {
    if (!slot.setUp) return;
    slot.setUp = false;
    const teardown = slot.impl.teardown?.bind(slot.impl);
    if (teardown !== undefined) await call(() => teardown(slot.state));
  };
  const guarded = async (slot: Slot, step: () => Promise<void>) => {
    try {
      await step();
    } catch (error) {
      slot.record = errorRecord(workload, slot.impl, error, options);
      await tearDown(slot);
    }
  };
  try {
    for (const slot of slots.filter((s) => s.record === undefined)) {
      await guarded(slot, async () => {
        slot.state = await call(() => slot.impl.setup(workload.params));
        slot.setUp = true;
        await warmUp(slot.impl, slot.state, countsFor(workload, slot.impl, options).warmup, options);
      });
    }
    const active = () => slots.filter((s) => s.record === undefined && !doneTiming(s.samples, s.repetitions, options));
    for (let round = active(); round.length > 0; round = active()) {
      for (const slot of round) await guarded(slot, async () => void slot.samples.push(await timeOnce(slot.impl, slot.state, now)));
    }
  } finally {
    for (const slot of slots) await tearDown(slot);
  }
  return slots.map((s) => s.record ?? measuredRecord(workload, s.impl, s.samples));
}

/** Runs every implementation of every workload, in order (each workload's interleaved with `interleave`). */
export async function runWorkloads(workloads: readonly Workload[], options: RunOptions): Promise<BenchRecord[]> {
  const log = options.log ?? console.log;
  const records: BenchRecord[] = [];
  const report = (record: BenchRecord) => {
    if (record.skipped === undefined && record.failed === undefined) {
      const rate = record.usPerOp !== undefined ? `, ${record.usPerOp.toFixed(3)} µs/op` : record.gflops !== undefined ? `, ${record.gflops.toFixed(2)} GFLOP/s` : '';
      log(`  ${record.implementation}: median ${record.medianMs!.toFixed(3)} ms over ${record.samples} runs${rate}`);
    }
    records.push(record);
  };
  for (const workload of workloads) {
    log(`${workload.name}: ${workload.description}`);
    if (options.interleave === true) (await runWorkloadInterleaved(workload, options)).forEach(report);
    else for (const impl of workload.implementations) report(await runImplementation(workload, impl, options));
  }
  return records;
}

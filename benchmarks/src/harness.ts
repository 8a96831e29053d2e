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

const MISSING = [/no kernel/i, /is not a function/i, /not implemented/i, /unknown op/i, /does not provide an export/i];

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

async function call<T>(fn: () => T | Promise<T>): Promise<T> {
  const result = fn();
  return result instanceof Promise ? await result : result;
}

/** Runs one implementation of one workload: setup, warm-up, timed repetitions, teardown. */
export async function runImplementation(workload: Workload, impl: Implementation, options: RunOptions): Promise<BenchRecord> {
  const now = options.now ?? (() => performance.now());
  const log = options.log ?? console.log;
  const warmup = Math.min(impl.warmup ?? workload.warmup ?? options.warmup, options.maxWarmup ?? Infinity);
  const repetitions = Math.min(impl.repetitions ?? workload.repetitions ?? options.repetitions, options.maxRepetitions ?? Infinity);
  if (!(repetitions >= 1)) throw new RangeError(`${workload.name}: repetitions must be at least 1, got ${repetitions}`);
  const names = { workload: workload.name, implementation: impl.name };
  if (options.quick === true && impl.skipWhenQuick !== undefined) {
    const reason = `--quick: ${impl.skipWhenQuick}`;
    log(`  skipped ${workload.name} / ${impl.name}: ${reason}`);
    return { ...names, medianMs: null, minMs: null, maxMs: null, samples: 0, params: workload.params, skipped: reason };
  }

  let state: unknown;
  let setUp = false;
  const samples: number[] = [];
  try {
    state = await call(() => impl.setup(workload.params));
    setUp = true;
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
    let spent = 0;
    for (let i = 0; i < repetitions; i++) {
      const start = now();
      const result = impl.run(state);
      if (result instanceof Promise) await result;
      samples.push(now() - start);
      spent += samples[i];
      if (options.budgetMs !== undefined && spent >= options.budgetMs && samples.length >= MIN_SAMPLES) break;
    }
  } catch (error) {
    const mismatch = error instanceof MismatchError;
    if (mismatch || (options.keepGoing === true && !isMissingFeatureError(error))) {
      const failed = mismatch ? error.message : `error: ${errorText(error)}`;
      log(`  FAILED ${workload.name} / ${impl.name}: ${failed}`);
      return { ...names, medianMs: null, minMs: null, maxMs: null, samples: 0, params: workload.params, failed };
    }
    if (!isMissingFeatureError(error)) throw error;
    const reason = errorText(error);
    log(`  skipped ${workload.name} / ${impl.name}: ${reason}`);
    return { ...names, medianMs: null, minMs: null, maxMs: null, samples: 0, params: workload.params, skipped: reason };
  } finally {
    if (setUp && impl.teardown !== undefined) {
      const teardown = impl.teardown.bind(impl);
      await call(() => teardown(state));
    }
  }

  const stats = summarize(samples);
  return {
    ...names,
    medianMs: stats.median,
    minMs: stats.min,
    maxMs: stats.max,
    ...(workload.opsPerRun !== undefined ? { usPerOp: microsecondsPerOp(stats.median, workload.opsPerRun) } : {}),
    ...(workload.flopsPerRun !== undefined && stats.median > 0 ? { gflops: gflopsPerSecond(workload.flopsPerRun, stats.median) } : {}),
    samples: stats.count,
    params: workload.params,
  };
}

/** Runs every implementation of every workload, in order. */
export async function runWorkloads(workloads: readonly Workload[], options: RunOptions): Promise<BenchRecord[]> {
  const log = options.log ?? console.log;
  const records: BenchRecord[] = [];
  for (const workload of workloads) {
    log(`${workload.name}: ${workload.description}`);
    for (const impl of workload.implementations) {
      const record = await runImplementation(workload, impl, options);
      if (record.skipped === undefined && record.failed === undefined) {
        const rate = record.usPerOp !== undefined ? `, ${record.usPerOp.toFixed(3)} µs/op` : record.gflops !== undefined ? `, ${record.gflops.toFixed(2)} GFLOP/s` : '';
        log(`  ${impl.name}: median ${record.medianMs!.toFixed(3)} ms over ${record.samples} runs${rate}`);
      }
      records.push(record);
    }
  }
  return records;
}

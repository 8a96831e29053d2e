/** Summary statistics of timing samples. */

export interface SampleStats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly count: number;
}

/** The median (the mean of the middle two for an even count). Throws on no samples. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new RangeError('median of no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median, min, max and count of samples. Throws on no samples or a non-finite sample. */
export function summarize(samples: readonly number[]): SampleStats {
  if (samples.length === 0) throw new RangeError('summarize: no samples');
  for (const s of samples) if (!Number.isFinite(s)) throw new RangeError(`summarize: non-finite sample ${s}`);
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), count: samples.length };
}

/** Floating-point operations per second, in GFLOP/s, for `flops` done in `ms` milliseconds. */
export function gflopsPerSecond(flops: number, ms: number): number {
  if (!(ms > 0)) throw new RangeError(`gflopsPerSecond: time must be positive, got ${ms} ms`);
  return flops / (ms * 1e-3) / 1e9;
}

/** Microseconds per op when `ops` ops take `ms` milliseconds. */
export function microsecondsPerOp(ms: number, ops: number): number {
  if (!(ops > 0)) throw new RangeError(`microsecondsPerOp: op count must be positive, got ${ops}`);
  return (ms * 1e3) / ops;
}

/**
 * The input the browser page feeds its model: deterministic values in [0, 1] for any shape, so
 * the end-to-end test (scripts/test/browser-page.test.ts) can run the same input in Node.
 *
 * @example
 * ```ts
 * const images = sampleInput([4, 1, 8, 8]); // 256 values
 * ```
 */
export function sampleInput(shape: readonly number[]): Float32Array {
  const n = shape.reduce((a, d) => a * d, 1);
  return Float32Array.from({ length: n }, (_, i) => 0.5 + 0.5 * Math.sin(0.37 * i + 1));
}

/** What the page leaves in `window.kilnResult` when it is done (`ok: false` with `error` when it failed). */
export interface PageResult {
  readonly ok: boolean;
  readonly error?: string;
  /** The backend that ran the model, and why that one. */
  readonly backend?: 'webgpu' | 'cpu';
  readonly reason?: string;
  /** `window.crossOriginIsolated` (COOP/COEP headers): the CPU backend's WebAssembly threads need it. */
  readonly crossOriginIsolated?: boolean;
  /** Threads the CPU backend's WebAssembly kernels use (1 without cross-origin isolation). */
  readonly cpuThreads?: number;
  readonly inputShape?: readonly number[];
  readonly outputs?: readonly { readonly name: string; readonly shape: readonly number[]; readonly data: readonly number[] }[];
  /** Milliseconds: fetch + loadModel, the first run, and the median of `runs` runs after it. */
  readonly timings?: { readonly loadMs: number; readonly firstRunMs: number; readonly medianRunMs: number; readonly runs: number };
}

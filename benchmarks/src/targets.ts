/**
 * Issue 7's targets ("Targets: ratios in one run, on a 2-core machine"), as data, and their
 * evaluation against one run's records. A ratio is Kiln's median time over the fastest listed
 * peer's median time in the same run: < 1 means Kiln is faster.
 */
import type { BenchRecord } from './harness.js';

export interface Target {
  /** The wording. */
  readonly text: string;
  readonly workload: string;
  /** The Kiln implementation measured. */
  readonly kiln: string;
  /** Kiln is compared with the fastest of these (empty: an absolute target only). */
  readonly peers: readonly string[];
  /** Kiln time / fastest peer time must be at most this (below it, with `strict`). */
  readonly maxRatio?: number;
  readonly strict?: boolean;
  /** Kiln's µs per op must be at most this. */
  readonly maxUsPerOp?: number;
}

const MLP = '784-512-512-10';
const JS_PEERS = ['tfjs-cpu', 'tfjs-wasm', 'jax-js-eager', 'jax-js-jit'];

/** The targets, in the order. */
export const TARGETS: readonly Target[] = [
  { text: 'matmul 512: ≥ 2× the GFLOP/s of the faster of tfjs-wasm and jax-js', workload: 'matmul-512', kiln: 'kiln-eager-cpu', peers: ['tfjs-wasm', 'jax-js-eager'], maxRatio: 0.5 },
  { text: 'matmul 1024: ≥ 2× the GFLOP/s of the faster of tfjs-wasm and jax-js', workload: 'matmul-1024', kiln: 'kiln-eager-cpu', peers: ['tfjs-wasm', 'jax-js-eager'], maxRatio: 0.5 },
  { text: "MLP training step, compiled: ≤ 0.4× jax-js jit's time", workload: `compiled-mlp-train-step-${MLP}`, kiln: 'kiln-compiled-cpu', peers: ['jax-js-jit'], maxRatio: 0.4 },
  { text: "MLP training step, compiled: ≤ 0.1× tfjs-wasm's time", workload: `compiled-mlp-train-step-${MLP}`, kiln: 'kiln-compiled-cpu', peers: ['tfjs-wasm'], maxRatio: 0.1 },
  { text: "MLP inference, compiled: ≤ 0.5× tfjs-wasm's time", workload: `compiled-mlp-inference-${MLP}`, kiln: 'kiln-compiled-cpu', peers: ['tfjs-wasm'], maxRatio: 0.5 },
  { text: "Elementwise chain, compiled: ≤ 0.2× the best JS peer's time", workload: 'elementwise-chain-1048576', kiln: 'kiln-compiled-cpu', peers: JS_PEERS, maxRatio: 0.2 },
  { text: 'Eager dispatch: ≤ 1 µs per tiny op', workload: 'eager-dispatch-add', kiln: 'kiln-eager-cpu', peers: [], maxUsPerOp: 1 },
  { text: "Eager dispatch: below tfjs-cpu's", workload: 'eager-dispatch-add', kiln: 'kiln-eager-cpu', peers: ['tfjs-cpu'], maxRatio: 1, strict: true },
  { text: "Small CNN inference, compiled: ≤ 0.33× tfjs-wasm's time", workload: 'cnn-inference', kiln: 'kiln-compiled-cpu', peers: ['tfjs-wasm'], maxRatio: 0.33 },
];

export interface TargetResult {
  readonly target: Target;
  /** The fastest listed peer that was measured, and Kiln / its time. */
  readonly peer?: string;
  readonly ratio?: number;
  readonly usPerOp?: number;
  /** null when a record it needs is missing, skipped or failed (`missing` says which). */
  readonly holds: boolean | null;
  readonly missing?: string;
}

const measured = (r: BenchRecord | undefined): r is BenchRecord & { medianMs: number } => r !== undefined && r.medianMs !== null && r.medianMs > 0;

/** Evaluates each target on one run's records. */
export function evaluateTargets(records: readonly BenchRecord[], targets: readonly Target[] = TARGETS): TargetResult[] {
  const find = (workload: string, impl: string) => records.find((r) => r.workload === workload && r.implementation === impl);
  return targets.map((target) => {
    const kiln = find(target.workload, target.kiln);
    if (!measured(kiln)) return { target, holds: null, missing: `${target.workload} / ${target.kiln}` };
    const peers = target.peers.map((p) => find(target.workload, p)).filter(measured);
    let holds = true;
    let peer: string | undefined;
    let ratio: number | undefined;
    if (target.maxRatio !== undefined) {
      if (peers.length === 0) return { target, holds: null, missing: `${target.workload} / ${target.peers.join(' or ')}` };
      const fastest = peers.reduce((a, b) => (b.medianMs < a.medianMs ? b : a));
      peer = fastest.implementation;
      ratio = kiln.medianMs / fastest.medianMs;
      holds &&= target.strict ? ratio < target.maxRatio : ratio <= target.maxRatio;
    }
    if (target.maxUsPerOp !== undefined) holds &&= kiln.usPerOp !== undefined && kiln.usPerOp <= target.maxUsPerOp;
    return { target, holds, ...(peer !== undefined ? { peer, ratio } : {}), ...(kiln.usPerOp !== undefined ? { usPerOp: kiln.usPerOp } : {}) };
  });
}

import type { Backend, Graph } from '@kiln/core';
import { ArgumentError, KilnError, VerifyError, verifyGraph } from '@kiln/core';
import { FUSE_ELEMENTWISE, FUSE_MATMUL_EPILOGUE } from './fusion/index.js';
import { CSE } from './passes/cse.js';
import { DCE } from './passes/dce.js';
import { FOLD_CONSTANTS } from './passes/fold.js';
import type { Pass } from './passes/pass.js';
import { SIMPLIFY } from './passes/simplify.js';

// The packages build without DOM or Node typings; every JavaScript host has performance.now().
declare const performance: { now(): number };

/**
 * THE optimization pipeline: every pass the runtime applies, in order. Later passes rely on
 * earlier ones (folding turns constant subgraphs into `full`s the simplifier recognises;
 * simplification leaves duplicates and dead nodes for the second cse and dce). Fusion goes
 * last, on the shrunk graph: elementwise chains first, then a matmul takes the fused node that
 * reads it as its epilogue; both are skipped on a backend without kernels for fused ops. Memory
 * planning is not a pass: it plans buffers for the final graph at run time (`planMemory`).
 */
export const PIPELINE: readonly Pass[] = Object.freeze([
  DCE, CSE, FOLD_CONSTANTS, SIMPLIFY, CSE, DCE,
  { ...FUSE_ELEMENTWISE, requiresKernels: ['fusedElementwise'] },
  { ...FUSE_MATMUL_EPILOGUE, requiresKernels: ['matmulEpilogue'] },
]);

export interface OptimizeOptions {
  /**
   * The backend the graph will run on: constant folding evaluates nodes with it (without one,
   * only shape ops fold), and passes that make ops it has no kernel for (fusion) are skipped.
   */
  readonly backend?: Backend<unknown>;
  /** Run only the first `stopAfter` passes (0 … pipeline length), to bisect a miscompilation. */
  readonly stopAfter?: number;
  /** Names of passes not to run (every occurrence), e.g. `['simplify']`. */
  readonly skip?: readonly string[];
  /** Run `verifyGraph` after every pass; a broken invariant names the pass. Default false (tests turn it on). */
  readonly verify?: boolean;
  /** Most elements constant folding writes into one `constant` node. Default 4096. */
  readonly maxFoldElements?: number;
  /** Another pipeline (default `PIPELINE`). */
  readonly passes?: readonly Pass[];
}

/** What one step of the pipeline did. */
export interface PassReport {
  /** 1-based position in the pipeline, as `formatPipeline` numbers it. */
  readonly step: number;
  readonly name: string;
  /** False when skipped or past `stopAfter`. */
  readonly ran: boolean;
  /** Why it did not run: `'skip'` (named in `skip`), `'stopAfter'`, or `'no kernel for <op>'` on the backend. */
  readonly skipped?: string;
  readonly nodesBefore: number;
  readonly nodesAfter: number;
  /** What changed, by kind: `{ 'merged full': 3, 'x * 1 → x': 1 }`. Empty when the pass changed nothing. */
  readonly changes: Readonly<Record<string, number>>;
  /** Wall-clock milliseconds the pass took (not printed by `formatReport`). */
  readonly ms: number;
}

export interface OptimizeResult {
  readonly graph: Graph;
  readonly passes: readonly PassReport[];
}

/**
 * Runs the pipeline over `graph` and reports what each pass changed. The result has the same
 * inputs (values and order) and outputs (count, order, types) as `graph`; values are equal
 * bit for bit to running `graph` itself.
 *
 * @example
 * ```ts
 * const { graph: optimized, passes } = optimize(graph, { backend: cpu, verify: true });
 * console.log(formatReport(passes));
 * optimize(graph, { stopAfter: 3 }); // bisect: only dce, cse, fold-constants
 * ```
 */
export function optimize(graph: Graph, options: OptimizeOptions = {}): OptimizeResult {
  const passes = options.passes ?? PIPELINE;
  const stopAfter = options.stopAfter ?? passes.length;
  if (!Number.isInteger(stopAfter) || stopAfter < 0 || stopAfter > passes.length) {
    throw new ArgumentError(`optimize: stopAfter must be an integer from 0 to ${passes.length} (the number of passes), got ${stopAfter}`);
  }
  const names = new Set(passes.map((p) => p.name));
  for (const name of options.skip ?? []) {
    if (!names.has(name)) throw new ArgumentError(`optimize: skip names an unknown pass '${name}'; the passes are ${[...names].join(', ')}`);
  }
  const skip = new Set(options.skip ?? []);
  const reports: PassReport[] = [];
  let current = graph;
  passes.forEach((pass, i) => {
    const step = i + 1;
    const nodesBefore = current.nodes.length;
    const missing = options.backend && pass.requiresKernels?.find((op) => !options.backend!.hasKernel(op));
    const skipped = i >= stopAfter ? 'stopAfter' : skip.has(pass.name) ? 'skip' : missing ? `no kernel for ${missing}` : undefined;
    if (skipped) {
      reports.push({ step, name: pass.name, ran: false, skipped, nodesBefore, nodesAfter: nodesBefore, changes: {}, ms: 0 });
      return;
    }
    const changes: Record<string, number> = {};
    const note = (kind: string, count = 1) => {
      changes[kind] = (changes[kind] ?? 0) + count;
    };
    const start = performance.now();
    let next: Graph;
    try {
      next = pass.run(current, { note, backend: options.backend, maxFoldElements: options.maxFoldElements });
    } catch (e) {
      if (e instanceof KilnError) throw new KilnError(`optimize: pass ${step} (${pass.name}) failed: ${e.message}`);
      throw e;
    }
    const ms = performance.now() - start;
    if (options.verify) {
      try {
        verifyGraph(next);
        checkContract(graph, next);
      } catch (e) {
        if (e instanceof KilnError) throw new VerifyError(`optimize: after pass ${step} (${pass.name}): ${e.message}`);
        throw e;
      }
    }
    reports.push({ step, name: pass.name, ran: true, nodesBefore, nodesAfter: next.nodes.length, changes, ms });
    current = next;
  });
  return { graph: current, passes: reports };
}

/** Passes keep the inputs and the outputs' count and types. */
function checkContract(before: Graph, after: Graph): void {
  if (after.inputs.length !== before.inputs.length || after.inputs.some((v, i) => v !== before.inputs[i])) {
    throw new VerifyError('the graph inputs changed; passes must keep them (callers feed inputs by position)');
  }
  if (after.outputs.length !== before.outputs.length) {
    throw new VerifyError(`the graph had ${before.outputs.length} outputs and now has ${after.outputs.length}`);
  }
  after.outputs.forEach((v, i) => {
    const t = before.outputs[i].type;
    if (v.type.dtype !== t.dtype || v.type.shape.length !== t.shape.length || v.type.shape.some((d, k) => d !== t.shape[k])) {
      throw new VerifyError(`output ${i} changed type`);
    }
  });
}

/**
 * The pipeline as numbered lines, the numbers `stopAfter` counts:
 *
 * @example
 * ```text
 * 1. dce — drop nodes whose outputs are never used (graph inputs and outputs are kept)
 * 2. cse — merge nodes with the same op, attributes and inputs (never random ops)
 * ```
 */
export function formatPipeline(passes: readonly Pass[] = PIPELINE): string {
  return passes.map((p, i) => `${i + 1}. ${p.name} — ${p.doc}`).join('\n');
}

/**
 * A report as text, one line per pass: node counts and what changed.
 *
 * @example
 * ```text
 * 1. dce: 98 → 96 nodes (removed full ×2)
 * 2. cse: unchanged
 * ```
 */
export function formatReport(passes: readonly PassReport[]): string {
  return passes.map((r) => {
    if (!r.ran) return `${r.step}. ${r.name}: skipped${r.skipped?.startsWith('no kernel') ? ` (${r.skipped} on the backend)` : ''}`;
    const kinds = Object.entries(r.changes);
    if (kinds.length === 0) return `${r.step}. ${r.name}: unchanged`;
    const what = kinds.map(([k, n]) => (n === 1 ? k : `${k} ×${n}`)).join(', ');
    return `${r.step}. ${r.name}: ${r.nodesBefore} → ${r.nodesAfter} nodes (${what})`;
  }).join('\n');
}

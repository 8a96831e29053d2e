/**
 * `@kiln/runtime` — optimizes and runs graphs on a backend. The interpreter (`executeGraph`)
 * exists; the passes, memory planner and `loadModel` come next.
 */
export { executeGraph, ownsOutput, GraphExecutionError } from './execute.js';

/**
 * The optimization passes the runtime will run, in order. Each will be a named pure function
 * `Graph → Graph`, with the verifier run after every pass in tests, so the pipeline can be
 * printed and bisected. None is implemented yet.
 *
 * - `dce`: dead-code elimination (drop nodes whose outputs are never used)
 * - `cse`: common-subexpression elimination (merge identical nodes)
 * - `fold-constants`: evaluate nodes whose inputs are all constants
 * - `simplify`: algebraic rewrites (`x * 1 → x`, `reshape(reshape(x)) → reshape(x)`…)
 * - `fuse`: group elementwise chains and reductions into fused kernels
 */
export const PLANNED_PASSES = Object.freeze(['dce', 'cse', 'fold-constants', 'simplify', 'fuse'] as const);

export type PlannedPassName = (typeof PLANNED_PASSES)[number];

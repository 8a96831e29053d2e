/**
 * `@kiln/runtime` — optimizes and runs graphs on a backend: the pass pipeline (`optimize`,
 * `PIPELINE`), memory planning (`planMemory`), the interpreter (`executeGraph`), and
 * `loadModel(bytes)` for deployers (`@kiln/runtime/node` adds `loadModelFile`).
 */
export { executeGraph, ownsOutput, memoryPlanFor, GraphExecutionError, type ExecuteOptions } from './execute.js';
export { optimize, formatPipeline, formatReport, PIPELINE, type OptimizeOptions, type OptimizeResult, type PassReport } from './pipeline.js';
export { planMemory, formatMemoryPlan, bytesOf, type MemoryPlan } from './memory_plan.js';
export type { Pass, PassContext } from './passes/pass.js';
export { GraphRewriter, sameType } from './passes/rewrite.js';
export { dce, DCE } from './passes/dce.js';
export { cse, CSE } from './passes/cse.js';
export { fold, FOLD_CONSTANTS } from './passes/fold.js';
export { simplify, SIMPLIFY } from './passes/simplify.js';
export { fuseElementwise, FUSE_ELEMENTWISE, fuseMatmulEpilogue, FUSE_MATMUL_EPILOGUE } from './fusion/index.js';
export { ELEMENTWISE_OPS, uniformValue } from './passes/values.js';
export { runControlNode, isControlNode, mapControlBodies, type RunGraph } from './control.js';
export { runBatched, isBatching, type BatchingBackend } from './batch.js';
export { loadModel, type LoadModelOptions, type LoadedModel, type ModelInputType, type ModelProfile } from './model.js';

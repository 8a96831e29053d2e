export { Tensor, type NestedArray, type TensorStorage, type SymbolicPayload } from './tensor.js';
export { tensor, type TensorLike, type TensorOptions } from './create.js';
export { tidy, keep, memory, type MemoryInfo } from './memory.js';
export { registerBackend, setBackend, getBackend } from './backends.js';
// The CPU backend's thread count (its WebAssembly kernels' worker pool), where researchers look for settings.
export { getNumThreads, setNumThreads } from '@kiln/backend-cpu';
export { manualSeed, getRngState, setRngState, type RngState } from './random.js';
export { withInterpreter, eagerInterpreter, dispatcher, currentInterpreter, rawOps, fromHost, fromStorage, type TensorInterpreter } from './dispatch.js';
export { TENSOR_METHODS } from './methods.js';
export { ops } from './ops.js';
export { noGrad, enableGrad, isGradEnabled, setAnomalyDetection } from './autograd/mode.js';
export { grad, valueAndGrad } from './autograd/functional.js';
export type { BackwardOptions } from './autograd/engine.js';
export * from './functions.js';
export { cond, whileLoop, scan, evalGraph, runControlFlow, type ScanOptions, type ControlKind, type ControlFlowCall, type ControlFlowNode, type ControlFlowResult, type FlatFn } from './control/index.js';
export { profile, profileSync, profileRegion, activeProfiler, Profiler } from './profile/profile.js';

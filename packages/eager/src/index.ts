export { Tensor, type NestedArray } from './tensor.js';
export { tensor, type TensorLike, type TensorOptions } from './create.js';
export { tidy, keep, memory, type MemoryInfo } from './memory.js';
export { registerBackend, setBackend, getBackend } from './backends.js';
export { manualSeed, getRngState, setRngState, type RngState } from './random.js';
export { withInterpreter, eagerInterpreter, dispatcher } from './dispatch.js';
export { TENSOR_METHODS } from './methods.js';
export { ops } from './ops.js';
export * from './functions.js';

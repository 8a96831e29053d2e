/**
 * `@kiln/tracer` — `compile(fn)`: traces eager code into the graph IR and runs it through the
 * runtime. Arguments and results may be tensors, numbers, strings, booleans and nested
 * arrays/objects of them; tensors read from the closure are captured; in-place updates and
 * `.grad` changes are written back.
 */
export { compile, type CompileOptions, type CompiledFunction, type CompileStats } from './compile.js';
export { CompileCheckError, type CheckOptions, type CheckMismatch } from './check.js';
export type { CompileExplanation, PassSummary } from './explain.js';
export { Trace, TracedValue } from './trace.js';
export { exportOnnx, type ExportOnnxOptions, type NamedWeights } from './onnx.js';
export { save, load, type SaveOptions, type TensorModel, type NamedTensors } from './save.js';
export type { SymbolOptions } from './save_dynamic.js';

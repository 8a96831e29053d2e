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

/**
 * Structured control flow. A traced tensor's value is unknown, so `if (x.item() > 0)` cannot be
 * traced; the `TraceError` it raises suggests one of these. They are `@kiln/eager`'s `cond`,
 * `whileLoop` and `scan`; the tracer records each as one node with sub-graphs (control.ts).
 */
export const PLANNED_CONTROL_FLOW = Object.freeze(['cond', 'whileLoop', 'scan'] as const);

export type PlannedControlFlow = (typeof PLANNED_CONTROL_FLOW)[number];
export { save, load, type SaveOptions, type TensorModel, type NamedTensors } from './save.js';
export type { SymbolOptions } from './save_dynamic.js';

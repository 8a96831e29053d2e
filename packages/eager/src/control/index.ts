/**
 * Structured control flow — `cond`, `whileLoop`, `scan` (JAX's lax.cond / while_loop / scan).
 * Eagerly they run their functions as JavaScript; under an interpreter that implements
 * `TensorInterpreter.controlFlow` (the tracer) each becomes one node with sub-graphs.
 */
export { cond, whileLoop, scan, type ScanOptions } from './api.js';
export { runControlFlow } from './flat.js';
export { evalGraph } from './grad.js';
export type { ControlKind, ControlFlowCall, ControlFlowNode, ControlFlowResult, FlatFn } from './hook.js';

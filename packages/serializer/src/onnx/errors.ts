import { KilnError } from '@kiln/core';

/**
 * A graph that cannot be exported to ONNX exactly: an op with no ONNX equivalent (random
 * numbers, gradient-only kernels), a dtype the ONNX op does not take, or options that do not fit
 * the graph. The message names the node (`node %12 (randomNormal)`) and says what to do instead.
 * Export never writes a model that would compute something else.
 *
 * @example
 * ```ts
 * try { exportGraphToOnnx(graph); }
 * catch (e) { if (e instanceof OnnxExportError) console.error(e.message); }
 * // exportOnnx: node %3 (randomNormal): random numbers cannot be exported …
 * ```
 */
export class OnnxExportError extends KilnError {}

/**
 * `@kiln/cli` — the `kiln` command: `kiln inspect model.kiln`, `kiln export-onnx model.kiln
 * out.onnx`, `kiln graph model.kiln --out graph.svg`, `kiln run model.kiln --input x=[…]`. The functions behind it are exported for
 * tests and scripts.
 *
 * @example
 * ```ts
 * import { runCli } from '@kiln/cli';
 * const code = await runCli(['inspect', 'model.kiln', '--no-graph'], io);
 * ```
 */
export { runCli, EXIT, type CliIO } from './cli.js';
export { parseArgs, namedValues, USAGE, UsageError, FileError, type ParsedArgs } from './args.js';
export { summarizeModel, formatSummary, type ModelSummary, type SignatureRow } from './inspect.js';
export { modelFileToOnnx, symbolSizes, graphAt, evaluateOnCpu } from './onnx.js';
export { parseInput, formatResults, type InputSpec } from './run.js';
export { graphToSvg, type GraphSvgOptions } from './graph-svg.js';

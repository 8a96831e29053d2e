/**
 * `@kiln/cli` — the `kiln` command: `kiln demo`, `kiln inspect model.kiln`, `kiln export-onnx
 * model.kiln out.onnx`, `kiln graph model.kiln --out graph.svg|html`, `kiln run model.kiln
 * --input x=[…]`, `kiln bench` (in a checkout). The functions behind it are exported for tests
 * and scripts; the main job is `@kiln/cli/demo`'s `runMainJob`.
 *
 * @example
 * ```ts
 * import { runCli } from '@kiln/cli';
 * const code = await runCli(['inspect', 'model.kiln', '--no-graph'], io);
 * ```
 */
export { runCli, cliVersion, EXIT, type CliIO } from './cli.js';
export { parseArgs, namedValues, commandHelp, didYouMean, COMMAND_NAMES, USAGE, UsageError, FileError, type ParsedArgs } from './args.js';
export { summarizeModel, formatSummary, type ModelSummary, type SignatureRow } from './inspect.js';
export { modelFileToOnnx, symbolSizes, graphAt, evaluateOnCpu } from './onnx.js';
export { parseInput, formatResults, type InputSpec } from './run.js';
export { graphToSvg, graphPicture, type GraphSvgOptions, type GraphBox, type GraphPicture } from './graph-svg.js';
export { graphToHtml } from './graph-html.js';
export { layoutLayered, type Layout, type LayoutNode, type LayoutEdge, type PlacedNode, type RoutedEdge } from './graph-layout.js';
export { symbolicTypeLabels } from './graph-shapes.js';
export { findCheckout, benchArgs } from './bench.js';

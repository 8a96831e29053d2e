import { readFileSync } from 'node:fs';
import { KilnError } from '@kiln/core';
import { createCpuBackend } from '@kiln/backend-cpu';
import { loadModel } from '@kiln/runtime';
import type { ModelFile } from '@kiln/serializer';
import { OnnxExportError, readModel } from '@kiln/serializer';
import type { ParsedArgs } from './args.js';
import { commandHelp, FileError, namedValues, parseArgs, positiveInteger, singleValue, USAGE, UsageError } from './args.js';
import { bench } from './bench.js';
import { graphToHtml } from './graph-html.js';
import { graphToSvg } from './graph-svg.js';
import { formatSummary, summarizeModel } from './inspect.js';
import { modelFileToOnnx, symbolSizes } from './onnx.js';
import { formatResults, parseInput } from './run.js';

/** What the CLI reads and writes: the process's streams and files, or fakes in tests. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(path: string): Uint8Array;
  writeFile(path: string, bytes: Uint8Array): void;
  /** Writes text as is, no newline added (progress bars); absent, long commands print whole lines. */
  write?(text: string): void;
  /** Runs a program with inherited streams and returns its exit status (`kiln bench`); absent, such commands fail. */
  spawn?(command: string, args: readonly string[], cwd: string): number;
  /** The working directory (`kiln bench` looks for the checkout from here); default process.cwd(). */
  cwd?(): string;
}

/** Exit codes: 0 success, 1 the model or an input is bad, 2 the command line is. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

function readFileOrFail(io: CliIO, path: string): Uint8Array {
  try {
    return io.readFile(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new FileError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : e instanceof Error ? e.message : String(e)}`);
  }
}

const readKiln = (io: CliIO, path: string): ModelFile => readModel(readFileOrFail(io, path));

function inspect(args: ParsedArgs, io: CliIO): void {
  const [path] = args.positionals;
  const file = readKiln(io, path);
  if (args.flags.has('json')) io.stdout(JSON.stringify(summarizeModel(file), null, 2));
  else io.stdout(formatSummary(file, { graph: !args.flags.has('no-graph'), title: path }));
}

function exportOnnx(args: ParsedArgs, io: CliIO): void {
  const [path, out] = args.positionals;
  const file = readKiln(io, path);
  const given = namedValues('size', args.values.get('size') ?? []);
  const fixed = given.size > 0 || args.flags.has('fixed');
  const sizes = fixed ? symbolSizes(file, given) : undefined;
  let bytes: Uint8Array;
  try {
    bytes = modelFileToOnnx(file, sizes);
  } catch (e) {
    if (e instanceof OnnxExportError && !fixed && file.symbolic) {
      throw new OnnxExportError(`${e.message}\n(the model has symbolic dimensions; --fixed or --size ${file.symbolic.symbols[0].name}=<n> exports it at fixed sizes)`);
    }
    throw e;
  }
  try {
    io.writeFile(out, bytes);
  } catch (e) {
    throw new FileError(`cannot write ${out}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const symbols = file.symbolic?.symbols ?? [];
  const dims = symbols.map((s, k) => (sizes ? `${s.name}=${sizes[k]}` : `${s.name} symbolic`));
  io.stdout(`wrote ${out} (${bytes.length.toLocaleString('en-US')} bytes, ONNX opset 17${dims.length ? `, ${dims.join(', ')}` : ''})`);
}

function graph(args: ParsedArgs, io: CliIO): void {
  const [path] = args.positionals;
  const out = singleValue(args, 'out');
  if (out === undefined) throw new UsageError('graph: needs --out <file.svg> or --out <file.html>');
  const format = /\.svg$/i.test(out) ? 'SVG' : /\.html?$/i.test(out) ? 'HTML' : undefined;
  if (format === undefined) throw new UsageError(`graph: --out ${out}: name the file *.svg (a picture) or *.html (the picture with details on hover)`);
  const file = readKiln(io, path);
  const options = { title: singleValue(args, 'title', path), optimized: args.flags.has('optimized') };
  const text = format === 'SVG' ? graphToSvg(file, options) : graphToHtml(file, options);
  try {
    io.writeFile(out, new TextEncoder().encode(text));
  } catch (e) {
    throw new FileError(`cannot write ${out}: ${e instanceof Error ? e.message : String(e)}`);
  }
  io.stdout(`wrote ${out} (${file.graph.nodes.length} nodes, ${text.length.toLocaleString('en-US')} bytes of ${format})`);
}

async function demo(args: ParsedArgs, io: CliIO): Promise<number> {
  const epochs = (name: string, fallback: number) => {
    const text = singleValue(args, name);
    return text === undefined ? fallback : positiveInteger('demo', name, text);
  };
  // Loaded only here: the other commands need no eager tensors, tracer or nn.
  const backend = singleValue(args, 'backend', process.env.KILN_DEMO_BACKEND || 'auto');
  if (backend !== 'auto' && backend !== 'cpu' && backend !== 'webgpu') throw new UsageError(`demo: --backend ${backend}: expected cpu, webgpu or auto`);
  const { runMainJob } = await import('./demo/main-job.js');
  const summary = await runMainJob({
    backend,
    dir: singleValue(args, 'out', 'out'),
    eagerEpochs: epochs('eager-epochs', 5),
    compiledEpochs: epochs('compiled-epochs', 15),
    ...(io.write ? { write: io.write } : { write: (text: string) => io.stdout(text.replace(/\n$/, '')), tty: false }),
  });
  if (summary.failure) {
    io.stderr(`kiln: demo: ${summary.failure}`);
    return EXIT.failed;
  }
  return EXIT.ok;
}

/** The version in the CLI's package.json (one directory above src/ and dist/). */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function run(args: ParsedArgs, io: CliIO): void {
  const [path] = args.positionals;
  const bytes = readFileOrFail(io, path);
  const model = loadModel(bytes, { backend: createCpuBackend() });
  try {
    const given = namedValues('input', args.values.get('input') ?? []);
    const sizes = new Map(namedValues('size', args.values.get('size') ?? []));
    const symbols = model.file.symbolic?.symbols.map((s) => s.name) ?? [];
    for (const [name, text] of sizes) {
      if (!symbols.includes(name)) throw new UsageError(`--size ${name}: the model has ${symbols.length ? `symbolic dimensions ${symbols.join(', ')}` : 'no symbolic dimensions'}`);
      if (!/^\d+$/.test(text)) throw new UsageError(`--size ${name}=${text}: expected a non-negative integer`);
    }
    for (const name of given.keys()) {
      if (!model.inputs.some((i) => i.name === name)) throw new UsageError(`--input ${name}: the model's inputs are ${model.inputs.map((i) => i.name).join(', ')}`);
    }
    const text = (p: string) => new TextDecoder().decode(readFileOrFail(io, p));
    const inputs = model.inputs.map((spec, k) => {
      const value = given.get(spec.name);
      if (value === undefined) throw new UsageError(`run: missing --input ${spec.name}=… (${spec.dtype}[${spec.shape.join(',')}]); the model takes ${model.inputs.map((i) => i.name).join(', ')}`);
      const shape = spec.shape.map((d) => (typeof d === 'number' ? d : sizes.has(d) ? Number(sizes.get(d)) : undefined));
      return parseInput({ name: spec.name, dtype: spec.dtype, shape }, value, text, k);
    });
    const json = args.flags.has('json');
    const results = model.run(...inputs);
    io.stdout(formatResults(model.outputs, results, { json, limit: args.flags.has('full') ? Infinity : 64 }));
    if (args.flags.has('profile')) {
      // A second run, timed: the first one pays for optimizing the graph and warming up kernels.
      const table = `\nprofile of a second run:\n${model.profile(...inputs).report.table()}`;
      if (json) io.stderr(table); // stdout stays JSON
      else io.stdout(table);
    }
  } finally {
    model.dispose();
  }
}

/**
 * Runs the `kiln` command line and returns its exit code. Every failure is reported on stderr
 * as `kiln: …` (a bad model file says what is wrong with it; an op ONNX cannot hold is named);
 * nothing is thrown.
 *
 * @example
 * ```ts
 * const code = await runCli(['inspect', 'model.kiln'], nodeIO);
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  try {
    const args = parseArgs(argv);
    if (args.command === 'help') {
      const [topic] = args.positionals;
      io.stdout(args.flags.has('help') ? commandHelp('help') : topic === undefined ? USAGE : commandHelp(topic));
      return EXIT.ok;
    }
    if (args.flags.has('help')) {
      io.stdout(commandHelp(args.command));
      return EXIT.ok;
    }
    if (args.command === 'version') {
      io.stdout(`kiln ${cliVersion()}`);
      return EXIT.ok;
    }
    if (args.command === 'inspect') inspect(args, io);
    else if (args.command === 'export-onnx') exportOnnx(args, io);
    else if (args.command === 'graph') graph(args, io);
    else if (args.command === 'demo') return await demo(args, io);
    else if (args.command === 'bench') return bench(args, io);
    else run(args, io);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`kiln: ${e.message}`);
      return EXIT.usage;
    }
    if (e instanceof KilnError) {
      io.stderr(`kiln: ${e.name}: ${e.message}`);
      return EXIT.failed;
    }
    io.stderr(`kiln: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return EXIT.failed;
  }
}

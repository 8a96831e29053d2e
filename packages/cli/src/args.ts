import { KilnError } from '@kiln/core';

/** A command line that does not fit the usage: unknown command or option, a missing value, a bad input. */
export class UsageError extends KilnError {}

/** A file the command cannot read or write. */
export class FileError extends KilnError {}

export const USAGE = `usage: kiln <command> [options]

commands:
  inspect <model.kiln>               signature, op counts, parameter count and bytes, graph text
      --no-graph                     leave the graph text out
      --json                         the same as JSON
  export-onnx <model.kiln> <out.onnx>
                                     write the model as ONNX (opset 17); symbolic dimensions
                                     stay symbolic (named ONNX dimensions)
      --size <name>=<n>              fix a symbolic dimension at this size
      --fixed                        fix every symbolic dimension at the size it was saved at
  graph <model.kiln> --out <graph.svg>
                                     draw the graph as SVG: inputs on top, one box per op,
                                     dtype and shape on each edge, outputs at the bottom,
                                     fused kernels outlined with their body ops
      --out <file.svg>               where to write it (required)
      --title <text>                 heading (default: the model file's name)
  run <model.kiln>                   run the model on the CPU and print its results
      --input <name>=<value>         one per input: a JSON array ([[1, 2], [3, 4]]), @file.json,
                                     or zeros, ones, random (shape from the signature)
      --size <name>=<n>              size for a symbolic dimension, for zeros/ones/random inputs
      --full                         print every element (default: the first 64 per output)
      --json                         print the results as JSON
      --profile                      run once more, timed, and print a table per op: calls, ms,
                                     bytes, GFLOP/s (on stderr with --json)
  help                               this text`;

/** Options each command takes, and whether they take a value. */
const OPTIONS: Readonly<Record<string, Readonly<Record<string, 'value' | 'flag'>>>> = {
  inspect: { 'no-graph': 'flag', json: 'flag' },
  'export-onnx': { size: 'value', fixed: 'flag' },
  graph: { out: 'value', title: 'value' },
  run: { input: 'value', size: 'value', full: 'flag', json: 'flag', profile: 'flag' },
  help: {},
};

/** How many positional arguments each command takes. */
const POSITIONALS: Readonly<Record<string, number>> = { inspect: 1, 'export-onnx': 2, graph: 1, run: 1, help: 0 };

export interface ParsedArgs {
  readonly command: string;
  readonly positionals: readonly string[];
  /** Values of repeatable options, by name (`input`, `size`). */
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly flags: ReadonlySet<string>;
}

/**
 * Splits `argv` (without `node` and the script) into a command, its positional arguments and
 * options (`--name value` or `--name=value`); throws a UsageError naming what does not fit.
 *
 * @example
 * ```ts
 * parseArgs(['run', 'm.kiln', '--input', 'x=[1,2]']).values.get('input'); // ['x=[1,2]']
 * ```
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const [command = 'help', ...rest] = argv;
  const normalized = command === '--help' || command === '-h' ? 'help' : command;
  const options = OPTIONS[normalized];
  if (!options) throw new UsageError(`unknown command '${command}'; commands are ${Object.keys(OPTIONS).join(', ')}`);
  const positionals: string[] = [];
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--help' || arg === '-h') {
      flags.add('help');
      continue;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const kind = options[name];
    if (!kind) {
      const known = Object.keys(options).map((o) => `--${o}`).join(', ') || 'none';
      throw new UsageError(`${normalized}: unknown option '--${name}'; its options are ${known}`);
    }
    if (kind === 'flag') {
      if (eq >= 0) throw new UsageError(`${normalized}: --${name} takes no value`);
      flags.add(name);
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : rest[++i];
    if (value === undefined) throw new UsageError(`${normalized}: --${name} needs a value`);
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  const want = POSITIONALS[normalized];
  if (!flags.has('help') && positionals.length !== want) {
    throw new UsageError(`${normalized}: expects ${want} file argument${want === 1 ? '' : 's'}, got ${positionals.length}${positionals.length ? ` (${positionals.join(' ')})` : ''}`);
  }
  return { command: normalized, positionals, values, flags };
}

/**
 * `name=value` pairs (from --input, --size) split at the first `=`, each name once.
 *
 * @example
 * ```ts
 * namedValues('size', ['batch=32']); // Map { 'batch' => '32' }
 * ```
 */
export function namedValues(option: string, entries: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${option} ${JSON.stringify(entry)}: expected <name>=<value>`);
    const name = entry.slice(0, eq);
    if (out.has(name)) throw new UsageError(`--${option} ${name} is given twice`);
    out.set(name, entry.slice(eq + 1));
  }
  return out;
}

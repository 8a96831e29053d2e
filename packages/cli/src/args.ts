import { KilnError } from '@kiln/core';

/** A command line that does not fit the usage: unknown command or option, a missing value, a bad input. */
export class UsageError extends KilnError {}

/** A file the command cannot read or write. */
export class FileError extends KilnError {}

/** One option of a command: a flag, or one that takes a value (`--name value` or `--name=value`). */
interface OptionSpec {
  readonly kind: 'value' | 'flag';
  /** Shown in help after the option's name, e.g. `<name>=<n>`. */
  readonly arg?: string;
  readonly help: string;
}

/** One command: its usage line, what it does, its options, positional arguments and an example. */
interface CommandSpec {
  readonly args: string;
  readonly summary: string;
  /** More lines of description, shown in the command's own help. */
  readonly details?: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** How many positional arguments: exactly `min` when `max` is absent. */
  readonly min: number;
  readonly max?: number;
  readonly examples: readonly string[];
}

/** Every command, in the order `kiln --help` lists them. The help text is generated from this table. */
const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  demo: {
    args: '',
    summary: 'the main job: train, compile, save, deploy the digits MLP',
    details: 'Trains a 64-128-10 MLP on the handwritten digits (shipped with the package) eagerly,\n'
      + 'then with its training step compiled (printing the speedup), checks test accuracy, saves\n'
      + 'model.kiln and model.onnx (batch-dynamic), runs model.kiln in a separate runtime-only\n'
      + 'process (`kiln run`) and checks its predictions match, and writes\n'
      + 'metrics.jsonl, training.svg and graph.svg. 5-20 s on a 2-core machine. Trains on\n'
      + 'WebGPU when a hardware adapter exists (--backend auto), else on the CPU; the first line\n'
      + 'says which and why.',
    options: {
      out: { kind: 'value', arg: '<dir>', help: 'where to write the artifacts (default: out)' },
      'eager-epochs': { kind: 'value', arg: '<n>', help: 'epochs trained eagerly (default 5)' },
      'compiled-epochs': { kind: 'value', arg: '<n>', help: 'epochs trained with the compiled step (default 15)' },
      backend: { kind: 'value', arg: '<cpu|webgpu|auto>', help: 'auto (default, or KILN_DEMO_BACKEND): WebGPU on a hardware adapter, else cpu; webgpu: any adapter, software ones included' },
    },
    min: 0,
    examples: ['kiln demo', 'kiln demo --out /tmp/kiln-demo --eager-epochs 1 --compiled-epochs 1', 'kiln demo --backend webgpu'],
  },
  inspect: {
    args: '<model.kiln>',
    summary: 'signature, op counts, parameter count and bytes, graph text',
    options: {
      'no-graph': { kind: 'flag', help: 'leave the graph text out' },
      json: { kind: 'flag', help: 'the same facts as JSON' },
    },
    min: 1,
    examples: ['kiln inspect out/model.kiln --no-graph'],
  },
  graph: {
    args: '<model.kiln> --out <graph.svg|graph.html>',
    summary: 'draw the graph: ops, shapes on edges, fusion',
    details: 'A layered drawing, inputs on top and outputs at the bottom: the model\'s inputs in blue,\n'
      + 'stored parameters and buffers in grey, dtype and shape (symbolic dimensions by name) on\n'
      + 'every edge, fused kernels outlined in orange with their body ops. .html embeds the SVG in\n'
      + 'a page that shows each op\'s attributes, inputs and outputs on hover.',
    options: {
      out: { kind: 'value', arg: '<file.svg|file.html>', help: 'where to write it (required); the extension picks the format' },
      title: { kind: 'value', arg: '<text>', help: 'heading (default: the model file\'s name)' },
      optimized: { kind: 'flag', help: 'draw the graph the runtime runs: after its optimization passes,\nwith fused kernels (default: the graph as saved)' },
    },
    min: 1,
    examples: ['kiln graph out/model.kiln --out graph.svg', 'kiln graph out/model.kiln --out fused.svg --optimized', 'kiln graph out/model.kiln --out graph.html --title "digits MLP"'],
  },
  'export-onnx': {
    args: '<model.kiln> <out.onnx>',
    summary: 'write the model as ONNX (opset 17)',
    options: {
      size: { kind: 'value', arg: '<name>=<n>', help: 'fix a symbolic dimension at this size' },
      fixed: { kind: 'flag', help: 'fix every symbolic dimension at the size it was saved at' },
    },
    min: 2,
    examples: ['kiln export-onnx out/model.kiln model.onnx', 'kiln export-onnx out/model.kiln b32.onnx --size batch=32'],
  },
  run: {
    args: '<model.kiln>',
    summary: 'run the model on the CPU and print its results',
    options: {
      input: { kind: 'value', arg: '<name>=<value>', help: 'one per input: a JSON array ([[1, 2], [3, 4]]), @file.json,\nor zeros, ones, random (shape from the signature)' },
      size: { kind: 'value', arg: '<name>=<n>', help: 'size for a symbolic dimension, for zeros/ones/random inputs' },
      full: { kind: 'flag', help: 'print every element (default: the first 64 per output)' },
      json: { kind: 'flag', help: 'print the results as JSON' },
      profile: { kind: 'flag', help: 'run once more, timed, and print a table per op: calls, ms,\nbytes, GFLOP/s (on stderr with --json)' },
    },
    min: 1,
    examples: ['kiln run out/model.kiln --input images=random --size batch=2', 'kiln run out/model.kiln --input images=@x.json --json'],
  },
  bench: {
    args: '',
    summary: 'run the benchmarks (in a Kiln checkout only)',
    details: 'Runs benchmarks/src/run.ts of the Kiln checkout that holds the working directory (or\n'
      + 'the CLI itself), passing the options through; it writes benchmarks/results/latest.{json,md}\n'
      + 'unless --out says otherwise. The benchmarks are not part of the installed package.',
    options: {
      quick: { kind: 'flag', help: 'the workloads peers implement, 1 warm-up and 3 repetitions each' },
      'no-peers': { kind: 'flag', help: 'time Kiln only, not the peer libraries' },
      filter: { kind: 'value', arg: '<text>', help: 'only workloads whose name contains this' },
      warmup: { kind: 'value', arg: '<n>', help: 'warm-up runs per workload' },
      reps: { kind: 'value', arg: '<n>', help: 'timed repetitions per workload' },
      out: { kind: 'value', arg: '<dir>', help: 'where to write the report' },
    },
    min: 0,
    examples: ['kiln bench --filter matmul', 'kiln bench --quick'],
  },
  help: {
    args: '[command]',
    summary: 'this text, or one command\'s',
    options: {},
    min: 0,
    max: 1,
    examples: ['kiln help graph'],
  },
  version: {
    args: '',
    summary: 'the CLI\'s version (also --version, -V)',
    options: {},
    min: 0,
    examples: ['kiln --version'],
  },
};

/** The command names, in help order. */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);

const indent = (text: string, by: number) => text.split('\n').join(`\n${' '.repeat(by)}`);

function optionLines(spec: CommandSpec, pad: number): string[] {
  return Object.entries(spec.options).map(([name, o]) => {
    const head = `--${name}${o.arg ? ` ${o.arg}` : ''}`;
    return head.length < pad ? `  ${head.padEnd(pad)}${indent(o.help, pad + 2)}` : `  ${head}\n${' '.repeat(pad + 2)}${indent(o.help, pad + 2)}`;
  });
}

export const USAGE = [
  'usage: kiln <command> [options]',
  '',
  'commands:',
  ...Object.entries(COMMANDS).map(([name, c]) => {
    const head = `${name}${c.args ? ` ${c.args}` : ''}`;
    return head.length < 34 ? `  ${head.padEnd(34)} ${c.summary}` : `  ${head}\n  ${' '.repeat(35)}${c.summary}`;
  }),
  '',
  'options: --help, -h on any command shows its options and an example; --version, -V',
  '',
  'examples:',
  '  kiln demo',
  '  kiln inspect out/model.kiln',
  '  kiln graph out/model.kiln --out graph.html',
  '  kiln graph --help',
].join('\n');

/**
 * The help text of one command: usage line, description, options, examples.
 *
 * @example
 * ```ts
 * console.log(commandHelp('graph'));
 * ```
 */
export function commandHelp(command: string): string {
  const spec = COMMANDS[command];
  if (!spec) throw new UsageError(unknownCommand(command));
  const options = optionLines(spec, 28);
  return [
    `usage: kiln ${command}${spec.args ? ` ${spec.args}` : ''}${options.length ? ' [options]' : ''}`,
    '',
    spec.details ?? `${spec.summary[0].toUpperCase()}${spec.summary.slice(1)}.`,
    ...(options.length ? ['', 'options:', ...options] : []),
    `  ${'--help, -h'.padEnd(28)}this text`,
    '',
    'examples:',
    ...spec.examples.map((e) => `  ${e}`),
  ].join('\n');
}

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), for "did you mean". */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The candidate closest to `word` (edit distance at most a third of its length, at least 1,
 * or a unique prefix), or undefined when none is close.
 *
 * @example
 * ```ts
 * didYouMean('inpsect', ['inspect', 'run']); // 'inspect'
 * ```
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const prefixed = candidates.filter((c) => word.length >= 2 && c.startsWith(word));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3));
  for (const c of candidates) {
    const dist = distance(word, c);
    if (dist <= bestDistance && (best === undefined || dist < bestDistance)) {
      best = c;
      bestDistance = dist;
    }
  }
  return best;
}

function unknownCommand(command: string): string {
  const guess = didYouMean(command, COMMAND_NAMES);
  return `unknown command '${command}'.${guess ? ` Did you mean 'kiln ${guess}'?` : ''} Commands: ${COMMAND_NAMES.join(', ')} (kiln --help says what each does)`;
}

export interface ParsedArgs {
  readonly command: string;
  readonly positionals: readonly string[];
  /** Values of repeatable options, by name (`input`, `size`). */
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly flags: ReadonlySet<string>;
}

const ALIASES: Readonly<Record<string, string>> = { '--help': 'help', '-h': 'help', '--version': 'version', '-V': 'version' };

/**
 * Splits `argv` (without `node` and the script) into a command, its positional arguments and
 * options (`--name value` or `--name=value`); throws a UsageError naming what does not fit and,
 * for a misspelt command or option, the one probably meant.
 *
 * @example
 * ```ts
 * parseArgs(['run', 'm.kiln', '--input', 'x=[1,2]']).values.get('input'); // ['x=[1,2]']
 * ```
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const [command = 'help', ...rest] = argv;
  const normalized = ALIASES[command] ?? command;
  const spec = COMMANDS[normalized];
  if (!spec) throw new UsageError(unknownCommand(command));
  const positionals: string[] = [];
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--help' || arg === '-h') {
      flags.add('help');
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`${normalized}: unknown option '${arg}'; options are spelt --name (kiln ${normalized} --help lists them)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const option = spec.options[name];
    if (!option) {
      const names = Object.keys(spec.options);
      const guess = didYouMean(name, names);
      const known = names.map((o) => `--${o}`).join(', ') || 'none';
      throw new UsageError(`${normalized}: unknown option '--${name}'.${guess ? ` Did you mean --${guess}?` : ''} Its options: ${known} (kiln ${normalized} --help)`);
    }
    if (option.kind === 'flag') {
      if (eq >= 0) throw new UsageError(`${normalized}: --${name} takes no value`);
      flags.add(name);
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : rest[++i];
    if (value === undefined) throw new UsageError(`${normalized}: --${name} needs a value (${option.arg ?? '<value>'})`);
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  const { min, max = min } = spec;
  if (!flags.has('help') && (positionals.length < min || positionals.length > max)) {
    const want = min === max ? `${min} argument${min === 1 ? '' : 's'}` : `${min} to ${max} arguments`;
    const usage = `kiln ${normalized}${spec.args ? ` ${spec.args}` : ''}`;
    throw new UsageError(`${normalized}: expects ${want} (${usage}), got ${positionals.length}${positionals.length ? ` (${positionals.join(' ')})` : ''}`);
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

/**
 * The one value of an option given at most once, or `fallback`.
 *
 * @example
 * ```ts
 * singleValue(parseArgs(['demo', '--out', 'o']), 'out', 'out'); // 'o'
 * ```
 */
export function singleValue(args: ParsedArgs, name: string, fallback: string): string;
export function singleValue(args: ParsedArgs, name: string): string | undefined;
export function singleValue(args: ParsedArgs, name: string, fallback?: string): string | undefined {
  const all = args.values.get(name) ?? [];
  if (all.length > 1) throw new UsageError(`${args.command}: --${name} is given ${all.length} times; give it once`);
  return all[0] ?? fallback;
}

/**
 * A positive integer option value, or a UsageError naming the option.
 *
 * @example
 * ```ts
 * positiveInteger('demo', 'eager-epochs', '3'); // 3
 * ```
 */
export function positiveInteger(command: string, name: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${command}: --${name} ${text}: expected a positive integer`);
  return Number(text);
}

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import type { CliIO } from './cli.js';

/** The harness's entry, relative to a checkout's root. */
export const BENCH_ENTRY = 'benchmarks/src/run.ts';

/**
 * The Kiln checkout holding `from` (a directory with `pnpm-workspace.yaml` and the benchmark
 * harness), searching upwards, or undefined.
 *
 * @example
 * ```ts
 * findCheckout(process.cwd()); // '/home/me/kiln' inside a checkout
 * ```
 */
export function findCheckout(from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml')) && existsSync(join(dir, BENCH_ENTRY))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The arguments `kiln bench` hands to the harness: the options it was given.
 *
 * @example
 * ```ts
 * benchArgs(parseArgs(['bench', '--quick', '--filter', 'mlp'])); // ['--quick', '--filter', 'mlp']
 * ```
 */
export function benchArgs(args: ParsedArgs): string[] {
  const out: string[] = [];
  for (const flag of ['quick', 'no-peers']) if (args.flags.has(flag)) out.push(`--${flag}`);
  for (const name of ['filter', 'warmup', 'reps', 'out']) for (const value of args.values.get(name) ?? []) out.push(`--${name}`, value);
  return out;
}

/**
 * `kiln bench`: runs the checkout's benchmark harness through its own tsx, streams inherited,
 * and returns the harness's exit status. Outside a checkout it says where to run it.
 */
export function bench(args: ParsedArgs, io: CliIO): number {
  const cwd = io.cwd?.() ?? process.cwd();
  const root = findCheckout(cwd) ?? findCheckout(fileURLToPath(new URL('.', import.meta.url)));
  if (root === undefined) {
    throw new UsageError(`bench: no Kiln checkout holds ${cwd}; the benchmarks are not part of the installed package — clone the repository, run \`pnpm install\`, and run \`kiln bench\` (or \`pnpm bench\`) inside it`);
  }
  const tsx = join(root, 'node_modules/.bin/tsx');
  if (!existsSync(tsx)) throw new UsageError(`bench: ${root} has no node_modules/.bin/tsx; run \`pnpm install\` there first`);
  if (!io.spawn) throw new UsageError('bench: this CLI host cannot start processes');
  return io.spawn(tsx, ['--conditions=kiln-source', BENCH_ENTRY, ...benchArgs(args)], root);
}

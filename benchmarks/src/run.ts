/**
 * Runs the benchmarks and writes benchmarks/results/latest.{json,md}.
 *
 *   pnpm bench [--filter <substring>] [--warmup <n>] [--reps <n>] [--out <dir>]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runWorkloads } from './harness.js';
import { formatMachine, formatTable, writeReport } from './report.js';
import { machineInfo } from './machine.js';
import { allWorkloads } from './workloads/index.js';

function positiveInt(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got '${text}'`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      filter: { type: 'string' },
      warmup: { type: 'string' },
      reps: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const warmup = positiveInt('warmup', values.warmup, 3, 0);
  const repetitions = positiveInt('reps', values.reps, 10, 1);
  const outDir = values.out ?? fileURLToPath(new URL('../results', import.meta.url));
  const workloads = allWorkloads().filter((w) => values.filter === undefined || w.name.includes(values.filter));
  if (workloads.length === 0) throw new Error(`no workload matches --filter '${values.filter}'`);

  const machine = machineInfo();
  console.log(formatMachine(machine));
  console.log(`warm-up ${warmup}, repetitions ${repetitions}\n`);
  const records = await runWorkloads(workloads, { warmup, repetitions });
  const paths = writeReport(outDir, { date: new Date().toISOString(), machine, records });
  console.log(`\n${formatTable(records)}\n\nwrote ${paths.json}\nwrote ${paths.markdown}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

/**
 * Runs the benchmarks, Kiln and its peers in one process, and writes results/latest.{json,md}.
 *
 *   pnpm bench [--quick] [--no-peers] [--sequential] [--filter <substring>] [--warmup <n>] [--reps <n>] [--out <dir>]
 *
 * A workload's implementations are timed interleaved, round-robin, so load that comes and goes
 * on a shared machine falls on all of them alike (`--sequential`: one after another instead).
 *
 * Each implementation's timed repetitions stop early once they have taken 20 s
 * and there are 3 samples, so a peer that takes seconds a run cannot stretch the run for minutes.
 *
 * `--quick`: only the workloads peers implement (issue 7's list), with the time limits of QUICK,
 * and without tfjs-cpu where it takes seconds a run and no target names
 * it — under 3 minutes. An implementation that fails its correctness check or throws is recorded
 * as FAILED and the run goes on; the exit status is then 1.
 */
import { getNumThreads, usableThreads } from '@kiln/backend-cpu';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runWorkloads } from './harness.js';
import { formatMachine, formatTable, writeReport } from './report.js';
import { machineInfo } from './machine.js';
import { peerThreads, peersFor, withPeers } from './peers/index.js';
import { allWorkloads } from './workloads/index.js';

function positiveInt(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got '${text}'`);
  return n;
}

/**
 * --quick: the workloads' own counts, but warm-up stops after 0.5 s and timing after 1 s (at least
 * 3 samples), and never more than 10 samples: fast implementations (a tiny add, 1 ms a run) still
 * warm up and get their samples, slow ones (a second a run) get 1 warm-up and 3.
 */
const QUICK = { warmupBudgetMs: 500, budgetMs: 1_000, maxRepetitions: 10 } as const;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      filter: { type: 'string' },
      warmup: { type: 'string' },
      reps: { type: 'string' },
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'no-peers': { type: 'boolean', default: false },
      sequential: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick === true;
  const warmup = positiveInt('warmup', values.warmup, 3, 0);
  const repetitions = positiveInt('reps', values.reps, 10, 1);
  const outDir = values.out ?? fileURLToPath(new URL('../results', import.meta.url));
  let workloads = allWorkloads().filter((w) => values.filter === undefined || w.name.includes(values.filter));
  if (quick) workloads = workloads.filter((w) => peersFor(w).length > 0);
  if (workloads.length === 0) throw new Error(`no workload matches --filter '${values.filter}'${quick ? ' among the peer workloads (--quick)' : ''}`);
  if (values['no-peers'] !== true) workloads = withPeers(workloads);

  const threads = { kiln: `${getNumThreads()} (usable now: ${usableThreads()}; KILN_THREADS or setNumThreads to change)`, ...(values['no-peers'] === true ? {} : await peerThreads()) };
  const machine = machineInfo(threads);
  console.log(formatMachine(machine));
  console.log(`warm-up ${warmup}, repetitions ${repetitions} (workloads may set their own)${quick ? '; --quick: warm-up ≤ 0.5 s, timing ≤ 1 s (≥ 3 samples, ≤ 10) per implementation' : '; timing ≤ 20 s (≥ 3 samples) per implementation'}\n`);
  const records = await runWorkloads(workloads, { warmup, repetitions, keepGoing: true, quick, interleave: values.sequential !== true, ...(quick ? QUICK : { budgetMs: 20_000 }) });
  const paths = writeReport(outDir, { date: new Date().toISOString(), machine, records, loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) });
  console.log(`\n${formatTable(records)}\n\nwrote ${paths.json}\nwrote ${paths.markdown}`);
  const failed = records.filter((r) => r.failed !== undefined);
  if (failed.length > 0) {
    console.error(`\n${failed.length} implementation(s) FAILED (correctness check or error):\n${failed.map((r) => `  ${r.workload} / ${r.implementation}: ${r.failed}`).join('\n')}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

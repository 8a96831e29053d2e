/**
 * Profiles one implementation of one `pnpm bench` workload with `profile()` from @kiln/eager:
 * sets it up, runs it twice to warm up, then prints where `steps` more runs spent their time,
 * per op and per fused kernel (calls, ms, bytes, GFLOP/s), and optionally writes the Chrome
 * trace. Kiln implementations only (peers' ops are not dispatched through Kiln), and not models
 * run with @kiln/runtime's loadModel (those have `model.profile`).
 *
 *   pnpm exec tsx --conditions=kiln-source benchmarks/src/profile-workload.ts <workload> [implementation] [steps] [--trace file.json] [--rows n]
 *
 * `workload` is a workload's name or a part of exactly one; `implementation` defaults to the
 * first whose name starts with `kiln-`. Run with no arguments to list the workloads.
 */
import type { Implementation, Workload } from './harness.js';
import { allWorkloads } from './workloads/index.js';
import { profile } from '@kiln/eager';
import { writeChromeTrace } from '@kiln/eager/node';

function pick<T extends { readonly name: string }>(items: readonly T[], wanted: string, what: string): T {
  const exact = items.find((i) => i.name === wanted);
  if (exact) return exact;
  const matches = items.filter((i) => i.name.includes(wanted));
  if (matches.length !== 1) throw new Error(`${matches.length ? 'several' : 'no'} ${what}s match '${wanted}': ${(matches.length ? matches : items).map((i) => i.name).join(', ')}`);
  return matches[0];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string): string | undefined => {
    const at = args.indexOf(name);
    return at < 0 ? undefined : args.splice(at, 2)[1];
  };
  const tracePath = option('--trace');
  const rows = Number(option('--rows') ?? 25);
  const [workloadName, implName, stepsText = '5'] = args;
  const workloads = allWorkloads();
  if (!workloadName) {
    console.log(workloads.map((w) => `${w.name}: ${w.implementations.map((i) => i.name).join(', ')}`).join('\n'));
    return;
  }
  const workload: Workload = pick(workloads, workloadName, 'workload');
  const kiln = workload.implementations.filter((i) => i.name.startsWith('kiln-'));
  const impl: Implementation = implName ? pick(kiln, implName, 'implementation') : kiln[0];
  if (!impl) throw new Error(`${workload.name} has no Kiln implementation`);
  const state = await impl.setup(workload.params);
  for (let i = 0; i < 2; i++) await impl.run(state);
  const steps = Number(stepsText);
  const report = await profile(async () => {
    for (let i = 0; i < steps; i++) await impl.run(state);
  });
  console.log(`${workload.name} / ${impl.name}: ${steps} runs after 2 warm-up runs, ${(report.totalMs / steps).toFixed(2)} ms per run`);
  console.log(report.table({ limit: rows }));
  if (tracePath) console.log(`wrote ${writeChromeTrace(tracePath, report)} events to ${tracePath}`);
  await impl.teardown?.(state);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

/**
 * Runs one compiled-vs-eager workload implementation for a number of steps, for profiling and
 * for CPU-time ratios on a busy machine (wall-clock medians are in `pnpm bench`):
 *
 *   pnpm exec tsx --conditions=kiln-source benchmarks/src/profile-compiled.ts train compiled 20
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --conditions=kiln-source --import tsx \
 *     benchmarks/src/profile-compiled.ts train eager 20
 *
 * Prints the wall and process CPU milliseconds per step after 2 warm-up steps.
 */
import type { Workload } from './harness.js';
import { compiledMlpInference, compiledMlpTrainingStep, compiledTransformerEncoder } from './workloads/kiln-compiled.js';

const WORKLOADS: Record<string, () => Workload> = {
  train: () => compiledMlpTrainingStep(),
  inference: () => compiledMlpInference(),
  encoder: () => compiledTransformerEncoder(),
};
const IMPLS: Record<string, string> = { eager: 'kiln-eager-cpu', compiled: 'kiln-compiled-cpu', 'first-call': 'kiln-compiled-cpu-first-call' };

async function main(): Promise<void> {
  const [which = 'train', variant = 'compiled', stepsText = '20'] = process.argv.slice(2);
  const make = WORKLOADS[which];
  const implName = IMPLS[variant];
  if (!make || !implName) throw new Error(`usage: profile-compiled.ts <${Object.keys(WORKLOADS).join('|')}> <${Object.keys(IMPLS).join('|')}> [steps]`);
  const workload = make();
  const impl = workload.implementations.find((i) => i.name === implName)!;
  const state = await impl.setup(workload.params);
  for (let i = 0; i < 2; i++) await impl.run(state);
  const steps = Number(stepsText);
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < steps; i++) await impl.run(state);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - wall0;
  console.log(`${workload.name} / ${implName}: ${(wall / steps).toFixed(1)} ms wall, ${((cpu.user + cpu.system) / 1000 / steps).toFixed(1)} ms CPU per step over ${steps} steps`);
  await impl.teardown?.(state);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

/**
 * Eager dispatch overhead, A/B in one process: two copies of `@kiln/eager` (e.g. a checkout
 * without a change and this one) each time 1,000 tiny adds per round, interleaved, alternating
 * which goes first; prints the median and minimum µs per op of each. A is named by path:
 *
 *   git archive HEAD~1 | tar -x -C /tmp/base   # plus node_modules links, as in the repo
 *   pnpm exec tsx --conditions=kiln-source benchmarks/src/dispatch-ab.ts /tmp/base/packages/eager/src/index.ts
 *
 * Used for the profiler's cost when off (docs/design/profiling.md).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type Eager = typeof import('@kiln/eager');

function run(m: Eager, n: number): number {
  const x = m.tensor([1, 2, 3, 4], 'float32');
  const y = m.tensor([1, 2, 3, 4], 'float32');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) m.add(x, y).dispose();
  const t = performance.now() - t0;
  x.dispose();
  y.dispose();
  return (t * 1000) / n;
}

async function main(): Promise<void> {
  const [pathA, rounds = '400'] = process.argv.slice(2);
  if (!pathA) throw new Error('usage: dispatch-ab.ts <path of the other copy\'s packages/eager/src/index.ts> [rounds]');
  const A = (await import(pathToFileURL(resolve(pathA)).href)) as Eager;
  const B = (await import('@kiln/eager')) as Eager;
  const n = 1000;
  for (let w = 0; w < 50; w++) {
    run(A, n);
    run(B, n);
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < Number(rounds); r++) {
    if (r % 2) {
      a.push(run(A, n));
      b.push(run(B, n));
    } else {
      b.push(run(B, n));
      a.push(run(A, n));
    }
  }
  const median = (v: number[]) => [...v].sort((p, q) => p - q)[v.length >> 1];
  console.log(`A (${pathA}): median ${median(a).toFixed(3)} µs/op, min ${Math.min(...a).toFixed(3)}`);
  console.log(`B (this checkout): median ${median(b).toFixed(3)} µs/op, min ${Math.min(...b).toFixed(3)}`);
}

void main();

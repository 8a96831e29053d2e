/**
 * Kiln eager workloads. Ops come from a namespace import, so an op the eager package does not
 * export yet fails at call time ("… is not a function") and the harness skips that workload,
 * instead of the whole run failing to load.
 */
import * as kiln from '@kiln/eager';
import type { Implementation, Workload } from '../harness.js';

type Tensor = ReturnType<typeof kiln.tensor>;

/** Cost of one eager op on tiny tensors: dispatch, output allocation and dispose, not arithmetic. */
export function eagerDispatchAdd(opsPerRun = 1_000): Workload {
  const impl: Implementation<{ a: Tensor; b: Tensor }> = {
    name: 'kiln-eager-cpu',
    setup: () => ({ a: kiln.tensor(new Float32Array([1, 2, 3, 4])), b: kiln.tensor(new Float32Array([5, 6, 7, 8])) }),
    run: ({ a, b }) => {
      for (let i = 0; i < opsPerRun; i++) kiln.add(a, b).dispose();
    },
    teardown: ({ a, b }) => {
      a.dispose();
      b.dispose();
    },
  };
  return {
    name: 'eager-dispatch-add',
    description: `${opsPerRun} eager adds of two float32[4] tensors, each result disposed (µs/op)`,
    params: { shape: '[4]', dtype: 'float32', opsPerRun },
    opsPerRun,
    warmup: 5,
    repetitions: 30,
    implementations: [impl],
  };
}

/** A square float32 matmul, n×n by n×n; the result is read back so the time covers the whole op. */
export function matmulSquare(n = 512): Workload {
  const impl: Implementation<{ a: Tensor; b: Tensor }> = {
    name: 'kiln-eager-cpu',
    setup: () => ({ a: kiln.randn([n, n]), b: kiln.randn([n, n]) }),
    run: ({ a, b }) => {
      const c = kiln.matmul(a, b);
      c.dataSync();
      c.dispose();
    },
    teardown: ({ a, b }) => {
      a.dispose();
      b.dispose();
    },
  };
  return {
    name: `matmul-${n}`,
    description: `float32 matmul ${n}x${n} @ ${n}x${n} (GFLOP/s)`,
    params: { m: n, k: n, n, dtype: 'float32' },
    flopsPerRun: 2 * n * n * n,
    implementations: [impl],
  };
}

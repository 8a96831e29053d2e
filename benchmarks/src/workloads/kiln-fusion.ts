/**
 * The elementwise chain `gelu_tanh(x·1.5 + 0.5) + x` on 1,048,576 float32 elements, eager vs
 * compiled, in the same run. Eagerly that is 14 kernels, each allocating and writing a 4 MiB
 * tensor; compiled, the fusion passes make it one `fusedElementwise` node, which the CPU backend
 * runs as one generated loop. Implementations:
 *
 * - `kiln-eager-cpu` — the function run eagerly;
 * - `kiln-compiled-cpu` — wrapped in `compile()`, traced in setup, so timed runs are cache hits;
 * - `kiln-compiled-cpu-first-call` — a fresh `compile()` and its first call, each run: tracing,
 *   the passes, generating and compiling the kernel (the kernel cache is keyed by the body's
 *   text, so after the first repetition this measures a cache hit there), and one run.
 *
 * Setup checks that the compiled result equals the eager one bit for bit (the generated kernel
 * rounds to float32 after every op, as the reference kernels store), so a wrong kernel cannot
 * be timed.
 */
import * as kiln from '@kiln/eager';
import * as tracer from '@kiln/tracer';
import type { Implementation, Workload } from '../harness.js';

type Tensor = ReturnType<typeof kiln.tensor>;

/** The chain itself: the same function is run eagerly and compiled. */
export function geluChain(x: Tensor): Tensor {
  return kiln.add(kiln.gelu(kiln.add(kiln.mul(x, 1.5), 0.5), 'tanh'), x);
}

/** Index of the first element where two float32 tensors differ bit for bit (NaN = NaN), or -1. */
export function firstDifference(a: Tensor, b: Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  if (x.length !== y.length) return 0;
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i;
  return -1;
}

interface State {
  readonly x: Tensor;
  readonly run: () => void;
}

/** Eager vs compiled `gelu_tanh(x*1.5+0.5)+x` over `n` float32 elements (the result is read back). */
export function elementwiseChain(n = 1_048_576): Workload {
  const variants = [['kiln-eager-cpu', 'eager'], ['kiln-compiled-cpu', 'compiled'], ['kiln-compiled-cpu-first-call', 'first-call']] as const;
  const implementations: Implementation<State>[] = variants.map(([name, variant]) => ({
    name,
    setup: () => {
      kiln.manualSeed(0);
      const x = kiln.mul(kiln.randn([n]), 2);
      const call = (f: (x: Tensor) => Tensor) => () => kiln.tidy(() => void f(x).dataSync());
      if (variant === 'eager') return { x, run: call(geluChain) };
      const compiled = tracer.compile(geluChain);
      kiln.tidy(() => {
        const at = firstDifference(compiled(x), geluChain(x));
        if (at >= 0) throw new Error(`elementwise chain: the compiled result differs from eager at element ${at}`);
      });
      if (variant === 'compiled') return { x, run: call(compiled) };
      return { x, run: () => call(tracer.compile(geluChain))() };
    },
    run: ({ run }) => run(),
    teardown: ({ x }) => x.dispose(),
  }));
  return {
    name: `elementwise-chain-${n}`,
    description: `gelu_tanh(x*1.5+0.5)+x on ${n} float32 elements: eager vs compiled (one fused kernel) (median ms)`,
    params: { n, dtype: 'float32', chain: 'gelu_tanh(x*1.5+0.5)+x' },
    warmup: 3,
    repetitions: 20,
    implementations,
  };
}

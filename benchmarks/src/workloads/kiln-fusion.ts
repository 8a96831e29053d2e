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
 * Setup checks that the compiled result is within CHAIN_MAX_ULPS float32 ulps of the eager one
 * (exact arithmetic is bit-identical; tanh is a float32 polynomial in the WebAssembly kernel),
 * so a wrong kernel cannot be timed.
 */
import * as kiln from '@kiln/eager';
import * as tracer from '@kiln/tracer';
import type { Implementation, Workload } from '../harness.js';

type Tensor = ReturnType<typeof kiln.tensor>;

/** The chain itself: the same function is run eagerly and compiled. */
export function geluChain(x: Tensor): Tensor {
  return kiln.add(kiln.gelu(kiln.add(kiln.mul(x, 1.5), 0.5), 'tanh'), x);
}

/**
 * Index of the first element where two float32 tensors differ by more than `maxUlps` float32
 * ulps of max(|b|, 1) (0: bit for bit; NaN = NaN, infinities and zero signs exact), or -1.
 * Below 1 the tolerance is absolute: gelu's 1 + tanh(…) cancels, so an ulp of tanh near -1
 * is an absolute, not a relative, error of the result.
 */
export function firstDifference(a: Tensor, b: Tensor, maxUlps = 0): number {
  const x = a.dataSync();
  const y = b.dataSync();
  if (x.length !== y.length) return 0;
  for (let i = 0; i < x.length; i++) {
    if (Object.is(x[i], y[i])) continue;
    if (maxUlps === 0 || !Number.isFinite(x[i]) || !Number.isFinite(y[i]) || x[i] === 0 || y[i] === 0) return i;
    const ulp = 2 ** (Math.max(Math.floor(Math.log2(Math.abs(y[i]))), 0) - 23);
    if (Math.abs(x[i] - y[i]) > maxUlps * ulp) return i;
  }
  return -1;
}

/**
 * How far the compiled chain may be from eager, in float32 ulps: compiled, the chain runs in
 * WebAssembly SIMD, whose tanh is a float32 polynomial within ~1.2 ulp of the exact value
 * where eager rounds float64 Math.tanh; 0.5·u·(1 + tanh) turns that into up to 4 ulps of 1
 * for |u| near 8 (measured on the benchmark's data; docs/design/fusion.md, "Accuracy").
 */
export const CHAIN_MAX_ULPS = 8;

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
        const at = firstDifference(compiled(x), geluChain(x), CHAIN_MAX_ULPS);
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

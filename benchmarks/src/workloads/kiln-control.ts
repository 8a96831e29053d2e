/**
 * Structured control flow: an RNN training step whose recurrence is a `scan` (h ← tanh(x_t Wx +
 * h Wh + b) over the sequence), loss = mean(h_T²), backward, SGD update.
 *
 * - `kiln-eager-scan-cpu` — eagerly: scan runs its step as JavaScript, autograd records each;
 * - `kiln-compiled-scan-cpu` — `compile()`d: one `scan` node forward, a recomputing scan and a
 *   reverse scan for the backward (cache hits in the timed runs);
 * - `kiln-compiled-unrolled-cpu` — the same recurrence as a JavaScript `for` loop, compiled:
 *   the graph holds every step (what the scan node saves in graph size, it may cost in speed);
 * - `kiln-compiled-scan-cpu-first-call` — a fresh `compile()` and its first call, each run.
 *
 * Setup checks that every compiled variant gives eager's losses and weights over 3 steps.
 */
import * as kiln from '@kiln/eager';
import * as tracer from '@kiln/tracer';
import type { Implementation, Workload } from '../harness.js';
import { maxRelativeDifference } from './kiln-compiled.js';

type Tensor = ReturnType<typeof kiln.tensor>;
type Variant = 'eager' | 'compiled' | 'unrolled' | 'first-call';
const NAMES: Record<Variant, string> = {
  eager: 'kiln-eager-scan-cpu', compiled: 'kiln-compiled-scan-cpu', unrolled: 'kiln-compiled-unrolled-cpu', 'first-call': 'kiln-compiled-scan-cpu-first-call',
};

interface Sizes {
  readonly seq: number;
  readonly batch: number;
  readonly input: number;
  readonly hidden: number;
}

function make({ seq, batch, input, hidden }: Sizes) {
  kiln.manualSeed(0);
  const params = [kiln.randn([input, hidden]).mul(0.1), kiln.randn([hidden, hidden]).mul(0.1), kiln.zeros([hidden])].map((t) => t.requireGrad());
  const xs = kiln.randn([seq, batch, input]);
  const h0 = kiln.zeros([batch, hidden]);
  const update = () =>
    kiln.noGrad(() => {
      for (const p of params) {
        p.assign(p.sub(p.grad!.mul(0.05)));
        p.zeroGrad();
      }
    });
  const cell = (h: Tensor, x: Tensor) => kiln.tanh(x.matmul(params[0]).add(h.matmul(params[1])).add(params[2]));
  const scanStep = (x: Tensor, h: Tensor) => {
    const [hT] = kiln.scan((c: Tensor, xt: Tensor) => [cell(c, xt), null], h, x);
    const loss = hT.mul(hT).mean();
    loss.backward();
    update();
    return loss;
  };
  const unrolledStep = (x: Tensor, h: Tensor) => {
    let c = h;
    for (let t = 0; t < seq; t++) c = cell(c, x.slice([t]));
    const loss = c.mul(c).mean();
    loss.backward();
    update();
    return loss;
  };
  return { params, xs, h0, scanStep, unrolledStep, dispose: () => [...params, xs, h0].forEach((t) => (t.zeroGrad(), t.dispose())) };
}

/** 3 steps of `step` on fresh weights give eager's losses and weights. */
function check(sizes: Sizes, pick: (s: ReturnType<typeof make>) => (x: Tensor, h: Tensor) => Tensor, what: string): void {
  const [a, b] = [make(sizes), make(sizes)];
  const compiled = tracer.compile(pick(a));
  for (let i = 0; i < 3; i++) {
    const d = kiln.tidy(() => maxRelativeDifference(compiled(a.xs, a.h0), b.scanStep(b.xs, b.h0)));
    if (!(d <= 1e-4)) throw new Error(`${what}: step ${i} loss differs from eager by ${d}`);
  }
  a.params.forEach((p, i) => {
    const d = maxRelativeDifference(p, b.params[i]);
    if (!(d <= 1e-4)) throw new Error(`${what}: parameter ${i} differs from eager by ${d} after 3 steps`);
  });
  a.dispose();
  b.dispose();
}

/** An RNN training step through `scan` (sequence 32, batch 16, 64 → 128 by default), eager vs compiled. */
export function scanRnnTrainingStep(sizes: Sizes = { seq: 32, batch: 16, input: 64, hidden: 128 }): Workload {
  const variants: Variant[] = ['eager', 'compiled', 'unrolled', 'first-call'];
  const implementations: Implementation<{ state: ReturnType<typeof make>; run: () => void }>[] = variants.map((variant) => ({
    name: NAMES[variant],
    setup: () => {
      if (variant === 'compiled') check(sizes, (s) => s.scanStep, 'compiled scan');
      if (variant === 'unrolled') check(sizes, (s) => s.unrolledStep, 'compiled unrolled loop');
      const state = make(sizes);
      const call = (f: (x: Tensor, h: Tensor) => Tensor) => () => kiln.tidy(() => void f(state.xs, state.h0).dataSync());
      if (variant === 'eager') return { state, run: call(state.scanStep) };
      if (variant === 'first-call') return { state, run: () => call(tracer.compile(state.scanStep))() };
      const compiled = tracer.compile(variant === 'compiled' ? state.scanStep : state.unrolledStep);
      call(compiled)(); // trace in setup: the timed runs are cache hits
      return { state, run: call(compiled) };
    },
    run: ({ run }) => run(),
    teardown: ({ state }) => state.dispose(),
  }));
  const { seq, batch, input, hidden } = sizes;
  const forward = 2 * seq * batch * hidden * (input + hidden);
  return {
    name: `scan-rnn-train-step-${seq}x${batch}x${input}-${hidden}`,
    description: `RNN (scan over ${seq} steps, batch ${batch}, ${input}→${hidden}) SGD training step: eager vs compiled scan vs compiled unrolled loop (median ms)`,
    params: { seq, batch, input, hidden, dtype: 'float32' },
    flopsPerRun: 3 * forward,
    warmup: 2,
    repetitions: 10,
    implementations,
  };
}

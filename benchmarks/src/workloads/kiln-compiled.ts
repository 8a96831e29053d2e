/**
 * Compiled vs eager, in the same run: an MLP training step, MLP inference and a Transformer
 * encoder block forward. Each workload has three implementations on the CPU backend:
 *
 * - `kiln-eager-cpu` — the code run eagerly;
 * - `kiln-compiled-cpu` — the same code wrapped in `compile()`, traced in setup, so the timed
 *   runs are cache hits;
 * - `kiln-compiled-cpu-first-call` — a fresh `compile()` of the same code and its first call,
 *   each run: what a user waits for before the first result (tracing, graph passes, one run).
 *   Compile time ≈ this minus `kiln-compiled-cpu`.
 *
 * Setup checks that the compiled result matches the eager one, so a wrong graph cannot be timed.
 * Ops and layers come from namespace imports, so something missing fails at call time and the
 * harness skips that implementation instead of the run failing to load.
 */
import * as kiln from '@kiln/eager';
import * as nn from '@kiln/nn';
import * as tracer from '@kiln/tracer';
import type { Implementation, Workload } from '../harness.js';

type Tensor = ReturnType<typeof kiln.tensor>;
type Variant = 'eager' | 'compiled' | 'first-call';
const VARIANTS: readonly Variant[] = ['eager', 'compiled', 'first-call'];
const IMPL_NAMES: Record<Variant, string> = { eager: 'kiln-eager-cpu', compiled: 'kiln-compiled-cpu', 'first-call': 'kiln-compiled-cpu-first-call' };

/** The largest |a - b| relative to max(1, |b|) over two tensors' elements. */
export function maxRelativeDifference(a: Tensor, b: Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  if (x.length !== y.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.max(1, Math.abs(y[i])));
  return worst;
}

function checkClose(what: string, got: Tensor, want: Tensor, tolerance = 1e-4): void {
  const d = maxRelativeDifference(got, want);
  if (!(d <= tolerance)) throw new Error(`${what}: the compiled result differs from eager by ${d} (relative), more than ${tolerance}`);
}

function mlp(sizes: readonly number[]): nn.Sequential {
  const layers: nn.UnaryModule[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    if (i > 0) layers.push(new nn.ReLU());
    layers.push(new nn.Linear(sizes[i], sizes[i + 1]));
  }
  return new nn.Sequential(...layers);
}

/** The three implementations of one workload, given how to build its state and its step function. */
function implementations<S extends { dispose(): void }>(
  make: () => S,
  stepOf: (state: S) => (...args: Tensor[]) => Tensor,
  argsOf: (state: S) => Tensor[],
  check: (state: S, compiled: (...args: Tensor[]) => Tensor) => void,
): Implementation<{ state: S; run: () => void }>[] {
  return VARIANTS.map((variant) => ({
    name: IMPL_NAMES[variant],
    setup: () => {
      const state = make();
      const step = stepOf(state);
      const args = argsOf(state);
      const call = (f: (...a: Tensor[]) => Tensor) => () => kiln.tidy(() => void f(...args).dataSync());
      if (variant === 'eager') return { state, run: call(step) };
      const compiled = tracer.compile(step);
      check(state, compiled);
      if (variant === 'compiled') return { state, run: call(compiled) };
      return { state, run: () => call(tracer.compile(step))() };
    },
    run: ({ run }) => run(),
    teardown: ({ state }) => state.dispose(),
  }));
}

const mlpFlops = (sizes: readonly number[], batch: number) => sizes.slice(1).map((out, i) => 2 * batch * sizes[i] * out);

/**
 * One SGD training step of an MLP (784→512→512→10, batch 128 by default): zeroGrad, forward,
 * cross-entropy, backward, step, the loss read back. Setup checks that 3 compiled steps give
 * eager's losses on twin models. GFLOP/s counts the matmuls only.
 */
export function compiledMlpTrainingStep(sizes: readonly number[] = [784, 512, 512, 10], batch = 128): Workload {
  const make = () => {
    kiln.manualSeed(0);
    const model = mlp(sizes);
    const optimizer = new nn.SGD(model.parameters(), { lr: 0.01 });
    const x = kiln.randn([batch, sizes[0]]);
    const y = kiln.randint(0, sizes[sizes.length - 1], [batch]);
    return {
      model, optimizer, x, y,
      dispose: () => {
        optimizer.zeroGrad();
        optimizer.dispose();
        model.dispose();
        x.dispose();
        y.dispose();
      },
    };
  };
  type State = ReturnType<typeof make>;
  const stepOf = ({ model, optimizer }: State) => (x: Tensor, y: Tensor) => {
    optimizer.zeroGrad();
    const loss = nn.crossEntropy(model.forward(x), y);
    loss.backward();
    optimizer.step();
    return loss;
  };
  const check = (state: State, compiled: (...args: Tensor[]) => Tensor) => {
    const twin = make(); // the same seed: the same weights and batch
    const eagerStep = stepOf(twin);
    for (let i = 0; i < 3; i++) kiln.tidy(() => checkClose(`training step ${i}`, compiled(state.x, state.y), eagerStep(twin.x, twin.y)));
    twin.dispose();
  };
  const layers = mlpFlops(sizes, batch);
  const forward = layers.reduce((a, b) => a + b, 0);
  return {
    name: `compiled-mlp-train-step-${sizes.join('-')}`,
    description: `MLP ${sizes.join('→')} SGD training step, batch ${batch}: eager vs compiled (median ms; first-call = fresh compile + trace + one step)`,
    params: { sizes: sizes.join('-'), batch, dtype: 'float32', optimizer: 'SGD' },
    flopsPerRun: 3 * forward - layers[0],
    warmup: 2,
    repetitions: 10,
    implementations: implementations(make, stepOf, (s) => [s.x, s.y], check),
  };
}

/** MLP inference (784→512→512→10, batch 128): forward under noGrad, the logits read back. */
export function compiledMlpInference(sizes: readonly number[] = [784, 512, 512, 10], batch = 128): Workload {
  const make = () => {
    kiln.manualSeed(0);
    const model = mlp(sizes).eval();
    const x = kiln.randn([batch, sizes[0]]);
    return { model, x, dispose: () => (model.dispose(), x.dispose()) };
  };
  type State = ReturnType<typeof make>;
  const stepOf = ({ model }: State) => (x: Tensor) => kiln.noGrad(() => model.forward(x));
  const check = (state: State, compiled: (...args: Tensor[]) => Tensor) =>
    kiln.tidy(() => checkClose('inference', compiled(state.x), stepOf(state)(state.x)));
  return {
    name: `compiled-mlp-inference-${sizes.join('-')}`,
    description: `MLP ${sizes.join('→')} inference, batch ${batch}: eager vs compiled (median ms)`,
    params: { sizes: sizes.join('-'), batch, dtype: 'float32' },
    flopsPerRun: mlpFlops(sizes, batch).reduce((a, b) => a + b, 0),
    warmup: 3,
    repetitions: 20,
    implementations: implementations(make, stepOf, (s) => [s.x], check),
  };
}

/**
 * One Transformer encoder block forward (nn.TransformerEncoderLayer, post-LN, ReLU, eval mode):
 * sequence 128, width 256, 4 heads, feed-forward 4 × width, batch 1, batch-first.
 */
export function compiledTransformerEncoder(seq = 128, width = 256, heads = 4, batch = 1): Workload {
  const ff = 4 * width;
  const make = () => {
    kiln.manualSeed(0);
    const layer = new nn.TransformerEncoderLayer(width, heads, { dimFeedforward: ff, batchFirst: true }).eval();
    const x = kiln.randn([batch, seq, width]);
    return { layer, x, dispose: () => (layer.dispose(), x.dispose()) };
  };
  type State = ReturnType<typeof make>;
  const stepOf = ({ layer }: State) => (x: Tensor) => kiln.noGrad(() => layer.forward(x));
  const check = (state: State, compiled: (...args: Tensor[]) => Tensor) =>
    kiln.tidy(() => checkClose('encoder forward', compiled(state.x), stepOf(state)(state.x)));
  const tokens = batch * seq;
  const flops = 2 * tokens * width * width * 4 + 2 * 2 * batch * seq * seq * width + 2 * 2 * tokens * width * ff;
  return {
    name: `compiled-transformer-encoder-s${seq}-d${width}-h${heads}`,
    description: `TransformerEncoderLayer forward, seq ${seq}, width ${width}, ${heads} heads, ff ${ff}, batch ${batch}: eager vs compiled (median ms)`,
    params: { seq, width, heads, dimFeedforward: ff, batch, dtype: 'float32' },
    flopsPerRun: flops,
    warmup: 2,
    repetitions: 10,
    implementations: implementations(make, stepOf, (s) => [s.x], check),
  };
}

/** The compiled-vs-eager workloads, in run order. */
export function compiledVsEagerWorkloads(): Workload[] {
  return [compiledMlpTrainingStep(), compiledMlpInference(), compiledTransformerEncoder()];
}

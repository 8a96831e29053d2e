/**
 * What a new batch size costs a compiled training step: an MLP (784→512→512→10, SGD) step
 * called, on every run, with a batch size it has not seen before.
 *
 * - `kiln-compiled-static-cpu` — `compile(step)`: each new size traces the step again (and the
 *   optimizer passes run on the new graph);
 * - `kiln-compiled-dynamic-cpu` — `compile(step, { dynamic: { 0: [0], 1: [0] } })`: the template
 *   traced in setup is specialized for each new size without running the step's JavaScript;
 * - `kiln-compiled-same-size-cpu` — the compiled step at one size (cache hits): the step itself.
 *
 * Each run makes its batch (randn, randint) in all three, so the differences are the cost of
 * the new size. Setup checks the dynamic step against eager at two sizes.
 */
import * as kiln from '@kiln/eager';
import * as nn from '@kiln/nn';
import * as tracer from '@kiln/tracer';
import type { Implementation, Workload } from '../harness.js';
import { maxRelativeDifference } from './kiln-compiled.js';

type Tensor = ReturnType<typeof kiln.tensor>;
type Variant = 'static' | 'dynamic' | 'same-size';

function make(sizes: readonly number[]) {
  kiln.manualSeed(0);
  const layers: nn.UnaryModule[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    if (i > 0) layers.push(new nn.ReLU());
    layers.push(new nn.Linear(sizes[i], sizes[i + 1]));
  }
  const model = new nn.Sequential(...layers);
  const optimizer = new nn.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const step = (x: Tensor, y: Tensor) => {
    optimizer.zeroGrad();
    const loss = nn.crossEntropy(model.forward(x), y);
    loss.backward();
    optimizer.step();
    return loss;
  };
  return { model, optimizer, step, dispose: () => (optimizer.zeroGrad(), optimizer.dispose(), model.dispose()) };
}

export function compiledNewBatchSize(sizes: readonly number[] = [784, 512, 512, 10], first = 128): Workload {
  const variant = (v: Variant): Implementation<{ run: () => void; dispose: () => void }> => ({
    name: `kiln-compiled-${v}-cpu`,
    setup: () => {
      const state = make(sizes);
      const compiled = tracer.compile(state.step, v === 'dynamic' ? { dynamic: { 0: [0], 1: [0] }, maxCacheEntries: 4 } : { maxCacheEntries: 4 });
      const batch = (n: number) => [kiln.randn([n, sizes[0]]), kiln.randint(0, sizes[sizes.length - 1], [n])] as const;
      if (v !== 'dynamic') kiln.tidy(() => void compiled(...batch(first)).dataSync());
      else {
        const twin = make(sizes);
        for (const n of [first, 37]) {
          kiln.tidy(() => {
            const [x, y] = batch(n);
            const d = maxRelativeDifference(compiled(x, y), twin.step(x, y));
            if (!(d <= 1e-4)) throw new Error(`dynamic batch ${n}: the compiled loss differs from eager by ${d}`);
          });
        }
        twin.dispose();
      }
      let next = 0;
      // Sizes not seen before on every run (the cache keeps 4, so none comes back).
      const size = () => (v === 'same-size' ? first : 200 + (next++ % 300));
      return { run: () => kiln.tidy(() => void compiled(...batch(size())).dataSync()), dispose: state.dispose };
    },
    run: ({ run }) => run(),
    teardown: ({ dispose }) => dispose(),
  });
  return {
    name: `compiled-new-batch-size-${sizes.join('-')}`,
    description: `MLP ${sizes.join('→')} SGD training step called with a new batch size each run: retraced (static) vs specialized from a template (dynamic) vs one size (median ms)`,
    params: { sizes: sizes.join('-'), firstBatch: first, dtype: 'float32', optimizer: 'SGD momentum' },
    warmup: 2,
    repetitions: 10,
    implementations: [variant('static'), variant('dynamic'), variant('same-size')],
  };
}

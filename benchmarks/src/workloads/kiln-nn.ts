/**
 * Kiln training workloads: a whole eager training step (forward, backward, optimizer update)
 * through @kiln/nn. Ops and layers come from namespace imports, so something not there yet
 * fails at call time and the harness skips the workload instead of the run failing to load.
 */
import * as kiln from '@kiln/eager';
import * as nn from '@kiln/nn';
import type { Implementation, Workload } from '../harness.js';

type Tensor = ReturnType<typeof kiln.tensor>;

interface MlpState {
  model: nn.Sequential;
  optimizer: nn.SGD;
  x: Tensor;
  y: Tensor;
}

/**
 * One SGD training step of an MLP with ReLU activations (sizes e.g. 784→512→512→10) on a fixed
 * random batch: tidy around zeroGrad, forward, cross-entropy, backward and step, the loss read
 * back. Reports the median ms per step; GFLOP/s counts the matmuls only (forward, weight
 * gradients, and input gradients of every layer but the first).
 */
export function mlpTrainingStep(sizes: readonly number[] = [784, 512, 512, 10], batch = 128): Workload {
  const impl: Implementation<MlpState> = {
    name: 'kiln-eager-cpu',
    setup: () => {
      kiln.manualSeed(0);
      const layers: nn.UnaryModule[] = [];
      for (let i = 0; i + 1 < sizes.length; i++) {
        if (i > 0) layers.push(new nn.ReLU());
        layers.push(new nn.Linear(sizes[i], sizes[i + 1]));
      }
      const model = new nn.Sequential(...layers);
      const optimizer = new nn.SGD(model.parameters(), { lr: 0.01 });
      const x = kiln.randn([batch, sizes[0]]);
      const y = kiln.randint(0, sizes[sizes.length - 1], [batch]);
      return { model, optimizer, x, y };
    },
    run: ({ model, optimizer, x, y }) => {
      kiln.tidy(() => {
        optimizer.zeroGrad();
        const loss = nn.crossEntropy(model.forward(x), y);
        loss.backward();
        optimizer.step();
        loss.item();
      });
    },
    teardown: ({ model, optimizer, x, y }) => {
      optimizer.zeroGrad();
      optimizer.dispose();
      model.dispose();
      x.dispose();
      y.dispose();
    },
  };
  const layerFlops = sizes.slice(1).map((out, i) => 2 * batch * sizes[i] * out);
  const forward = layerFlops.reduce((a, b) => a + b, 0);
  return {
    name: `mlp-train-step-${sizes.join('-')}`,
    description: `MLP ${sizes.join('→')} training step, batch ${batch} (forward, backward, SGD update), eager (median ms)`,
    params: { sizes: sizes.join('-'), batch, dtype: 'float32', optimizer: 'SGD' },
    flopsPerRun: 3 * forward - layerFlops[0],
    warmup: 2,
    repetitions: 10,
    implementations: [impl],
  };
}

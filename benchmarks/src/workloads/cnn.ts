/**
 * The small CNN of issue 7: input [32, 1, 28, 28] → conv 3×3 (32) + ReLU → conv 3×3 (64) +
 * ReLU → max-pool 2 → flatten → linear 10, built with @kiln/nn.
 *
 * - `cnn-inference`: the forward pass under noGrad, eager and compiled (traced in setup, so the
 *   timed runs are cache hits; setup checks the compiled logits against eager's).
 * - `cnn-train-step`: one SGD step (zeroGrad, forward, cross-entropy, backward, step, the loss
 *   read back), eager and compiled (setup checks 2 compiled steps against eager on a twin model).
 *
 * GFLOP/s counts the convolutions and the linear layer (2 flops per multiply-add); the training
 * step counts 3× the forward minus the first conv's input gradient, which is never computed.
 * Peers join as further implementations with the same workload names.
 */
import * as kiln from '@kiln/eager';
import * as nn from '@kiln/nn';
import * as tracer from '@kiln/tracer';
import type { Implementation, Workload } from '../harness.js';

type Tensor = ReturnType<typeof kiln.tensor>;

const INPUT = [32, 1, 28, 28] as const;
const CLASSES = 10;

/** The model of the issue, with PyTorch's default initialisation from a fixed seed. */
export function smallCnn(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 32, 3), // [N, 32, 26, 26]
    new nn.ReLU(),
    new nn.Conv2d(32, 64, 3), // [N, 64, 24, 24]
    new nn.ReLU(),
    new nn.MaxPool2d(2), // [N, 64, 12, 12]
    new nn.Flatten(),
    new nn.Linear(64 * 12 * 12, CLASSES),
  );
}

/** Multiply-adds ×2 of one forward pass at batch n. */
function forwardFlops(n: number): { conv1: number; rest: number } {
  const conv1 = 2 * n * 32 * 26 * 26 * 1 * 9;
  const conv2 = 2 * n * 64 * 24 * 24 * 32 * 9;
  const linear = 2 * n * 64 * 12 * 12 * CLASSES;
  return { conv1, rest: conv2 + linear };
}

function maxRelativeDifference(a: Tensor, b: Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  if (x.length !== y.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.max(1, Math.abs(y[i])));
  return worst;
}

function checkClose(what: string, got: Tensor, want: Tensor): void {
  const d = maxRelativeDifference(got, want);
  if (!(d <= 1e-4)) throw new Error(`${what}: the compiled result differs from eager by ${d} (relative), more than 1e-4`);
}

interface State { model: nn.Sequential; optimizer: nn.SGD | null; x: Tensor; y: Tensor; run: () => void }

function make(training: boolean): Omit<State, 'run'> {
  kiln.manualSeed(0);
  const model = smallCnn();
  if (!training) model.eval();
  const optimizer = training ? new nn.SGD(model.parameters(), { lr: 0.01 }) : null;
  const x = kiln.randn([...INPUT]);
  const y = kiln.randint(0, CLASSES, [INPUT[0]]);
  return { model, optimizer, x, y };
}

function dispose({ model, optimizer, x, y }: Omit<State, 'run'>): void {
  optimizer?.zeroGrad();
  optimizer?.dispose();
  model.dispose();
  x.dispose();
  y.dispose();
}

function inference({ model }: Omit<State, 'run'>): (x: Tensor) => Tensor {
  return (x) => kiln.noGrad(() => model.forward(x));
}

function trainStep({ model, optimizer }: Omit<State, 'run'>): (x: Tensor, y: Tensor) => Tensor {
  return (x, y) => {
    optimizer!.zeroGrad();
    const loss = nn.crossEntropy(model.forward(x), y);
    loss.backward();
    optimizer!.step();
    return loss;
  };
}

function implementation(training: boolean, compiled: boolean): Implementation<State> {
  return {
    name: compiled ? 'kiln-compiled-cpu' : 'kiln-eager-cpu',
    setup: () => {
      const s = make(training);
      const stepOf = (t: Omit<State, 'run'>) => (training ? trainStep(t) : inference(t)) as (...args: Tensor[]) => Tensor;
      const argsOf = (t: Omit<State, 'run'>) => (training ? [t.x, t.y] : [t.x]);
      let fn = stepOf(s);
      if (compiled) {
        fn = tracer.compile(fn);
        const twin = make(training); // the same seed: the same weights and batch
        const eagerStep = stepOf(twin);
        for (let i = 0; i < (training ? 2 : 1); i++) kiln.tidy(() => checkClose(`step ${i}`, fn(...argsOf(s)), eagerStep(...argsOf(twin))));
        dispose(twin);
      }
      return { ...s, run: () => kiln.tidy(() => void fn(...argsOf(s)).dataSync()) };
    },
    run: ({ run }) => run(),
    teardown: (s) => dispose(s),
  };
}

/** Small CNN inference, batch 32: eager vs compiled. */
export function cnnInference(): Workload {
  const { conv1, rest } = forwardFlops(INPUT[0]);
  return {
    name: 'cnn-inference',
    description: 'CNN conv3×3(32)+ReLU, conv3×3(64)+ReLU, maxpool 2, linear 10 on [32,1,28,28]: inference, eager vs compiled (median ms)',
    params: { input: INPUT.join('x'), dtype: 'float32' },
    flopsPerRun: conv1 + rest,
    warmup: 3,
    repetitions: 20,
    implementations: [implementation(false, false), implementation(false, true)],
  };
}

/** Small CNN SGD training step, batch 32: eager vs compiled. */
export function cnnTrainingStep(): Workload {
  const { conv1, rest } = forwardFlops(INPUT[0]);
  return {
    name: 'cnn-train-step',
    description: 'The same CNN: one SGD training step, batch 32 (forward, cross-entropy, backward, update), eager vs compiled (median ms)',
    params: { input: INPUT.join('x'), dtype: 'float32', optimizer: 'SGD' },
    flopsPerRun: 2 * conv1 + 3 * rest,
    warmup: 2,
    repetitions: 10,
    implementations: [implementation(true, false), implementation(true, true)],
  };
}

/** The CNN workloads, in run order. */
export function cnnWorkloads(): Workload[] {
  return [cnnInference(), cnnTrainingStep()];
}

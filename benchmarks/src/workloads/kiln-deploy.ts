/**
 * Deploying: `.kiln` save and load, and the runtime's inference against onnxruntime-node.
 *
 * - `deploy-save-load-*`: for the MLP (784→512→512→10) and a Transformer encoder block,
 *   `kiln-save` (tracer `save` of the compiled forward, trace reused: the file written to
 *   bytes), `kiln-read` (`readModel`: validate and read, weights as zero-copy views) and
 *   `kiln-load-cpu` (`loadModel` on the CPU backend: read + upload + the first run's optimize
 *   and run, disposed after). The file size is in the params (`fileBytes`) and printed.
 * - `deploy-inference-*`: the same models, saved and loaded by `@kiln/runtime` alone
 *   (`loadModel(...).run`), vs `exportOnnx` of the same compiled function run by
 *   onnxruntime-node (all its threads, and one thread, like Kiln's CPU backend). Setup checks
 *   that both agree with the compiled function (relative 1e-4).
 */
import type { Backend } from '@kiln/core';
import * as kiln from '@kiln/eager';
import * as nn from '@kiln/nn';
import { loadModel, type LoadedModel } from '@kiln/runtime';
import { readModel, type HostTensor } from '@kiln/serializer';
import * as tracer from '@kiln/tracer';
import * as ort from 'onnxruntime-node';
import type { Implementation, Workload } from '../harness.js';

type Tensor = ReturnType<typeof kiln.tensor>;

interface Subject {
  readonly name: string;
  readonly label: string;
  readonly params: Readonly<Record<string, string | number>>;
  make(): { module: nn.Module & { forward(x: Tensor): Tensor }; x: Tensor };
}

export const MLP: Subject = {
  name: 'mlp-784-512-512-10-b64', label: 'MLP 784→512→512→10, batch 64',
  params: { sizes: '784-512-512-10', batch: 64 },
  make: () => {
    kiln.manualSeed(0);
    const module = new nn.Sequential(new nn.Linear(784, 512), new nn.ReLU(), new nn.Linear(512, 512), new nn.ReLU(), new nn.Linear(512, 10));
    return { module, x: kiln.randn([64, 784]) };
  },
};

export const TRANSFORMER: Subject = {
  name: 'transformer-s128-d256-h4', label: 'TransformerEncoderLayer seq 128, width 256, 4 heads, ff 1024, batch 1',
  params: { seq: 128, width: 256, heads: 4, dimFeedforward: 1024, batch: 1 },
  make: () => {
    kiln.manualSeed(0);
    const module = new nn.TransformerEncoderLayer(256, 4, { dimFeedforward: 1024, batchFirst: true });
    return { module, x: kiln.randn([1, 128, 256]) };
  },
};

const cpu = () => kiln.getBackend('cpu') as Backend<unknown>;
const host = (t: Tensor): HostTensor => ({ dtype: t.dtype, shape: [...t.shape], data: t.dataSync() });

function prepared(subject: Subject) {
  const { module, x } = subject.make();
  module.eval();
  const f = tracer.compile((input: Tensor) => module.forward(input));
  const want = f(x);
  const bytes = tracer.save(f, [x], { names: module, inputNames: ['x'], outputNames: ['y'] });
  return { module, x, f, want, bytes };
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return a.length === b.length ? diff / (scale || 1) : Infinity;
}

/** `.kiln` save, read and load times for one model; the file size goes into the params. */
export function deploySaveLoad(subject: Subject): Workload {
  const params: Record<string, string | number> = { ...subject.params, dtype: 'float32' };
  type State = ReturnType<typeof prepared>;
  const setup = (): State => {
    const p = prepared(subject);
    params.fileBytes = p.bytes.byteLength;
    return p;
  };
  const teardown = (s: State) => s.module.dispose();
  const impls: Implementation<State>[] = [
    { name: 'kiln-save', setup, run: (s) => void tracer.save(s.f, [s.x], { names: s.module, inputNames: ['x'], outputNames: ['y'] }), teardown },
    { name: 'kiln-read', setup, run: (s) => void readModel(s.bytes), teardown },
    {
      name: 'kiln-load-cpu', setup, teardown,
      run: (s) => {
        const m = loadModel(s.bytes, { backend: cpu() });
        m.run(host(s.x));
        m.dispose();
      },
    },
  ];
  return {
    name: `deploy-save-load-${subject.name}`,
    description: `${subject.label}: .kiln save, read (validate, zero-copy weights) and load (+ upload, optimize, first run) (median ms; file size in params)`,
    params, warmup: 2, repetitions: 10,
    implementations: impls,
  };
}

interface InferenceState { run: () => void | Promise<void>; dispose: () => void }

/** The runtime's `loadModel(...).run` vs onnxruntime-node on the same model, in one run. */
export function deployInference(subject: Subject): Workload {
  const runtime: Implementation<InferenceState> = {
    name: 'kiln-runtime-cpu',
    setup: () => {
      const p = prepared(subject);
      const model: LoadedModel = loadModel(p.bytes, { backend: cpu() });
      const input = host(p.x);
      const d = maxRelDiff(model.run(input)[0].data, p.want.dataSync());
      if (!(d === 0)) throw new Error(`${subject.name}: the loaded model differs from the compiled function by ${d}`);
      return { run: () => void model.run(input), dispose: () => (model.dispose(), p.module.dispose()) };
    },
    run: (s) => s.run(),
    teardown: (s) => s.dispose(),
  };
  const onnx = (threads: number | undefined): Implementation<InferenceState> => ({
    name: threads === undefined ? 'onnxruntime-node-cpu' : `onnxruntime-node-cpu-${threads}-thread`,
    setup: async () => {
      const p = prepared(subject);
      const file = tracer.exportOnnx(p.f, [p.x], { names: p.module, inputNames: ['x'], outputNames: ['y'] });
      const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all', ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}) });
      const feeds = { x: new ort.Tensor('float32', p.x.dataSync() as Float32Array, [...p.x.shape]) };
      const d = maxRelDiff((await session.run(feeds)).y.data as Float32Array, p.want.dataSync());
      if (!(d <= 1e-4)) throw new Error(`${subject.name}: onnxruntime differs from the compiled function by ${d}`);
      return { run: async () => void (await session.run(feeds)), dispose: () => (void session.release(), p.module.dispose()) };
    },
    run: (s) => s.run(),
    teardown: (s) => s.dispose(),
  });
  return {
    name: `deploy-inference-${subject.name}`,
    description: `${subject.label}: @kiln/runtime loadModel(...).run vs onnxruntime-node on the exportOnnx file (median ms)`,
    params: { ...subject.params, dtype: 'float32' },
    warmup: 3, repetitions: 20,
    implementations: [runtime, onnx(undefined), onnx(1)],
  };
}

export function deployWorkloads(): Workload[] {
  return [deploySaveLoad(MLP), deploySaveLoad(TRANSFORMER), deployInference(MLP), deployInference(TRANSFORMER)];
}

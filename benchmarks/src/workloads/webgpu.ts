/**
 * WebGPU workloads (issue 6, "Done when"), on whatever adapter Dawn finds — a real GPU, or
 * Mesa's lavapipe (a CPU rasterizer: correctness-scale numbers) — named in each record's
 * `adapter` param:
 *
 * - `webgpu-matmul-{256,512,1024}` — float32 square matmul, eager on WebGPU (GFLOP/s);
 * - `webgpu-elementwise-chain-1048576` — `gelu_tanh(x·1.5+0.5)+x`, eager (14 kernels) vs
 *   compiled (one generated WGSL kernel);
 * - `webgpu-mlp-train-step-784-512-512-10` — one SGD training step, batch 128, eager vs the
 *   whole step compiled (one command buffer per call).
 *
 * Every run ends with an awaited readback (`await t.data()`), so the GPU work is inside the
 * timing. With no adapter, every implementation is recorded as skipped with Dawn's reason.
 * The backend code is imported from the package's source by path (the benchmarks package does
 * not depend on @kiln/backend-webgpu: a machine without Dawn's native module still runs the
 * rest of the suite).
 */
import * as kiln from '@kiln/eager';
import * as nn from '@kiln/nn';
import * as tracer from '@kiln/tracer';
import { MismatchError, type Implementation, type Workload } from '../harness.js';
import { geluChain } from './kiln-fusion.js';

type Tensor = ReturnType<typeof kiln.tensor>;

/** The adapter line every record carries (filled in when the device is acquired). */
type MutableParams = Record<string, string | number | boolean>;

let acquiring: Promise<string> | undefined;

/** Acquires a WebGPU device once per process and registers it as backend 'webgpu'; resolves to the adapter's name. */
function webgpuBackend(): Promise<string> {
  acquiring ??= (async () => {
    const node = await import('../../../packages/backend-webgpu/src/node.js');
    const { createWebGPUBackend } = await import('../../../packages/backend-webgpu/src/index.js');
    let acquired: Awaited<ReturnType<typeof node.requestNodeDevice>>;
    try {
      acquired = await node.requestNodeDevice();
    } catch (e) {
      throw new Error(`no WebGPU adapter on this machine: ${(e as Error).message}`);
    }
    const backend = createWebGPUBackend(acquired.device, { adapterInfo: acquired.adapterInfo });
    kiln.registerBackend('webgpu', () => backend);
    const a = backend.adapter;
    return [a.vendor, a.architecture, a.device, a.description].filter((s) => s !== '').join(' / ') || 'unknown adapter';
  })();
  return acquiring;
}

/** Runs `fn` with 'webgpu' as the current backend (creation ops land there), then restores the CPU. */
function onGpu<T>(fn: () => T): T {
  kiln.setBackend('webgpu');
  try {
    return fn();
  } finally {
    kiln.setBackend('cpu');
  }
}

async function setupOnGpu<S>(params: MutableParams, make: () => S): Promise<S> {
  params.adapter = await webgpuBackend();
  return onGpu(make);
}

async function readAndDispose(t: Tensor): Promise<void> {
  await t.data();
  t.dispose();
}

function matmul(n: number): Workload {
  const params: MutableParams = { m: n, k: n, n, dtype: 'float32', adapter: '(not acquired)' };
  const impl: Implementation<{ a: Tensor; b: Tensor }> = {
    name: 'kiln-eager-webgpu',
    setup: () => setupOnGpu(params, () => ({ a: kiln.randn([n, n]), b: kiln.randn([n, n]) })),
    run: ({ a, b }) => readAndDispose(kiln.matmul(a, b)),
    teardown: ({ a, b }) => {
      a.dispose();
      b.dispose();
    },
  };
  return { name: `webgpu-matmul-${n}`, description: `float32 matmul ${n}x${n} @ ${n}x${n} on WebGPU (GFLOP/s)`, params, flopsPerRun: 2 * n * n * n, warmup: 2, repetitions: 10, implementations: [impl] };
}

function chain(n = 1_048_576): Workload {
  const params: MutableParams = { n, dtype: 'float32', chain: 'gelu_tanh(x*1.5+0.5)+x', adapter: '(not acquired)' };
  const implementations = (['eager', 'compiled'] as const).map((variant): Implementation<{ x: Tensor; f: (x: Tensor) => Tensor }> => ({
    name: `kiln-${variant}-webgpu`,
    setup: async () => {
      const x = await setupOnGpu(params, () => {
        kiln.manualSeed(0);
        return kiln.mul(kiln.randn([n]), 2);
      });
      const f = variant === 'eager' ? geluChain : tracer.compile(geluChain);
      if (variant === 'compiled') {
        const [got, want] = [f(x), geluChain(x)];
        const [g, w] = [await got.data(), await want.data()];
        got.dispose();
        want.dispose();
        const bad = g.findIndex((v, i) => !(Math.abs(v - w[i]) <= 1e-5 * Math.max(1, Math.abs(w[i]))));
        if (bad >= 0) throw new MismatchError(`webgpu chain: compiled ${g[bad]} vs eager ${w[bad]} at element ${bad}`);
      }
      return { x, f };
    },
    run: ({ x, f }) => readAndDispose(f(x)),
    teardown: ({ x }) => x.dispose(),
  }));
  return { name: `webgpu-elementwise-chain-${n}`, description: `gelu_tanh(x*1.5+0.5)+x on ${n} float32 elements on WebGPU: eager vs compiled (median ms)`, params, warmup: 3, repetitions: 15, implementations };
}

interface MlpState {
  readonly model: nn.Sequential;
  readonly optimizer: nn.SGD;
  readonly x: Tensor;
  readonly y: Tensor;
  readonly step: (x: Tensor, y: Tensor) => Tensor;
}

function mlpStep(sizes: readonly number[] = [784, 512, 512, 10], batch = 128): Workload {
  const params: MutableParams = { sizes: sizes.join('-'), batch, dtype: 'float32', optimizer: 'SGD', adapter: '(not acquired)' };
  const implementations = (['eager', 'compiled'] as const).map((variant): Implementation<MlpState> => ({
    name: `kiln-${variant}-webgpu`,
    setup: () =>
      setupOnGpu(params, () => {
        kiln.manualSeed(0);
        const layers: nn.UnaryModule[] = [];
        for (let i = 0; i + 1 < sizes.length; i++) {
          if (i > 0) layers.push(new nn.ReLU());
          layers.push(new nn.Linear(sizes[i], sizes[i + 1]));
        }
        const model = new nn.Sequential(...layers);
        const optimizer = new nn.SGD(model.parameters(), { lr: 0.01 });
        const body = (x: Tensor, y: Tensor) => {
          optimizer.zeroGrad();
          const loss = nn.crossEntropy(model.forward(x), y);
          loss.backward();
          optimizer.step();
          return loss;
        };
        const step = variant === 'eager' ? body : tracer.compile(body);
        return { model, optimizer, x: kiln.randn([batch, sizes[0]]), y: kiln.randint(0, sizes[sizes.length - 1], [batch]), step };
      }),
    run: ({ x, y, step }) => readAndDispose(onGpu(() => kiln.tidy(() => step(x, y)))),
    teardown: ({ model, optimizer, x, y }) => {
      optimizer.zeroGrad();
      optimizer.dispose();
      model.dispose();
      x.dispose();
      y.dispose();
    },
  }));
  const layerFlops = sizes.slice(1).map((out, i) => 2 * batch * sizes[i] * out);
  const forward = layerFlops.reduce((a, b) => a + b, 0);
  return {
    name: `webgpu-mlp-train-step-${sizes.join('-')}`,
    description: `MLP ${sizes.join('→')} training step, batch ${batch}, on WebGPU: eager vs compiled (median ms)`,
    params, flopsPerRun: 3 * forward - layerFlops[0], warmup: 2, repetitions: 8, implementations,
  };
}

/**
 * The WebGPU workloads. Each record's `adapter` param names the adapter they ran on.
 *
 * @example
 * ```ts
 * // pnpm bench --filter webgpu --out /tmp/webgpu
 * webgpuWorkloads().map((w) => w.name); // ['webgpu-matmul-256', …, 'webgpu-mlp-train-step-784-512-512-10']
 * ```
 */
export function webgpuWorkloads(): Workload[] {
  return [matmul(256), matmul(512), matmul(1024), chain(), mlpStep()];
}

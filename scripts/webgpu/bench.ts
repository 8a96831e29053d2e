/**
 * Quick WebGPU figures on whatever adapter is present (lavapipe: correctness-scale numbers):
 * matmul GFLOP/s, an elementwise chain over 1M floats, and the cost of one eager op encode.
 * Medians after warm-up. Usage: pnpm exec tsx --conditions=kiln-source scripts/webgpu/bench.ts
 * The benchmark harness (benchmarks/) will take these workloads over.
 */
import { createWebGPUBackend } from '@kiln/backend-webgpu';
import { requestNodeDevice } from '@kiln/backend-webgpu/node';
import { randn, registerBackend, setBackend, tidy, type Tensor } from '@kiln/eager';

const { device, adapterInfo } = await requestNodeDevice();
const gpu = createWebGPUBackend(device, { adapterInfo });
registerBackend('webgpu', () => gpu);
setBackend('webgpu');
console.log(`adapter: ${gpu.adapter.description || gpu.adapter.vendor}`);

async function median(runs: number, fn: () => Promise<void>): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

for (const n of [256, 512, 1024]) {
  const a = randn([n, n]);
  const b = randn([n, n]);
  const ms = await median(n >= 1024 ? 3 : 7, async () => {
    const c = a.matmul(b);
    await c.data();
    c.dispose();
  });
  console.log(`matmul ${n}: ${ms.toFixed(1)} ms, ${((2 * n ** 3) / ms / 1e6).toFixed(2)} GFLOP/s (incl. readback of ${n * n * 4} bytes)`);
  a.dispose();
  b.dispose();
}

const x = randn([1 << 20]);
const chain = (t: Tensor): Tensor => t.mul(0.5).add(1).tanh().mul(t).sigmoid();
const chainMs = await median(7, async () => {
  const y = tidy(() => chain(x));
  await y.data();
  y.dispose();
});
console.log(`elementwise chain (5 ops) on 1M floats: ${chainMs.toFixed(1)} ms incl. readback`);

const small = randn([16]);
const opsPerRun = 2000;
const encodeMs = await median(5, async () => {
  let y = small;
  for (let i = 0; i < opsPerRun; i++) {
    const next = y.add(1);
    if (y !== small) y.dispose();
    y = next;
  }
  await y.data();
  y.dispose();
});
console.log(`eager add on 16 floats: ${((encodeMs * 1000) / opsPerRun).toFixed(1)} µs per op (encode + submit + run, ${opsPerRun} ops per read)`);
setBackend('cpu');
gpu.destroy();

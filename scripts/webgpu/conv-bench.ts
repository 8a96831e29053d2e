/**
 * WebGPU conv2d A/B: the direct kernel (one invocation per output element) against the tiled
 * implicit GEMM, interleaved in one process on the same device, medians after warm-up.
 * Usage: pnpm exec tsx --conditions=kiln-source scripts/webgpu/conv-bench.ts
 */
import { getOp, KernelRegistry } from '../../packages/core/src/index.js';
import { WebGPUBackend, type WebGPUKernel } from '../../packages/backend-webgpu/src/index.js';
import { requestNodeDevice } from '../../packages/backend-webgpu/src/node.js';
import { conv2d, conv2dDirect } from '../../packages/backend-webgpu/src/kernels/conv.js';
import { conv2dTranspose, conv2dTransposeDirect, conv2dWeightGrad, conv2dWeightGradDirect } from '../../packages/backend-webgpu/src/kernels/conv_grad.js';

const { device, adapterInfo } = await requestNodeDevice();
const make = (name: string, conv: WebGPUKernel, transpose: WebGPUKernel, weightGrad: WebGPUKernel): WebGPUBackend => {
  const kernels = new KernelRegistry<WebGPUKernel>(name);
  kernels.register('conv2d', conv);
  kernels.register('conv2dTranspose', transpose);
  kernels.register('conv2dWeightGrad', weightGrad);
  return new WebGPUBackend(device, kernels, { adapterInfo });
};
const variants = { direct: make('direct', conv2dDirect, conv2dTransposeDirect, conv2dWeightGradDirect), tiled: make('tiled', conv2d, conv2dTranspose, conv2dWeightGrad) };
console.log(`adapter: ${adapterInfo.description || adapterInfo.vendor} (${adapterInfo.architecture})`);

const shapes: { name: string; x: number[]; w: number[]; padding: number[] }[] = [
  { name: 'digits CNN conv2 [32,16,14,14]*[32,16,3,3]', x: [32, 16, 14, 14], w: [32, 16, 3, 3], padding: [1, 1] },
  { name: 'ResNet-ish [8,64,28,28]*[64,64,3,3]', x: [8, 64, 28, 28], w: [64, 64, 3, 3], padding: [1, 1] },
  { name: '1x1 [8,128,28,28]*[128,128,1,1]', x: [8, 128, 28, 28], w: [128, 128, 1, 1], padding: [0, 0] },
];
const runs = Number(process.env.RUNS ?? 7);
// conv2dTranspose (the input gradient of a conv) on the middle shape: x has the conv's output channels.
// conv2dWeightGrad of the same conv: its second input is g (the conv's output shape) and it returns w's shape.
shapes.push({ name: 'conv2dTranspose [8,64,28,28]*[64,64,3,3]', x: [8, 64, 28, 28], w: [64, 64, 3, 3], padding: [1, 1] });
shapes.push({ name: 'conv2dWeightGrad [8,64,28,28]->[64,64,3,3]', x: [8, 64, 28, 28], w: [64, 64, 3, 3], padding: [1, 1] });
for (const s of shapes) {
  const op = /^conv2d(Transpose|WeightGrad) /.exec(s.name)?.[0].trim() ?? 'conv2d';
  const grad = op === 'conv2dWeightGrad';
  const [N, C, H, W] = s.x;
  const [OC, , KH, KW] = s.w;
  const OH = H + 2 * s.padding[0] - KH + 1; // stride 1: the same for the transpose with these shapes
  const OW = W + 2 * s.padding[1] - KW + 1;
  const flops = 2 * N * OC * OH * OW * C * KH * KW;
  const times: Record<string, number[]> = { direct: [], tiled: [] };
  const inputs = Object.fromEntries(Object.entries(variants).map(([k, b]) => [k, [
    b.upload(Float32Array.from({ length: N * C * H * W }, () => Math.random() - 0.5), { dtype: 'float32', shape: s.x }),
    grad
      ? b.upload(Float32Array.from({ length: N * OC * OH * OW }, () => Math.random() - 0.5), { dtype: 'float32', shape: [N, OC, OH, OW] })
      : b.upload(Float32Array.from({ length: OC * C * KH * KW }, () => Math.random() - 0.5), { dtype: 'float32', shape: s.w }),
  ]]));
  for (let i = 0; i < runs + 1; i++) {
    for (const [k, b] of Object.entries(variants)) {
      const [xs, ws] = inputs[k];
      const t0 = performance.now();
      const [o] = b.run(getOp(op), [{ storage: xs, type: { dtype: 'float32', shape: s.x } }, { storage: ws, type: { dtype: 'float32', shape: grad ? [N, OC, OH, OW] : s.w } }], { stride: [1, 1], padding: s.padding, dilation: [1, 1], groups: 1 }, [{ dtype: 'float32', shape: grad ? s.w : [N, OC, OH, OW] }]);
      await b.read(o, { dtype: 'float32', shape: grad ? s.w : [N, OC, OH, OW] });
      if (i > 0) times[k].push(performance.now() - t0); // the first run compiles the pipeline
      b.dispose(o);
    }
  }
  const med = (a: number[]): number => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const d = med(times.direct);
  const t = med(times.tiled);
  console.log(`${s.name}: direct ${d.toFixed(1)} ms (${(flops / d / 1e6).toFixed(2)} GFLOP/s), tiled ${t.toFixed(1)} ms (${(flops / t / 1e6).toFixed(2)} GFLOP/s), ${(d / t).toFixed(2)}x (medians of ${runs}, incl. readback)`);
}
device.destroy();

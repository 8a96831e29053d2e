/**
 * A/B of the CNN's second convolution ([32, 32, 26, 26] ⊛ [64, 32, 3, 3], valid) in one process,
 * interleaved: the direct WASM kernel against Winograd F(2×2, 3×3). Prints min and median ms per
 * thread count. Run: pnpm exec tsx --conditions=kiln-source benchmarks/src/winograd-ab.ts [runs] [small]
 * (`small`: the geometries near the selection rule's thresholds).
 */
import { convDirectF32, type DirectConv } from '../../packages/backend-cpu/src/wasm/conv_direct.js';
import { winogradConvF32, type WinogradConv } from '../../packages/backend-cpu/src/wasm/winograd.js';
import { setNumThreads } from '../../packages/backend-cpu/src/threads/pool.js';

const runs = Number(process.argv[2] ?? 20);
const shapes: [number, number, number, number][] = process.argv[3] === 'small'
  ? [[32, 4, 64, 26], [32, 8, 16, 26], [32, 16, 16, 26], [32, 8, 64, 26], [32, 64, 8, 26], [32, 64, 12, 26], [32, 64, 16, 26], [32, 64, 64, 10], [32, 64, 64, 6], [32, 64, 64, 4]]
  : [[32, 32, 64, 26], [32, 64, 64, 24], [8, 128, 128, 28]];
for (const [batch, C, K, H] of shapes) {
  const x = Float32Array.from({ length: batch * C * H * H }, () => Math.random() - 0.5);
  const w = Float32Array.from({ length: K * C * 9 }, () => Math.random() - 0.5);
  const outH = H - 2;
  const y = new Float32Array(batch * K * outH * outH);
  const wg: WinogradConv = { batch, channels: C, height: H, width: H, outChannels: K, padTop: 0, padLeft: 0, outH, outW: outH };
  const dg: DirectConv = { ...wg, kH: 3, kW: 3, dH: 1, dW: 1, weightIndex: (oc, c, kh, kw) => ((oc * C + c) * 3 + kh) * 3 + kw };
  const flop = 2 * batch * K * outH * outH * C * 9;
  for (const threads of [1, 2]) {
    setNumThreads(threads);
    const t: Record<string, number[]> = { direct: [], winograd: [] };
    for (let r = 0; r < runs + 3; r++) {
      for (const [name, fn] of [['direct', () => convDirectF32(x, w, dg, y)], ['winograd', () => winogradConvF32(x, w, wg, y)]] as const) {
        const t0 = performance.now();
        fn();
        if (r >= 3) t[name].push(performance.now() - t0);
      }
    }
    const stat = (a: number[]) => { const s = [...a].sort((p, q) => p - q); return { min: s[0], med: s[s.length >> 1] }; };
    const d = stat(t.direct);
    const wi = stat(t.winograd);
    console.log(`[${batch},${C},${H},${H}]→${K} threads ${threads}: direct min ${d.min.toFixed(1)} med ${d.med.toFixed(1)} ms (${(flop / d.min / 1e6).toFixed(1)} GFLOP/s); ` +
      `winograd min ${wi.min.toFixed(1)} med ${wi.med.toFixed(1)} ms (${(flop / wi.min / 1e6).toFixed(1)} effective GFLOP/s); ratio min ${(wi.min / d.min).toFixed(2)} med ${(wi.med / d.med).toFixed(2)}`);
  }
}

// The whole CNN of issue 7 (compiled inference, batch 32), Winograd on and off, interleaved.
const { smallCnn } = await import('./workloads/cnn.js');
const kiln = await import('@kiln/eager');
const tracer = await import('@kiln/tracer');
const { WINOGRAD_SELECTION } = await import('../../packages/backend-cpu/src/kernels/conv.js');
kiln.manualSeed(0);
const model = smallCnn();
model.eval();
const input = kiln.randn([32, 1, 28, 28]);
const forward = tracer.compile((t: typeof input) => kiln.noGrad(() => model.forward(t)));
for (const threads of [1, 2]) {
  setNumThreads(threads);
  const t: Record<string, number[]> = { direct: [], winograd: [] };
  for (let r = 0; r < runs + 3; r++) {
    for (const name of ['direct', 'winograd'] as const) {
      WINOGRAD_SELECTION.enabled = name === 'winograd';
      const t0 = performance.now();
      kiln.tidy(() => void forward(input).dataSync());
      if (r >= 3) t[name].push(performance.now() - t0);
    }
  }
  const stat = (a: number[]) => { const s = [...a].sort((p, q) => p - q); return `min ${s[0].toFixed(1)} med ${s[s.length >> 1].toFixed(1)} ms`; };
  console.log(`CNN compiled inference, threads ${threads}: direct ${stat(t.direct)}; winograd ${stat(t.winograd)}`);
}
WINOGRAD_SELECTION.enabled = true;

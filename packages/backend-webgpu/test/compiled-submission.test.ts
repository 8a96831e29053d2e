/**
 * A compiled call on WebGPU: one queue submission (one command buffer) however many passes it
 * encodes, GPU memory flat from call to call (the runtime's memory plan offers dead buffers as
 * outputs; the pool creates nothing new once warm), host-made tensors inside a compiled function
 * traced as constants without a readback, and a saved .kiln model run by the runtime on WebGPU
 * equal to the same model run on the CPU.
 */
import type { Backend } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { getBackend, manualSeed, randint, randn, registerBackend, setBackend, softmax, tensor, tidy } from '@kiln/eager';
import * as nn from '@kiln/nn';
import { executeGraph, loadModel } from '@kiln/runtime';
import { compile, save } from '@kiln/tracer';
import { afterEach, describe, expect, it } from 'vitest';
import { testBackend } from './helpers/device.js';

const gpu = await testBackend;
if (gpu) registerBackend('webgpu', () => gpu);

/** The digits MLP's training step (Adam), compiled, with a batch of 32 on the current backend. */
function trainingStep() {
  manualSeed(0);
  const model = new nn.Sequential(new nn.Linear(64, 128), new nn.ReLU(), new nn.Linear(128, 10));
  const optimizer = new nn.Adam(model.parameters(), { lr: 3e-3 });
  const x = randn([32, 64]);
  const y = randint(0, 10, [32]);
  const step = compile((xb: Tensor, yb: Tensor) => {
    optimizer.zeroGrad();
    const loss = nn.crossEntropy(model.forward(xb), yb);
    loss.backward();
    optimizer.step();
    return loss;
  });
  return { step, x, y };
}

describe.skipIf(!gpu)('compiled calls on WebGPU', () => {
  afterEach(() => setBackend('cpu'));

  it('a compiled training step is one submission per call, with flat GPU memory', async () => {
    setBackend('webgpu');
    const { step, x, y } = trainingStep();
    await (await tidy(() => step(x, y))).data(); // trace, compile pipelines
    const passes = step.graph(x, y).nodes.length;
    const seen: { submissions: number; bytes: number; created: number; loss: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const before = gpu!.submissions;
      const loss = tidy(() => step(x, y));
      gpu!.flush(); // anything still encoded would be a second submission
      const submissions = gpu!.submissions - before;
      const value = (await loss.data())[0];
      loss.dispose();
      seen.push({ submissions, bytes: gpu!.bytesInUse(), created: gpu!.poolStats().created, loss: value });
    }
    // More passes than one submission holds by default (64), so the batch really was held open.
    expect(passes).toBeGreaterThan(20); // and its fused nodes launch 65 passes today
    expect(seen.map((s) => s.submissions)).toEqual([1, 1, 1, 1, 1]);
    // Never growing (a leak per step would): a tensor the warm-up call left to the eager
    // FinalizationRegistry (4 bytes) may be freed during the loop, whenever GC runs.
    for (let i = 1; i < seen.length; i++) expect(seen[i].bytes, `bytes after call ${i}`).toBeLessThanOrEqual(seen[i - 1].bytes);
    expect(seen[0].bytes - seen[4].bytes).toBeLessThanOrEqual(16);
    expect(new Set(seen.map((s) => s.created)).size).toBe(1);
    expect(seen[4].loss).toBeLessThan(seen[0].loss); // it trains
    for (const t of [x, y]) t.dispose();
  });

  it('the batch holds more passes than maxPassesPerSubmit; a graph run outside it splits', async () => {
    setBackend('webgpu');
    const f = (a: Tensor) => {
      let h = a;
      for (let i = 0; i < 80; i++) h = h.matmul(a).mul(0.1);
      return h;
    };
    const a = randn([4, 4]).mul(0.5);
    const compiled = compile(f);
    const graph = compiled.graph(a);
    const want = await compiled(a).data();
    const storage = a.bufferFor('test').storage;
    const count = async (run: () => unknown[]): Promise<number> => {
      const before = gpu!.submissions;
      const outs = run();
      gpu!.flush(); // submits what is still encoded
      const n = gpu!.submissions - before;
      for (const s of outs) gpu!.dispose(s as never);
      return n;
    };
    const g = gpu as unknown as Backend<unknown>;
    expect(graph.nodes.length).toBeGreaterThan(64);
    expect(await count(() => gpu!.batch(() => executeGraph(graph, g, [storage])))).toBe(1);
    expect(await count(() => executeGraph(graph, g, [storage]))).toBe(2); // unbatched, the 64th pass submits
    const got = await compiled(a).data();
    expect([...got]).toEqual([...want]);
    a.dispose();
  });

  it('a tensor made from host data inside a compiled function becomes a constant without a readback', async () => {
    setBackend('webgpu');
    const f = (x: Tensor) => x.mul(tensor([1, -2, 3], 'float32')).add(tensor([[10], [20]], 'float32'));
    const x = tensor([[1, 2, 3], [4, 5, 6]], 'float32');
    const compiled = compile(f);
    expect([...(await compiled(x).data())]).toEqual([11, 6, 19, 24, 10, 38]);
    expect([...(await compiled(x).data())]).toEqual([...(await f(x).data())]);
    x.dispose();
  });

  it('a saved .kiln model runs in the runtime on WebGPU as on the CPU', async () => {
    setBackend('cpu');
    manualSeed(1);
    const model = new nn.Sequential(new nn.Linear(16, 32), new nn.GELU(), new nn.LayerNorm(32), new nn.Linear(32, 4));
    const x = randn([5, 16]);
    const f = compile((input: Tensor) => softmax(model.forward(input), -1));
    const bytes = save(f, [x], { names: model, inputNames: ['x'] });
    const input = { dtype: 'float32' as const, shape: [5, 16], data: x.dataSync() };
    const [want] = await loadModel(bytes, { backend: getBackend('cpu') as Backend<unknown> }).runAsync(input);
    const onGpu = loadModel(bytes, { backend: gpu! as unknown as Backend<unknown> });
    const [got] = await onGpu.runAsync(input);
    const [again] = await onGpu.runAsync(input);
    expect(got.shape).toEqual([5, 4]);
    // float32 kernels with WGSL's transcendentals (erf in GELU, exp in softmax): 1e-5 of probabilities.
    for (let i = 0; i < want.data.length; i++) expect(Math.abs(got.data[i] - want.data[i]), `element ${i}`).toBeLessThan(1e-5);
    expect([...again.data]).toEqual([...got.data]);
    x.dispose();
  });
});

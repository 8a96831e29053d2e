import { manualSeed, noGrad, randn, registerBackend, setBackend, softmax, tensor, tidy, where, type Tensor } from '@kiln/eager';
import { compile } from '@kiln/tracer';
import { afterEach, describe, expect, it } from 'vitest';
import { testBackend } from './helpers/device.js';

// compile() on WebGPU: the runtime's fusion passes run (the backend has fusedElementwise and
// matmulEpilogue kernels) and the graph runs through the same Backend interface.
const gpu = await testBackend;
if (gpu) registerBackend('webgpu', () => gpu);

describe.skipIf(!gpu)('compiled functions on WebGPU', () => {
  afterEach(() => setBackend('cpu'));

  it('a compiled forward pass equals eager on WebGPU and on CPU', async () => {
    const fn = (x: Tensor, w: Tensor) => x.matmul(w).add(1).relu().mul(x.sum(1, true)).max(1);
    const run = async (backend: string, compiled: boolean) => {
      setBackend(backend);
      const x = tensor([[1, 2, -1], [3, -4, 0.5]], 'float32');
      const w = tensor([[0.5, -1], [2, 0.25], [1, 1]], 'float32');
      const y = (compiled ? compile(fn) : fn)(x, w);
      expect(y.backend).toBe(backend);
      return [...(await y.data())];
    };
    const want = await run('cpu', false);
    expect(await run('webgpu', false)).toEqual(want);
    expect(await run('webgpu', true)).toEqual(want);
  });

  it('fused kernels run on WebGPU: generated WGSL for elementwise chains, the body op by op for reductions and matmul epilogues', async () => {
    const x = [[1, 2, -1], [3, -4, 0.5]];
    const w = [[0.5, -1], [2, 0.25], [1, 1]];
    const cases: [string, (x: Tensor, w: Tensor) => Tensor][] = [
      ['fusedElementwise: mul, add, sigmoid', (a, b) => { const h = a.mul(0.5).add(b.sum(1)); return where(h.gt(1), h.sigmoid(), h.neg().exp()).sub(b.sum()); }],
      ['fusedElementwise: mul, sum', (a) => a.mul(a).add(1).sum(1)],
      ['matmulEpilogue: matmul, add, relu', (a, b) => a.matmul(b).add(0.1).relu()],
      ['matmulEpilogue: matmul, mul', (a, b) => a.transpose().matmul(b.transpose()).mul(2)],
      ['matmulEpilogue: matmul, sub, tanh', (a, b) => b.transpose().matmul(a.transpose()).sub(a.sum()).tanh()],
      ['fusedElementwise: exp, sum', (a) => softmax(a.mul(2), -1)],
      ['fusedElementwise: max', (a, b) => a.sub(b.sum(1)).abs().max(0)],
    ];
    for (const [kernel, fn] of cases) {
      setBackend('cpu');
      const want = [...(await fn(tensor(x, 'float32'), tensor(w, 'float32')).data())];
      setBackend('webgpu');
      const compiled = compile(fn);
      const args = [tensor(x, 'float32'), tensor(w, 'float32')] as const;
      const [name, ops] = kernel.split(': ');
      const fused = compiled.explain(...args).fusedKernels;
      expect(fused.some((k) => k.startsWith(`${name}:`) && ops.split(', ').every((op) => k.includes(op))), `${kernel} in ${fused.join('; ')}`).toBe(true);
      const got = [...(await compiled(...args).data())];
      expect(got.length).toBe(want.length);
      got.forEach((v, j) => expect(v, `${kernel} [${j}]`).toBeCloseTo(want[j], 5));
    }
  });

  it('a compiled training step (forward, backward, in-place update) trains as eager does', async () => {
    const losses = async (compiled: boolean): Promise<number[]> => {
      setBackend('webgpu');
      manualSeed(3);
      const x = randn([16, 4]);
      const y = x.sum(1, true).tanh();
      const w = randn([4, 1]).mul(0.3);
      w.requiresGrad = true;
      const step = (xb: Tensor, yb: Tensor): Tensor => {
        const d = xb.matmul(w).sub(yb);
        const loss = d.mul(d).mean();
        loss.backward();
        noGrad(() => w.assign(w.sub(w.grad!.mul(0.3))));
        w.grad = null;
        return loss;
      };
      const run = compiled ? compile(step) : step;
      const out: number[] = [];
      for (let i = 0; i < 8; i++) {
        const l = tidy(() => run(x, y));
        out.push((await l.data())[0]);
        l.dispose();
      }
      return out;
    };
    const eager = await losses(false);
    const compiled = await losses(true);
    expect(eager[7]).toBeLessThan(eager[0] * 0.5);
    compiled.forEach((l, i) => expect(Math.abs(l - eager[i])).toBeLessThan(1e-5 * Math.max(1, eager[i])));
  });
});

import { createCpuBackend } from '@kiln/backend-cpu';
import { getOp, inferTypes, KernelRegistry, type TensorType } from '@kiln/core';
import { WebGPUBackend, type WebGPUKernel } from '../src/index.js';
import { matmulSimple } from '../src/kernels/matmul.js';
import { describe, expect, it } from 'vitest';
import { testBackend } from './helpers/device.js';

const gpu = await testBackend;
const cpu = createCpuBackend();

/** A deterministic pseudo-random float32 array (no RNG state shared with other tests). */
function data(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

// The blocked kernel every WebGPU device runs, and the simple tiled one kept for devices below
// the default limits (run here through a registry of its own).
const simpleRegistry = new KernelRegistry<WebGPUKernel>('webgpu');
simpleRegistry.register('matmul', matmulSimple);
const kernels = gpu ? { blocked: gpu, simple: new WebGPUBackend(gpu.device, simpleRegistry) } : {};

describe.skipIf(!gpu)('WebGPU matmul against the CPU backend', () => {
  // Sizes straddle the 64×64 blocks, 16-deep k steps and 16×16 tiles: partial blocks in m, k
  // and n, and broadcast batch dimensions.
  const cases: [number[], number[]][] = [[[37, 70], [70, 45]], [[2, 1, 17, 33], [3, 33, 16]], [[1, 1], [1, 129]], [[4, 64, 64], [64, 64]], [[130, 20], [20, 67]], [[5, 0], [0, 3]]];
  for (const [name, backend] of Object.entries(kernels)) for (const [as, bs] of cases) {
    it(`${name}: [${as}] @ [${bs}]`, async () => {
      const g = backend!;
      const ta: TensorType = { dtype: 'float32', shape: as };
      const tb: TensorType = { dtype: 'float32', shape: bs };
      const a = data(ta.shape.reduce((x, y) => x * y, 1), 1);
      const b = data(tb.shape.reduce((x, y) => x * y, 1), 2);
      const op = getOp('matmul');
      const [to] = inferTypes(op, [ta, tb], {});
      const [want] = cpu.run(op, [{ storage: a, type: ta }, { storage: b, type: tb }], {}, [to]);
      // The float32 rounding bound of a length-k dot product: k·u·Σ|a||b| (u = 2⁻²⁴).
      const [absSum] = cpu.run(op, [{ storage: a.map(Math.abs), type: ta }, { storage: b.map(Math.abs), type: tb }], {}, [to]);
      const k = as[as.length - 1];
      const ga = g.upload(a, ta);
      const gb = g.upload(b, tb);
      const [go] = g.run(op, [{ storage: ga, type: ta }, { storage: gb, type: tb }], {}, [to]);
      const got = await g.read(go, to);
      expect(got.length).toBe(want.length);
      const bad: string[] = [];
      for (let i = 0; i < got.length; i++) {
        if (Math.abs(got[i] - want[i]) > (k + 2) * 2 ** -24 * absSum[i] + 1e-30) bad.push(`[${i}] got ${got[i]}, want ${want[i]}`);
      }
      expect(bad.slice(0, 5)).toEqual([]);
      [ga, gb, go].forEach((s) => g.dispose(s));
    });
  }
});

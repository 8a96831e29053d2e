/**
 * The WebGPU workloads: the names the issue asks for, a missing adapter recorded as skipped (not
 * a failed run), and, where an adapter exists (lavapipe in CI), a matmul run that names it and
 * computes the right product.
 */
import * as kiln from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { isMissingFeatureError } from '../src/harness.js';
import { webgpuWorkloads } from '../src/workloads/webgpu.js';

describe('WebGPU workloads', () => {
  it('cover matmul 256/512/1024, the elementwise chain and the MLP step, eager vs compiled', () => {
    const workloads = webgpuWorkloads();
    expect(workloads.map((w) => w.name)).toEqual(['webgpu-matmul-256', 'webgpu-matmul-512', 'webgpu-matmul-1024', 'webgpu-elementwise-chain-1048576', 'webgpu-mlp-train-step-784-512-512-10']);
    expect(workloads.slice(3).map((w) => w.implementations.map((i) => i.name))).toEqual([['kiln-eager-webgpu', 'kiln-compiled-webgpu'], ['kiln-eager-webgpu', 'kiln-compiled-webgpu']]);
    expect(workloads.slice(0, 3).map((w) => w.flopsPerRun)).toEqual([2 * 256 ** 3, 2 * 512 ** 3, 2 * 1024 ** 3]);
  });

  it('a machine without an adapter skips them (the harness reads the error as a missing feature)', () => {
    expect(isMissingFeatureError(new Error('no WebGPU adapter on this machine: no Vulkan driver'))).toBe(true);
  });

  it('matmul-256 runs on the adapter and names it', async () => {
    const w = webgpuWorkloads()[0];
    const impl = w.implementations[0];
    let state: { a: kiln.Tensor; b: kiln.Tensor };
    try {
      state = (await impl.setup(w.params)) as typeof state;
    } catch (e) {
      if (process.env.KILN_REQUIRE_WEBGPU === '1' || !isMissingFeatureError(e)) throw e;
      console.warn(`WebGPU workload test skipped: ${(e as Error).message}`);
      return;
    }
    expect(String(w.params.adapter)).not.toBe('(not acquired)');
    await impl.run(state);
    const [a, b] = [await state.a.data(), await state.b.data()];
    const c = await kiln.matmul(state.a, state.b).data();
    let want = 0;
    for (let k = 0; k < 256; k++) want += a[k] * b[k * 256 + 5];
    expect(Math.abs(c[5] - want)).toBeLessThan(1e-3);
    await impl.teardown?.(state);
  });
});

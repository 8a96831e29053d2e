import { isControlOp, listOps } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { createWebGPUKernels } from '../src/index.js';
import { testBackend } from './helpers/device.js';
import { goldenGroups, missingKernel, runGoldenCase, skipReason } from './helpers/golden.js';
import { loadGolden } from '../../backend-cpu/test/helpers/golden.js';
import { PENDING_KERNELS } from './helpers/pending.js';

const kernels = createWebGPUKernels();
const primitives = listOps().filter((op) => op.kind === 'primitive' && !isControlOp(op.name)).map((op) => op.name);

describe('WebGPU coverage', () => {
  it('PENDING_KERNELS is exactly the primitives without a WebGPU kernel (update it when a kernel lands)', () => {
    expect(primitives.filter((name) => !kernels.has(name)).sort()).toEqual([...PENDING_KERNELS].sort());
  });

  it('every registered kernel is for a primitive (composites expand)', () => {
    expect(kernels.ops().filter((name) => !primitives.includes(name))).toEqual([]);
  });

  it('lists, per golden group, the cases that run on WebGPU and why the others do not', async () => {
    const gpu = await testBackend;
    const rows: string[] = [];
    for (const group of goldenGroups()) {
      const counts = new Map<string, number>();
      let runs = 0;
      const cases = loadGolden(group);
      for (const c of cases) {
        const reason = skipReason(c) ?? (await needs(c));
        if (reason === null) runs++;
        else counts.set(reason, (counts.get(reason) ?? 0) + 1);
      }
      rows.push(`${group}: ${runs}/${cases.length} run on WebGPU${[...counts].map(([r, n]) => `; ${n} ${r}`).join('')}`);
    }
    console.log(`WebGPU golden coverage\n  ${rows.join('\n  ')}`);
    // Every group runs every case but float64 ones: no golden case waits for a kernel.
    for (const group of goldenGroups()) expect(rows.find((r) => r.startsWith(`${group}:`))).not.toMatch(/needs a kernel/);

    async function needs(c: Parameters<typeof runGoldenCase>[1]): Promise<string | null> {
      if (!gpu) return 'no adapter';
      try {
        await runGoldenCase(gpu, c);
        return null;
      } catch (e) {
        const missing = missingKernel(e);
        if (missing) return `needs a kernel for '${missing}'`;
        throw e;
      }
    }
  });
});

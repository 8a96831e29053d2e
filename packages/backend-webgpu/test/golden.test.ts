import { describe } from 'vitest';
import { testBackend } from './helpers/device.js';
import { goldenGroups, webgpuGoldenTests } from './helpers/golden.js';
import { PENDING_KERNELS } from './helpers/pending.js';

// Every golden file of the CPU backend, on WebGPU: a group added there is run here too.
const gpu = await testBackend;

for (const group of goldenGroups()) {
  describe(`WebGPU matches PyTorch on the CPU golden cases: ${group}`, () => {
    webgpuGoldenTests(gpu, group, PENDING_KERNELS);
  });
}

import { describe } from 'vitest';
import { testBackend } from './helpers/device.js';
import { webgpuGoldenTests } from './helpers/golden.js';
import { PENDING_KERNELS } from './helpers/pending.js';

const gpu = await testBackend;

describe('WebGPU: reductions match PyTorch (the CPU golden cases)', () => {
  webgpuGoldenTests(gpu, 'reduce', PENDING_KERNELS);
});

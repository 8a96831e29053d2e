import { describe } from 'vitest';
import { testBackend } from './helpers/device.js';
import { webgpuGoldenTests } from './helpers/golden.js';
import { PENDING_KERNELS } from './helpers/pending.js';

const gpu = await testBackend;

describe('WebGPU: elementwise ops match PyTorch (the CPU golden cases)', () => {
  webgpuGoldenTests(gpu, 'elementwise', PENDING_KERNELS);
});

describe('WebGPU: creation ops match PyTorch (the CPU golden cases)', () => {
  webgpuGoldenTests(gpu, 'creation', PENDING_KERNELS);
});

import { describe } from 'vitest';
import { testBackend } from './helpers/device.js';
import { webgpuGoldenTests } from './helpers/golden.js';
import { PENDING_KERNELS } from './helpers/pending.js';

const gpu = await testBackend;

describe('WebGPU: nn ops match PyTorch (the CPU golden cases)', () => {
  webgpuGoldenTests(gpu, 'nn', PENDING_KERNELS);
});

describe('WebGPU: convolution and pooling gradients match PyTorch (the CPU golden cases)', () => {
  webgpuGoldenTests(gpu, 'conv_grad', PENDING_KERNELS);
});

import { describe } from 'vitest';
import { goldenTests } from './helpers/golden.js';

// 3×3 stride-1 convolutions with ≥ 16 channels: the Winograd path (scripts/golden/gen_conv_winograd.py).
describe('Winograd float32 convolution matches PyTorch (golden)', () => {
  goldenTests('conv_winograd');
});

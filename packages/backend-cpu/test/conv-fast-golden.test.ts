import { describe } from 'vitest';
import { goldenTests } from './helpers/golden.js';

// Convolutions and pooling large enough for the WebAssembly paths (scripts/golden/gen_conv_fast.py).
describe('fast float32 convolution and pooling paths match PyTorch (golden)', () => {
  goldenTests('conv_fast');
});

import { describe } from 'vitest';
import { goldenTests } from './helpers/golden.js';

describe('elementwise ops match PyTorch (golden)', () => {
  goldenTests('elementwise');
});

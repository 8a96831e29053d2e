import type { DType, KernelRegistry } from '@kiln/core';
import { allocTypedArray, sizeOf, toTypedArray } from '@kiln/core';
import type { CpuKernel } from '../cpu_tensor.js';
import { fma32, fma64 } from './fused.js';
import { registerRandomKernels } from './random.js';

const full: CpuKernel<{ value: number }> = (_inputs, { value }, [out]) => {
  const data = allocTypedArray(out.dtype, sizeOf(out.shape));
  data.fill(out.dtype === 'bool' ? (value ? 1 : 0) : value);
  return [data];
};

const constant: CpuKernel<{ data: readonly number[] }> = (_inputs, { data }, [out]) => [toTypedArray(out.dtype, data)];

// PyTorch computes start + step·i in float64 with one rounding (an FMA), then stores it in the
// output dtype. Integer ranges are exact in float64 (the surface keeps values within int32).
const arange: CpuKernel<{ start: number; step: number }> = (_inputs, { start, step }, [out]) => {
  const data = allocTypedArray(out.dtype, sizeOf(out.shape));
  if (out.dtype === 'int32') for (let i = 0; i < data.length; i++) data[i] = start + step * i;
  else for (let i = 0; i < data.length; i++) data[i] = fma64(step, i, start);
  return [data];
};

/**
 * torch.linspace's per-element formula: with step = (stop − start) / (steps − 1), element i is
 * start + step·i for i < ⌊steps/2⌋ and stop − step·(steps − 1 − i) after, each with one
 * rounding in the dtype's arithmetic (float32 for float32; float64, then truncation, for int32).
 */
const linspace: CpuKernel<{ start: number; stop: number; steps: number; dtype: DType }> = (_inputs, { start, stop, steps, dtype }, [out]) => {
  const data = allocTypedArray(out.dtype, steps);
  if (steps === 0) return [data];
  if (steps === 1) {
    data[0] = start;
    return [data];
  }
  const halfway = Math.floor(steps / 2);
  if (dtype === 'float32') {
    const step = Math.fround(Math.fround(stop - start) / Math.fround(steps - 1));
    for (let i = 0; i < steps; i++) {
      data[i] = i < halfway ? fma32(step, Math.fround(i), start) : fma32(-step, Math.fround(steps - 1 - i), stop);
    }
  } else {
    const step = (stop - start) / (steps - 1);
    const trunc = dtype === 'int32';
    for (let i = 0; i < steps; i++) {
      const v = i < halfway ? fma64(step, i, start) : fma64(-step, steps - 1 - i, stop);
      data[i] = trunc ? Math.trunc(v) : v;
    }
  }
  return [data];
};

export function registerCreationKernels(registry: KernelRegistry<CpuKernel>): void {
  registry.register('full', full);
  registry.register('constant', constant);
  registry.register('arange', arange);
  registry.register('linspace', linspace);
  registerRandomKernels(registry);
}

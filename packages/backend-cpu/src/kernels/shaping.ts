import type { KernelRegistry } from '@kiln/core';
import { stridesOf } from '@kiln/core';
import type { CpuKernel } from '../cpu_tensor.js';
import { output } from './util.js';

const reshape: CpuKernel = ([x]) => [x.data.slice()];

const permute: CpuKernel<{ axes: readonly number[] }> = ([x], { axes }, [out]) => {
  const dst = output(out.dtype, out.shape);
  const inStrides = stridesOf(x.shape);
  const strides = axes.map((a) => inStrides[a]);
  const rank = out.shape.length;
  const counter = new Array<number>(rank).fill(0);
  let src = 0;
  for (let i = 0; i < dst.length; i++) {
    dst[i] = x.data[src];
    for (let axis = rank - 1; axis >= 0; axis--) {
      counter[axis]++;
      src += strides[axis];
      if (counter[axis] < out.shape[axis]) break;
      src -= strides[axis] * counter[axis];
      counter[axis] = 0;
    }
  }
  return [dst];
};

export function registerShapingKernels(registry: KernelRegistry<CpuKernel>): void {
  registry.register('reshape', reshape);
  registry.register('permute', permute);
}

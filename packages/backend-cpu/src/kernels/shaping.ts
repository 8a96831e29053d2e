import type { KernelRegistry } from '@kiln/core';
import { sizeOf, stridesOf } from '@kiln/core';
import type { CpuKernel } from '../cpu_tensor.js';
import { registerIndexingKernels } from './indexing.js';
import { registerSlicingKernels } from './slicing.js';
import { stridedOffsets } from './strided.js';
import { broadcastIndex, output } from './util.js';

const reshape: CpuKernel = ([x], _attrs, _out, into) => {
  if (!into?.[0]) return [x.data.slice()];
  into[0].set(x.data);
  return [into[0]];
};

const permute: CpuKernel<{ axes: readonly number[] }> = ([x], { axes }, [out], into) => {
  const inStrides = stridesOf(x.shape);
  const from = stridedOffsets(out.shape, axes.map((a) => inStrides[a]));
  const dst = output(out.dtype, out.shape, into?.[0]);
  for (let i = 0; i < dst.length; i++) dst[i] = x.data[from[i]];
  return [dst];
};

const broadcastTo: CpuKernel<{ shape: readonly number[] }> = ([x], _attrs, [out], into) => {
  const index = broadcastIndex(x.shape, out.shape);
  if (!index) return [x.data.slice()];
  const dst = output(out.dtype, out.shape, into?.[0]);
  for (let i = 0; i < dst.length; i++) dst[i] = x.data[index[i]];
  return [dst];
};

// For each position before the axis, append every input's contiguous block in turn.
const concat: CpuKernel<{ axis: number }> = (inputs, { axis }, [out]) => {
  const dst = output(out.dtype, out.shape);
  const outer = sizeOf(out.shape.slice(0, axis));
  const blocks = inputs.map((x) => sizeOf(x.shape.slice(axis)));
  let offset = 0;
  for (let o = 0; o < outer; o++) {
    inputs.forEach((x, k) => {
      dst.set(x.data.subarray(o * blocks[k], (o + 1) * blocks[k]), offset);
      offset += blocks[k];
    });
  }
  return [dst];
};

export function registerShapingKernels(registry: KernelRegistry<CpuKernel>): void {
  registry.register('reshape', reshape);
  registry.register('permute', permute);
  registry.register('broadcastTo', broadcastTo);
  registry.register('concat', concat);
  registerSlicingKernels(registry);
  registerIndexingKernels(registry);
}

import type { KernelRegistry } from '@kiln/core';
import { stridesOf } from '@kiln/core';
import type { CpuKernel } from '../cpu_tensor.js';
import { offsetOf, stridedOffsets } from './strided.js';
import { output } from './util.js';

type SliceAttrs = { starts: readonly number[]; ends: readonly number[]; steps: readonly number[] };
type PadAttrs = { before: readonly number[]; after: readonly number[]; value: number };

// Output element (i, j, …) reads x[starts + (i, j, …)·steps].
const slice: CpuKernel<SliceAttrs> = ([x], { starts, steps }, [out]) => {
  const dst = output(out.dtype, out.shape);
  if (dst.length === 0) return [dst];
  const strides = stridesOf(x.shape);
  const src = stridedOffsets(out.shape, strides.map((s, i) => s * steps[i]), offsetOf(starts, strides));
  for (let i = 0; i < dst.length; i++) dst[i] = x.data[src[i]];
  return [dst];
};

// Fill with value, then copy the part of x that survives cropping to its shifted place.
const pad: CpuKernel<PadAttrs> = ([x], { before, value }, [out]) => {
  const dst = output(out.dtype, out.shape).fill(value);
  const first = before.map((b) => Math.max(0, -b));
  const counts = x.shape.map((n, i) => Math.max(0, Math.min(n, out.shape[i] - before[i]) - first[i]));
  if (counts.some((n) => n === 0)) return [dst];
  const xStrides = stridesOf(x.shape);
  const outStrides = stridesOf(out.shape);
  const src = stridedOffsets(counts, xStrides, offsetOf(first, xStrides));
  const to = stridedOffsets(counts, outStrides, offsetOf(first.map((f, i) => f + before[i]), outStrides));
  for (let i = 0; i < src.length; i++) dst[to[i]] = x.data[src[i]];
  return [dst];
};

export function registerSlicingKernels(registry: KernelRegistry<CpuKernel>): void {
  registry.register('slice', slice);
  registry.register('pad', pad);
}

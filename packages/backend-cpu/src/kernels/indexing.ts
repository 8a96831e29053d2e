import type { KernelRegistry } from '@kiln/core';
import { ArgumentError, shapeToString, sizeOf, stridesOf } from '@kiln/core';
import type { CpuKernel, CpuTensor } from '../cpu_tensor.js';
import { stridedOffsets } from './strided.js';
import { output } from './util.js';

type AxisAttrs = { axis: number };

function outOfRange(op: string, x: CpuTensor, axis: number, index: number): ArgumentError {
  const n = x.shape[axis];
  const valid = n === 0 ? 'the axis is empty, so no index is valid' : `valid indices are 0..${n - 1}`;
  return new ArgumentError(`${op}: index ${index} is out of range for axis ${axis} of size ${n} (x has shape ${shapeToString(x.shape)}; ${valid})`);
}

/** Offsets into x for each index position, with index's own axis contributing 0 (added per element). */
function baseOffsets(indexShape: readonly number[], x: CpuTensor, axis: number): Int32Array {
  const strides = stridesOf(x.shape).map((s, i) => (i === axis ? 0 : s));
  return stridedOffsets(indexShape, strides);
}

// out[p] = x[p with its axis coordinate replaced by index[p]].
const gather: CpuKernel<AxisAttrs> = ([x, index], { axis }, [out]) => {
  const dst = output(out.dtype, out.shape);
  const n = x.shape[axis];
  const dense = denseAxis(x, index, axis);
  if (dense) {
    const [outer, m, inner] = dense;
    const ix = index.data;
    const xv = x.data;
    let i = 0;
    for (let o = 0; o < outer; o++) {
      const row = o * n * inner;
      for (let j = 0; j < m; j++) {
        for (let q = 0; q < inner; q++, i++) {
          const k = ix[i];
          if (k < 0 || k >= n) throw outOfRange('gather', x, axis, k);
          dst[i] = xv[row + k * inner + q];
        }
      }
    }
    return [dst];
  }
  const step = stridesOf(x.shape)[axis];
  const base = baseOffsets(index.shape, x, axis);
  for (let i = 0; i < dst.length; i++) {
    const k = index.data[i];
    if (k < 0 || k >= n) throw outOfRange('gather', x, axis, k);
    dst[i] = x.data[base[i] + k * step];
  }
  return [dst];
};

// Copies whole slices: for each outer position, the inner blocks at the selected positions.
const indexSelect: CpuKernel<AxisAttrs> = ([x, index], { axis }, [out]) => {
  const dst = output(out.dtype, out.shape);
  const n = x.shape[axis];
  for (const k of index.data) if (k < 0 || k >= n) throw outOfRange('indexSelect', x, axis, k);
  const inner = sizeOf(x.shape.slice(axis + 1));
  const outer = sizeOf(x.shape.slice(0, axis));
  const m = index.data.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const from = (o * n + index.data[j]) * inner;
      dst.set(x.data.subarray(from, from + inner), (o * m + j) * inner);
    }
  }
  return [dst];
};

const take: CpuKernel = ([x, index], _attrs, [out]) => {
  const dst = output(out.dtype, out.shape);
  const size = x.data.length;
  for (let i = 0; i < dst.length; i++) {
    const k = index.data[i];
    if (k < -size || k >= size) {
      const valid = size === 0 ? 'x is empty, so no index is valid' : `valid indices are ${-size}..${size - 1}`;
      throw new ArgumentError(`take: index ${k} is out of range for x of shape ${shapeToString(x.shape)} with ${size} elements (${valid})`);
    }
    dst[i] = x.data[k < 0 ? k + size : k];
  }
  return [dst];
};

/**
 * [outer, m, inner] of index when index has x's shape on every axis but `axis` (src, if
 * given, index's shape): the index positions then walk x's rows in order, with no offset
 * tables. Null otherwise.
 */
function denseAxis(x: CpuTensor, index: CpuTensor, axis: number, src?: CpuTensor): [number, number, number] | null {
  if (index.shape.length !== x.shape.length || index.shape.some((d, i) => i !== axis && d !== x.shape[i])) return null;
  if (src && (src.shape.length !== index.shape.length || src.shape.some((d, i) => d !== index.shape[i]))) return null;
  return [sizeOf(x.shape.slice(0, axis)), index.shape[axis], sizeOf(x.shape.slice(axis + 1))];
}

// A copy of x; then x[p with axis coordinate index[p]] += src[p] for every index position p.
const scatterAdd: CpuKernel<AxisAttrs> = ([x, index, src], { axis }) => {
  const dst = x.data.slice();
  if (index.data.length === 0) return [dst];
  const dense = denseAxis(x, index, axis, src);
  if (dense) {
    // The same additions in the same order (index positions row-major) as the general loop.
    const [outer, m, inner] = dense;
    const n = x.shape[axis];
    const ix = index.data;
    const sv = src.data;
    let i = 0;
    for (let o = 0; o < outer; o++) {
      const row = o * n * inner;
      for (let j = 0; j < m; j++) {
        for (let q = 0; q < inner; q++, i++) {
          const k = ix[i];
          if (k < 0 || k >= n) throw outOfRange('scatterAdd', x, axis, k);
          dst[row + k * inner + q] += sv[i];
        }
      }
    }
    return [dst];
  }
  const n = x.shape[axis];
  const step = stridesOf(x.shape)[axis];
  const base = baseOffsets(index.shape, x, axis);
  const from = stridedOffsets(index.shape, stridesOf(src.shape));
  for (let i = 0; i < index.data.length; i++) {
    const k = index.data[i];
    if (k < 0 || k >= n) throw outOfRange('scatterAdd', x, axis, k);
    dst[base[i] + k * step] += src.data[from[i]];
  }
  return [dst];
};

export function registerIndexingKernels(registry: KernelRegistry<CpuKernel>): void {
  registry.register('gather', gather);
  registry.register('indexSelect', indexSelect);
  registry.register('take', take);
  registry.register('scatterAdd', scatterAdd);
}

import type { TypedArray } from '@kiln/core';
import type { CpuKernel } from '../cpu_tensor.js';
import { avgWindows, clippedWindows } from './pool.js';
import { output } from './util.js';

type MaxPool2dAttrs = { kernelSize: readonly number[]; stride: readonly number[]; padding: readonly number[]; dilation: readonly number[]; ceilMode: boolean };
type AvgPool2dGradAttrs = {
  inputSize: readonly number[]; kernelSize: readonly number[]; stride: readonly number[]; padding: readonly number[];
  ceilMode: boolean; countIncludePad: boolean;
};

/**
 * The flat in-plane index of each max-pooling window's pick, by PyTorch's CPU loop exactly:
 * start at the window's first in-bounds tap, take a tap when it is greater than the best so
 * far or NaN (so ties keep the first maximum, NaN the last NaN, and an all -Infinity window the
 * first tap).
 */
export const maxPool2dIndices: CpuKernel<MaxPool2dAttrs> = ([x], { kernelSize, stride, padding, dilation }, [out]) => {
  const [batch, channels, height, width] = x.shape;
  const [outH, outW] = out.shape.slice(2);
  const [kH, kW] = kernelSize;
  const [dH, dW] = dilation;
  const dst = output('int32', out.shape);
  const xd = x.data;
  let o = 0;
  if (kH === 2 && kW === 2 && stride[0] === 2 && stride[1] === 2 && padding[0] === 0 && padding[1] === 0 && dH === 1 && dW === 1 && 2 * outH <= height && 2 * outW <= width) {
    maxPool2x2Indices(xd, dst, batch * channels, height, width, outH, outW);
    return [dst];
  }
  if (dH === 1 && dW === 1) {
    // Undilated: each window's in-bounds part, precomputed per row and column.
    const rows = clippedWindows(outH, stride[0], padding[0], kH, height);
    const cols = clippedWindows(outW, stride[1], padding[1], kW, width);
    for (let plane = 0; plane < batch * channels; plane++) {
      const base = plane * height * width;
      for (let oh = 0; oh < outH; oh++) {
        const h0 = rows.lo[oh];
        const h1 = rows.hi[oh];
        for (let ow = 0; ow < outW; ow++) {
          const w0 = cols.lo[ow];
          const w1 = cols.hi[ow];
          let best = -Infinity;
          let index = h0 * width + w0;
          for (let ih = h0; ih < h1; ih++) {
            const row = ih * width;
            for (let iw = w0; iw < w1; iw++) {
              const v = xd[base + row + iw];
              if (v > best || v !== v) {
                best = v;
                index = row + iw;
              }
            }
          }
          dst[o++] = index;
        }
      }
    }
    return [dst];
  }
  for (let plane = 0; plane < batch * channels; plane++) {
    const base = plane * height * width;
    for (let oh = 0; oh < outH; oh++) {
      let h0 = oh * stride[0] - padding[0];
      const h1 = Math.min(h0 + (kH - 1) * dH + 1, height);
      while (h0 < 0) h0 += dH;
      for (let ow = 0; ow < outW; ow++) {
        let w0 = ow * stride[1] - padding[1];
        const w1 = Math.min(w0 + (kW - 1) * dW + 1, width);
        while (w0 < 0) w0 += dW;
        let best = -Infinity;
        let index = h0 * width + w0;
        for (let ih = h0; ih < h1; ih += dH) {
          for (let iw = w0; iw < w1; iw += dW) {
            const v = xd[base + ih * width + iw];
            if (v > best || v !== v) {
              best = v;
              index = ih * width + iw;
            }
          }
        }
        dst[o++] = index;
      }
    }
  }
  return [dst];
};

/** 2×2 windows, stride 2, no padding: the common case unrolled, with the same rule (taps in row order, greater or NaN replaces). */
function maxPool2x2Indices(xd: TypedArray, dst: TypedArray, planes: number, height: number, width: number, outH: number, outW: number): void {
  let o = 0;
  for (let plane = 0; plane < planes; plane++) {
    const base = plane * height * width;
    for (let oh = 0; oh < outH; oh++) {
      const row = 2 * oh * width;
      for (let ow = 0; ow < outW; ow++) {
        const i0 = row + 2 * ow;
        const i1 = i0 + width;
        let index = i0;
        let best = xd[base + i0]; // the first tap is always taken (it is > -Infinity, NaN, or -Infinity itself)
        let v = xd[base + i0 + 1];
        if (v > best || v !== v) { best = v; index = i0 + 1; }
        v = xd[base + i1];
        if (v > best || v !== v) { best = v; index = i1; }
        v = xd[base + i1 + 1];
        if (v > best || v !== v) index = i1 + 1;
        dst[o++] = index;
      }
    }
  }
}

/**
 * The adjoint of avgPool2d: each output gradient, divided by its window's divisor (the same
 * clipping as the forward kernel: the padded window for countIncludePad, else its in-bounds
 * part), is added to every in-bounds element of the window. Float64 accumulation.
 */
export const avgPool2dGrad: CpuKernel<AvgPool2dGradAttrs> = ([g], { inputSize, kernelSize, stride, padding, countIncludePad }, [out]) => {
  const [batch, channels, outH, outW] = g.shape;
  const [height, width] = inputSize;
  const rows = avgWindows(outH, stride[0], padding[0], kernelSize[0], height);
  const cols = avgWindows(outW, stride[1], padding[1], kernelSize[1], width);
  const acc = new Float64Array(height * width);
  const dst = output(out.dtype, out.shape);
  const gd = g.data;
  let o = 0;
  for (let plane = 0; plane < batch * channels; plane++) {
    acc.fill(0);
    for (let oh = 0; oh < outH; oh++) {
      const h0 = rows.lo[oh];
      const h1 = rows.hi[oh];
      for (let ow = 0; ow < outW; ow++) {
        const w0 = cols.lo[ow];
        const w1 = cols.hi[ow];
        const gv = gd[o++];
        if (h0 >= h1 || w0 >= w1) continue;
        const share = gv / (countIncludePad ? rows.padded[oh] * cols.padded[ow] : (h1 - h0) * (w1 - w0));
        for (let ih = h0; ih < h1; ih++) {
          const row = ih * width;
          for (let iw = w0; iw < w1; iw++) acc[row + iw] += share;
        }
      }
    }
    dst.set(acc, plane * height * width);
  }
  return [dst];
};

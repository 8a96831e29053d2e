import type { TypedArray } from '@kiln/core';
import type { CpuKernel } from '../cpu_tensor.js';
import { maxPool2x2F32, wasmMaxPool2x2Available } from '../wasm/pool_max.js';
import { output } from './util.js';

type MaxPool2dAttrs = { kernelSize: readonly number[]; stride: readonly number[]; padding: readonly number[]; dilation: readonly number[]; ceilMode: boolean };
type AvgPool2dAttrs = { kernelSize: readonly number[]; stride: readonly number[]; padding: readonly number[]; ceilMode: boolean; countIncludePad: boolean };

/**
 * Max over each window of every NCHW plane; padded taps are skipped (-Infinity), NaN wins.
 * Undilated windows run a loop over each window's in-bounds part; 2×2 stride 2 is unrolled, in
 * WebAssembly SIMD for large float32 inputs (wasm/pool_max.ts).
 */
export const maxPool2d: CpuKernel<MaxPool2dAttrs> = ([x], { kernelSize, stride, padding, dilation }, [out], into) => {
  const [batch, channels, height, width] = x.shape;
  const [outH, outW] = out.shape.slice(2);
  const [kH, kW] = kernelSize;
  const dst = output(out.dtype, out.shape, into?.[0]);
  const xd = x.data;
  if (dilation[0] === 1 && dilation[1] === 1) {
    const planes = batch * channels;
    if (kH === 2 && kW === 2 && stride[0] === 2 && stride[1] === 2 && padding[0] === 0 && padding[1] === 0 && 2 * outH <= height && 2 * outW <= width) {
      if (out.dtype === 'float32' && wasmMaxPool2x2Available(planes, height, width, outH, outW)) maxPool2x2F32(xd, dst, planes, height, width, outH, outW);
      else maxPool2x2(xd, dst, planes, height, width, outH, outW);
    } else maxPoolWindows(xd, dst, batch * channels, height, width, clippedWindows(outH, stride[0], padding[0], kH, height), clippedWindows(outW, stride[1], padding[1], kW, width));
    return [dst];
  }
  let o = 0;
  for (let plane = 0; plane < batch * channels; plane++) {
    const base = plane * height * width;
    for (let oh = 0; oh < outH; oh++) {
      const h0 = oh * stride[0] - padding[0];
      for (let ow = 0; ow < outW; ow++) {
        const w0 = ow * stride[1] - padding[1];
        let best = -Infinity;
        window: for (let kh = 0; kh < kH; kh++) {
          const ih = h0 + kh * dilation[0];
          if (ih < 0 || ih >= height) continue;
          const row = base + ih * width;
          for (let kw = 0; kw < kW; kw++) {
            const iw = w0 + kw * dilation[1];
            if (iw < 0 || iw >= width) continue;
            const v = xd[row + iw];
            if (v !== v) {
              best = NaN;
              break window;
            }
            if (v > best) best = v;
          }
        }
        dst[o++] = best;
      }
    }
  }
  return [dst];
};

/** Each output position's window along one axis, clipped to the input: [lo, hi). */
export function clippedWindows(outSize: number, stride: number, pad: number, kernel: number, size: number): { lo: Int32Array; hi: Int32Array } {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const start = o * stride - pad;
    lo[o] = Math.max(start, 0);
    hi[o] = Math.min(start + kernel, size);
  }
  return { lo, hi };
}

/** Undilated max pooling over precomputed windows (a window wholly in the padding gives -Infinity). */
function maxPoolWindows(xd: TypedArray, dst: TypedArray, planes: number, height: number, width: number, rows: { lo: Int32Array; hi: Int32Array }, cols: { lo: Int32Array; hi: Int32Array }): void {
  const outH = rows.lo.length;
  const outW = cols.lo.length;
  let o = 0;
  for (let plane = 0; plane < planes; plane++) {
    const base = plane * height * width;
    for (let oh = 0; oh < outH; oh++) {
      const h0 = rows.lo[oh];
      const h1 = rows.hi[oh];
      for (let ow = 0; ow < outW; ow++) {
        const w0 = cols.lo[ow];
        const w1 = cols.hi[ow];
        let best = -Infinity;
        for (let ih = h0; ih < h1; ih++) {
          const row = base + ih * width;
          for (let iw = w0; iw < w1; iw++) {
            const v = xd[row + iw];
            if (v > best || v !== v) best = v; // NaN, once taken, is never replaced
          }
        }
        dst[o++] = best;
      }
    }
  }
}

/** 2×2 windows, stride 2, no padding: the common case, unrolled. */
function maxPool2x2(xd: TypedArray, dst: TypedArray, planes: number, height: number, width: number, outH: number, outW: number): void {
  let o = 0;
  for (let plane = 0; plane < planes; plane++) {
    const base = plane * height * width;
    for (let oh = 0; oh < outH; oh++) {
      let r0 = base + 2 * oh * width;
      let r1 = r0 + width;
      for (let ow = 0; ow < outW; ow++, r0 += 2, r1 += 2) {
        let best = xd[r0];
        let v = xd[r0 + 1];
        if (v > best || v !== v) best = v;
        v = xd[r1];
        if (v > best || v !== v) best = v;
        v = xd[r1 + 1];
        if (v > best || v !== v) best = v;
        dst[o++] = best;
      }
    }
  }
}

/** Average-pool windows along one axis, for every output position: in-bounds [lo, hi) and the extent clipped to the padded input. */
export interface AvgWindows {
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly padded: Int32Array;
}

/** The windows of an average pool along one axis (shared by the forward and gradient kernels). */
export function avgWindows(outSize: number, stride: number, pad: number, kernel: number, size: number): AvgWindows {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const padded = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const start = o * stride - pad;
    const end = Math.min(start + kernel, size + pad);
    padded[o] = end - start;
    lo[o] = Math.max(start, 0);
    hi[o] = Math.min(end, size);
  }
  return { lo, hi, padded };
}

/**
 * Mean over each window of every NCHW plane, as PyTorch's CPU kernel: the window is clipped to
 * the padded input for the divisor (countIncludePad) and to the input for the sum; a window
 * wholly in the padding gives 0. int32 divides with truncation toward zero.
 */
export const avgPool2d: CpuKernel<AvgPool2dAttrs> = ([x], { kernelSize, stride, padding, countIncludePad }, [out]) => {
  const [batch, channels, height, width] = x.shape;
  const [outH, outW] = out.shape.slice(2);
  const rows = avgWindows(outH, stride[0], padding[0], kernelSize[0], height);
  const cols = avgWindows(outW, stride[1], padding[1], kernelSize[1], width);
  const isInt = out.dtype === 'int32';
  const dst = output(out.dtype, out.shape);
  const xd = x.data;
  let o = 0;
  for (let plane = 0; plane < batch * channels; plane++) {
    const base = plane * height * width;
    for (let oh = 0; oh < outH; oh++) {
      const h0 = rows.lo[oh];
      const h1 = rows.hi[oh];
      for (let ow = 0; ow < outW; ow++) {
        const w0 = cols.lo[ow];
        const w1 = cols.hi[ow];
        if (h0 >= h1 || w0 >= w1) {
          dst[o++] = 0;
          continue;
        }
        let sum = 0;
        for (let ih = h0; ih < h1; ih++) {
          const row = base + ih * width;
          for (let iw = w0; iw < w1; iw++) sum += xd[row + iw];
        }
        const divisor = countIncludePad ? rows.padded[oh] * cols.padded[ow] : (h1 - h0) * (w1 - w0);
        dst[o++] = isInt ? Math.trunc(sum / divisor) : sum / divisor;
      }
    }
  }
  return [dst];
};

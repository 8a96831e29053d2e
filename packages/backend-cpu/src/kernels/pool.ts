import type { CpuKernel } from '../cpu_tensor.js';
import { output } from './util.js';

type MaxPool2dAttrs = { kernelSize: readonly number[]; stride: readonly number[]; padding: readonly number[]; dilation: readonly number[]; ceilMode: boolean };
type AvgPool2dAttrs = { kernelSize: readonly number[]; stride: readonly number[]; padding: readonly number[]; ceilMode: boolean; countIncludePad: boolean };

/** Max over each window of every NCHW plane; padded taps are skipped (-Infinity), NaN wins. */
export const maxPool2d: CpuKernel<MaxPool2dAttrs> = ([x], { kernelSize, stride, padding, dilation }, [out]) => {
  const [batch, channels, height, width] = x.shape;
  const [outH, outW] = out.shape.slice(2);
  const [kH, kW] = kernelSize;
  const dst = output(out.dtype, out.shape);
  const xd = x.data;
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

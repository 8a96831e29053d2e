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

/**
 * Mean over each window of every NCHW plane, as PyTorch's CPU kernel: the window is clipped to
 * the padded input for the divisor (countIncludePad) and to the input for the sum; a window
 * wholly in the padding gives 0. int32 divides with truncation toward zero.
 */
export const avgPool2d: CpuKernel<AvgPool2dAttrs> = ([x], { kernelSize, stride, padding, countIncludePad }, [out]) => {
  const [batch, channels, height, width] = x.shape;
  const [outH, outW] = out.shape.slice(2);
  const [kH, kW] = kernelSize;
  const [pH, pW] = padding;
  const isInt = out.dtype === 'int32';
  const dst = output(out.dtype, out.shape);
  const xd = x.data;
  let o = 0;
  for (let plane = 0; plane < batch * channels; plane++) {
    const base = plane * height * width;
    for (let oh = 0; oh < outH; oh++) {
      let h0 = oh * stride[0] - pH;
      let h1 = Math.min(h0 + kH, height + pH);
      const spanH = h1 - h0;
      h0 = Math.max(h0, 0);
      h1 = Math.min(h1, height);
      for (let ow = 0; ow < outW; ow++) {
        let w0 = ow * stride[1] - pW;
        let w1 = Math.min(w0 + kW, width + pW);
        const padded = spanH * (w1 - w0);
        w0 = Math.max(w0, 0);
        w1 = Math.min(w1, width);
        if (h0 >= h1 || w0 >= w1) {
          dst[o++] = 0;
          continue;
        }
        let sum = 0;
        for (let ih = h0; ih < h1; ih++) {
          const row = base + ih * width;
          for (let iw = w0; iw < w1; iw++) sum += xd[row + iw];
        }
        const divisor = countIncludePad ? padded : (h1 - h0) * (w1 - w0);
        dst[o++] = isInt ? Math.trunc(sum / divisor) : sum / divisor;
      }
    }
  }
  return [dst];
};

import type { CpuKernel } from '../cpu_tensor.js';
import { tapRanges } from './conv.js';
import { output } from './util.js';

type ConvAttrs = { stride: readonly number[]; padding: readonly number[]; dilation: readonly number[]; groups: number };
type Conv2dTransposeAttrs = ConvAttrs & { outputPadding: readonly number[] };
type Conv2dWeightGradAttrs = ConvAttrs & { kernelSize: readonly number[] };

/**
 * Transposed 2-D convolution over NCHW: every input element x[n, c, ih, iw] adds
 * x · weight[c, co, kh, kw] into out[n, group·outPerGroup + co, ih·s + kh·d − p, iw·s + kw·d − p]
 * (positions outside the output are dropped). Per output plane, accumulated in float64 (or
 * wrapping int32); the innermost loop walks one input row. `tapRanges` with the roles of input
 * and output swapped gives, per tap, the input positions that land inside the output.
 */
export const conv2dTranspose: CpuKernel<Conv2dTransposeAttrs> = ([x, w], { stride, padding, dilation, groups }, [out]) => {
  const [batch, inChannels, height, width] = x.shape;
  const [, outPerGroup, kH, kW] = w.shape;
  const [outChannels, outH, outW] = out.shape.slice(1);
  const [sH, sW] = stride;
  const rows = tapRanges(kH, outH, height, sH, padding[0], dilation[0]);
  const cols = tapRanges(kW, outW, width, sW, padding[1], dilation[1]);
  const inPerGroup = inChannels / groups;
  const isInt = out.dtype === 'int32';
  const acc = isInt ? new Int32Array(outH * outW) : new Float64Array(outH * outW);
  const dst = output(out.dtype, out.shape);
  const xd = x.data;
  for (let nb = 0; nb < batch; nb++) {
    for (let oc = 0; oc < outChannels; oc++) {
      acc.fill(0);
      const group = Math.floor(oc / outPerGroup);
      const co = oc - group * outPerGroup;
      for (let ci = 0; ci < inPerGroup; ci++) {
        const c = group * inPerGroup + ci;
        const plane = (nb * inChannels + c) * height * width;
        const wBase = (c * outPerGroup + co) * kH * kW;
        for (let kh = 0; kh < kH; kh++) {
          for (let kw = 0; kw < kW; kw++) {
            const wv = w.data[wBase + kh * kW + kw];
            const c0 = cols.lo[kw];
            const c1 = cols.hi[kw];
            for (let ih = rows.lo[kh]; ih < rows.hi[kh]; ih++) {
              const o = (ih * sH + rows.shift[kh]) * outW + cols.shift[kw];
              const src = plane + ih * width;
              if (isInt) for (let iw = c0; iw < c1; iw++) acc[o + iw * sW] += Math.imul(wv, xd[src + iw]);
              else for (let iw = c0; iw < c1; iw++) acc[o + iw * sW] += wv * xd[src + iw];
            }
          }
        }
      }
      dst.set(acc, (nb * outChannels + oc) * outH * outW);
    }
  }
  return [dst];
};

/**
 * Weight gradient of conv2d: grad[oc, c, kh, kw] = Σ over n, oh, ow of
 * gradOutput[n, oc, oh, ow] · x[n, group·C/groups + c, oh·s + kh·d − p, ow·s + kw·d − p],
 * the taps outside x (padding) contributing nothing. float64 (or wrapping int32) sums.
 */
export const conv2dWeightGrad: CpuKernel<Conv2dWeightGradAttrs> = ([x, g], { stride, padding, dilation, groups }, [out]) => {
  const [batch, channels, height, width] = x.shape;
  const [outChannels, groupChannels, kH, kW] = out.shape;
  const [outH, outW] = g.shape.slice(2);
  const [sH, sW] = stride;
  const rows = tapRanges(kH, height, outH, sH, padding[0], dilation[0]);
  const cols = tapRanges(kW, width, outW, sW, padding[1], dilation[1]);
  const outPerGroup = outChannels / groups;
  const isInt = out.dtype === 'int32';
  const dst = output(out.dtype, out.shape);
  const xd = x.data;
  const gd = g.data;
  let k = 0;
  for (let oc = 0; oc < outChannels; oc++) {
    const firstChannel = Math.floor(oc / outPerGroup) * groupChannels;
    for (let gc = 0; gc < groupChannels; gc++) {
      for (let kh = 0; kh < kH; kh++) {
        for (let kw = 0; kw < kW; kw++) {
          const c0 = cols.lo[kw];
          const c1 = cols.hi[kw];
          let sum = 0;
          for (let nb = 0; nb < batch; nb++) {
            const plane = (nb * channels + firstChannel + gc) * height * width;
            const gPlane = (nb * outChannels + oc) * outH * outW;
            for (let oh = rows.lo[kh]; oh < rows.hi[kh]; oh++) {
              const src = plane + (oh * sH + rows.shift[kh]) * width + cols.shift[kw];
              const gr = gPlane + oh * outW;
              if (isInt) for (let ow = c0; ow < c1; ow++) sum = (sum + Math.imul(gd[gr + ow], xd[src + ow * sW])) | 0;
              else for (let ow = c0; ow < c1; ow++) sum += gd[gr + ow] * xd[src + ow * sW];
            }
          }
          dst[k++] = sum;
        }
      }
    }
  }
  return [dst];
};

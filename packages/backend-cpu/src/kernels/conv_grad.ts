import type { CpuKernel } from '../cpu_tensor.js';
import { tapRanges } from './conv.js';
import { convDirectF32, directConvAvailable, type DirectConv } from '../wasm/conv_direct.js';
import { depthwiseConvAvailable, depthwiseConvF32, type DepthwiseConv } from '../wasm/conv_depthwise.js';
import { CONV_GEMM_MIN_MACS, conv2dInputGradGemm, conv2dWeightGradGemm, useConvGemm, type ConvGeometry } from './conv_gemm.js';
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
export const conv2dTranspose: CpuKernel<Conv2dTransposeAttrs> = ([x, w], { stride, padding, dilation, groups }, [out], into) => {
  const [batch, inChannels, height, width] = x.shape;
  const [, outPerGroup, kH, kW] = w.shape;
  const [outChannels, outH, outW] = out.shape.slice(1);
  if (out.dtype === 'float32' && groups === inChannels && outPerGroup === 1 && stride[0] === 1 && stride[1] === 1) {
    // Depthwise with multiplier 1: each output channel reads one input channel, weight flipped.
    const padTop = (kH - 1) * dilation[0] - padding[0];
    const padLeft = (kW - 1) * dilation[1] - padding[1];
    const depthwise: DepthwiseConv = {
      batch, channels: inChannels, height, width, outChannels, kH, kW, dH: dilation[0], dW: dilation[1], padTop, padLeft, outH, outW,
      weightIndex: (oc, kh, kw) => (oc * kH + (kH - 1 - kh)) * kW + (kW - 1 - kw),
    };
    if (padTop >= 0 && padLeft >= 0 && batch * outChannels * outH * outW * kH * kW >= CONV_GEMM_MIN_MACS && depthwiseConvAvailable(depthwise)) {
      const dst = output('float32', out.shape, into?.[0]);
      depthwiseConvF32(x.data, w.data, depthwise, dst);
      return [dst];
    }
  }
  if (out.dtype === 'float32') {
    // The conv2d whose input gradient this is: its input is our output, its output our input.
    const geometry: ConvGeometry = {
      batch, channels: outChannels, height: outH, width: outW, outChannels: inChannels, kH, kW, outH: height, outW: width, stride, padding, dilation, groups,
    };
    if (useConvGemm(geometry)) {
      const dst = output('float32', out.shape, into?.[0]) as Float32Array;
      // Stride 1: a plain convolution of x, padded by (k − 1)·d − p, with the weight flipped
      // and its channel axes swapped.
      const padTop = (kH - 1) * dilation[0] - padding[0];
      const padLeft = (kW - 1) * dilation[1] - padding[1];
      if (groups === 1 && stride[0] === 1 && stride[1] === 1 && padTop >= 0 && padLeft >= 0) {
        const direct: DirectConv = {
          batch, channels: inChannels, height, width, outChannels, kH, kW, dH: dilation[0], dW: dilation[1], padTop, padLeft, outH, outW,
          weightIndex: (oc, c, kh, kw) => ((c * outChannels + oc) * kH + (kH - 1 - kh)) * kW + (kW - 1 - kw),
        };
        if (directConvAvailable(direct)) {
          convDirectF32(x.data, w.data, direct, dst);
          return [dst];
        }
      }
      conv2dInputGradGemm(x.data, w.data, geometry, dst);
      return [dst];
    }
  }
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
export const conv2dWeightGrad: CpuKernel<Conv2dWeightGradAttrs> = ([x, g], { stride, padding, dilation, groups }, [out], into) => {
  const [batch, channels, height, width] = x.shape;
  const [outChannels, groupChannels, kH, kW] = out.shape;
  const [outH, outW] = g.shape.slice(2);
  if (out.dtype === 'float32') {
    const geometry: ConvGeometry = { batch, channels, height, width, outChannels, kH, kW, outH, outW, stride, padding, dilation, groups };
    if (useConvGemm(geometry)) {
      const dst = output('float32', out.shape, into?.[0]) as Float32Array;
      conv2dWeightGradGemm(x.data, g.data, geometry, dst);
      return [dst];
    }
  }
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

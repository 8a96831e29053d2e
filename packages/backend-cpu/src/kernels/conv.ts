import type { CpuKernel } from '../cpu_tensor.js';
import { convDirectF32, directConvAvailable, type DirectConv } from '../wasm/conv_direct.js';
import { depthwiseConvAvailable, depthwiseConvF32, type DepthwiseConv } from '../wasm/conv_depthwise.js';
import { allFinite, winogradConvAvailable, winogradConvF32, type WinogradConv } from '../wasm/winograd.js';
import { CONV_GEMM_MIN_MACS, conv2dGemm, useConvGemm, type ConvGeometry } from './conv_gemm.js';
import { output } from './util.js';

type Conv2dAttrs = { stride: readonly number[]; padding: readonly number[]; dilation: readonly number[]; groups: number };

/**
 * Which float32 convolutions run Winograd F(2×2, 3×3) (wasm/winograd.ts) instead of the direct
 * kernel: 3×3, stride 1, undilated, one group, at least `minInChannels` input and
 * `minOutChannels` output channels and `minOutputs` output pixels per image, all values finite (measured in
 * docs/design/cpu-wasm.md, "Winograd": with fewer output channels the transforms cost more than
 * the multiplies saved). `enabled: false` turns it off (tests and A/B runs).
 */
export const WINOGRAD_SELECTION = { enabled: true, minInChannels: 4, minOutChannels: 16, minOutputs: 4 };

/** Whether `conv2d` runs this geometry (already on the stride-1, groups-1 fast path) by Winograd. */
function useWinograd(g: ConvGeometry): boolean {
  const s = WINOGRAD_SELECTION;
  return s.enabled && g.kH === 3 && g.kW === 3 && g.dilation[0] === 1 && g.dilation[1] === 1 &&
    g.channels >= s.minInChannels && g.outChannels >= s.minOutChannels && g.outH * g.outW >= s.minOutputs;
}

/**
 * For each kernel tap along one spatial axis, the range of output positions whose input
 * position `o·stride + tap·dilation - pad` lies inside [0, size): [lo, hi) and the input offset
 * `tap·dilation - pad`. Precomputed so the inner loops need no bounds checks.
 */
export function tapRanges(kernel: number, size: number, outSize: number, stride: number, pad: number, dilation: number) {
  const lo = new Int32Array(kernel);
  const hi = new Int32Array(kernel);
  const shift = new Int32Array(kernel);
  for (let t = 0; t < kernel; t++) {
    const s = t * dilation - pad;
    shift[t] = s;
    lo[t] = Math.min(outSize, Math.max(0, Math.ceil(-s / stride)));
    hi[t] = Math.max(lo[t], Math.min(outSize, Math.floor((size - 1 - s) / stride) + 1));
  }
  return { lo, hi, shift };
}

/**
 * 2-D convolution over NCHW with zero padding. Large float32 convolutions run in WebAssembly
 * SIMD with float32 accumulation — stride 1: Winograd F(2×2, 3×3) for 3×3 kernels with enough
 * channels (wasm/winograd.ts, see `WINOGRAD_SELECTION`), the direct kernel (wasm/conv_direct.ts) or, one
 * input channel per group, the depthwise one (wasm/conv_depthwise.ts); else im2col + gemm
 * (conv_gemm.ts). The rest run the direct JS kernel:
 * per output plane, each (input channel, tap) adds weight · shifted input into an accumulator
 * plane (float64 for floats, wrapping int32 for int32), the innermost loop a strided walk along
 * one input row.
 */
export const conv2d: CpuKernel<Conv2dAttrs> = ([x, w], { stride, padding, dilation, groups }, [out], into) => {
  const [batch, channels, height, width] = x.shape;
  const [outChannels, groupChannels, kH, kW] = w.shape;
  const [outH, outW] = out.shape.slice(2);
  const [sH, sW] = stride;
  if (out.dtype === 'float32') {
    if (groupChannels === 1 && groups > 1 && sH === 1 && sW === 1 && batch * outChannels * outH * outW * kH * kW >= CONV_GEMM_MIN_MACS) {
      const depthwise: DepthwiseConv = {
        batch, channels, height, width, outChannels, kH, kW, dH: dilation[0], dW: dilation[1], padTop: padding[0], padLeft: padding[1], outH, outW,
        weightIndex: (oc, kh, kw) => (oc * kH + kh) * kW + kw,
      };
      if (depthwiseConvAvailable(depthwise)) {
        const dst = output('float32', out.shape, into?.[0]);
        depthwiseConvF32(x.data, w.data, depthwise, dst);
        return [dst];
      }
    }
    const geometry: ConvGeometry = { batch, channels, height, width, outChannels, kH, kW, outH, outW, stride, padding, dilation, groups };
    if (useConvGemm(geometry)) {
      const dst = output('float32', out.shape, into?.[0]) as Float32Array;
      if (groups === 1 && sH === 1 && sW === 1) {
        if (useWinograd(geometry)) {
          const wg: WinogradConv = { batch, channels, height, width, outChannels, padTop: padding[0], padLeft: padding[1], outH, outW };
          if (winogradConvAvailable(wg) && allFinite(w.data, outChannels * channels * 9) && allFinite(x.data, batch * channels * height * width)) {
            winogradConvF32(x.data, w.data, wg, dst);
            return [dst];
          }
        }
        const direct: DirectConv = {
          batch, channels, height, width, outChannels, kH, kW, dH: dilation[0], dW: dilation[1], padTop: padding[0], padLeft: padding[1], outH, outW,
          weightIndex: (oc, c, kh, kw) => ((oc * channels + c) * kH + kh) * kW + kw,
        };
        if (directConvAvailable(direct)) {
          convDirectF32(x.data, w.data, direct, dst);
          return [dst];
        }
      }
      conv2dGemm(x.data, w.data, geometry, dst);
      return [dst];
    }
  }
  const rows = tapRanges(kH, height, outH, sH, padding[0], dilation[0]);
  const cols = tapRanges(kW, width, outW, sW, padding[1], dilation[1]);
  const outPerGroup = outChannels / groups;
  const isInt = out.dtype === 'int32';
  const acc = isInt ? new Int32Array(outH * outW) : new Float64Array(outH * outW);
  const dst = output(out.dtype, out.shape);
  const xd = x.data;
  for (let nb = 0; nb < batch; nb++) {
    for (let oc = 0; oc < outChannels; oc++) {
      acc.fill(0);
      const firstChannel = Math.floor(oc / outPerGroup) * groupChannels;
      for (let gc = 0; gc < groupChannels; gc++) {
        const plane = (nb * channels + firstChannel + gc) * height * width;
        const wBase = (oc * groupChannels + gc) * kH * kW;
        for (let kh = 0; kh < kH; kh++) {
          for (let kw = 0; kw < kW; kw++) {
            const wv = w.data[wBase + kh * kW + kw];
            const c0 = cols.lo[kw];
            const c1 = cols.hi[kw];
            for (let oh = rows.lo[kh]; oh < rows.hi[kh]; oh++) {
              const src = plane + (oh * sH + rows.shift[kh]) * width + cols.shift[kw];
              const o = oh * outW;
              if (isInt) for (let ow = c0; ow < c1; ow++) acc[o + ow] += Math.imul(wv, xd[src + ow * sW]);
              else for (let ow = c0; ow < c1; ow++) acc[o + ow] += wv * xd[src + ow * sW];
            }
          }
        }
      }
      dst.set(acc, (nb * outChannels + oc) * outH * outW);
    }
  }
  return [dst];
};

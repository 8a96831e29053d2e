import type { KernelRegistry } from '@kiln/core';
import type { WebGPUKernel } from '../kernel.js';
import { WGSL_TYPE } from '../layout.js';
import { convImplicitGemm, convTile } from './conv_gemm.js';
import { WGSL_MATH } from './wgsl_math.js';

type Conv2dAttrs = { stride: readonly number[]; padding: readonly number[]; dilation: readonly number[]; groups: number };
type MaxPool2dAttrs = { kernelSize: readonly number[]; stride: readonly number[]; padding: readonly number[]; dilation: readonly number[] };
type AvgPool2dAttrs = { kernelSize: readonly number[]; stride: readonly number[]; padding: readonly number[]; countIncludePad: boolean };

/** WGSL: output element `index` of an [N, C, OH, OW] tensor as (plane, oh, ow), OH/OW at params 1, 2. */
const OUT_POSITION = [
  '  let OH = param(1u); let OW = param(2u);',
  '  let ow = index % OW;',
  '  let oh = (index / OW) % OH;',
  '  let plane = index / (OW * OH);',
].join('\n');

/**
 * Direct 2-D convolution, one invocation per output element, summing its channel group's
 * taps in (c, kh, kw) order. Grouped (depthwise) and int32 convs run here; float32 groups = 1
 * convs run as the tiled implicit GEMM (conv_gemm.ts).
 */
export const conv2dDirect: WebGPUKernel<Conv2dAttrs> = (ctx, [x, w], { stride, padding, dilation, groups }, [out]) => {
  const [, channels, height, width] = x.shape;
  const [outC, cg, kH, kW] = w.shape;
  const [outH, outW] = out.shape.slice(2);
  const t = WGSL_TYPE[out.dtype];
  const body = [
    OUT_POSITION,
    '  let C = param(3u); let H = param(4u); let W = param(5u); let OC = param(6u); let CG = param(7u); let KH = param(8u); let KW = param(9u);',
    '  let n = plane / OC; let oc = plane % OC;',
    '  let c0 = (oc / (OC / param(16u))) * CG;',
    '  let h0 = i32(oh * param(10u)) - i32(param(12u));',
    '  let w0 = i32(ow * param(11u)) - i32(param(13u));',
    `  var acc = ${t}(0);`,
    '  for (var c = 0u; c < CG; c++) {',
    '    let xPlane = (n * C + c0 + c) * H;',
    '    let wBase = (oc * CG + c) * KH;',
    '    for (var kh = 0u; kh < KH; kh++) {',
    '      let ih = h0 + i32(kh * param(14u));',
    '      if (ih < 0 || ih >= i32(H)) { continue; }',
    '      for (var kw = 0u; kw < KW; kw++) {',
    '        let iw = w0 + i32(kw * param(15u));',
    '        if (iw < 0 || iw >= i32(W)) { continue; }',
    '        acc += in0[(xPlane + u32(ih)) * W + u32(iw)] * in1[(wBase + kh) * KW + kw];',
    '      }',
    '    }',
    '  }',
    '  out0[index] = acc;',
  ].join('\n');
  const params = [outH, outW, channels, height, width, outC, cg, kH, kW, stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1], groups];
  ctx.launch({ op: 'conv2d', body, inputs: [x, w], outputs: [out], params, threads: out.storage.size });
};

/** conv2d: the implicit-GEMM kernel for float32 with groups = 1 where the device has room for its tiles, else direct. */
export const conv2d: WebGPUKernel<Conv2dAttrs> = (ctx, inputs, attrs, outputs) => {
  const bm = convTile(ctx);
  if (attrs.groups === 1 && outputs[0].dtype === 'float32' && bm > 0) convImplicitGemm(ctx, inputs[0], inputs[1], outputs[0], attrs, bm);
  else conv2dDirect(ctx, inputs, attrs, outputs);
};

// Padded taps are skipped; NaN wins and stays (the CPU's rule).
const maxPool2d: WebGPUKernel<MaxPool2dAttrs> = (ctx, [x], { kernelSize, stride, padding, dilation }, [out]) => {
  const [, , height, width] = x.shape;
  const [outH, outW] = out.shape.slice(2);
  const float = x.dtype === 'float32';
  const t = WGSL_TYPE[x.dtype];
  const body = [
    OUT_POSITION,
    '  let H = param(3u); let W = param(4u);',
    '  let h0 = i32(oh * param(7u)) - i32(param(9u));',
    '  let w0 = i32(ow * param(8u)) - i32(param(10u));',
    `  var best: ${t} = ${float ? '-k_inf()' : 'i32(-2147483647 - 1)'};`,
    '  for (var kh = 0u; kh < param(5u); kh++) {',
    '    let ih = h0 + i32(kh * param(11u));',
    '    if (ih < 0 || ih >= i32(H)) { continue; }',
    '    for (var kw = 0u; kw < param(6u); kw++) {',
    '      let iw = w0 + i32(kw * param(12u));',
    '      if (iw < 0 || iw >= i32(W)) { continue; }',
    '      let v = in0[(plane * H + u32(ih)) * W + u32(iw)];',
    float ? '      if (k_isnan(best)) { continue; }\n      if (k_isnan(v) || v > best) { best = v; }' : '      best = max(best, v);',
    '    }',
    '  }',
    '  out0[index] = best;',
  ].join('\n');
  const params = [outH, outW, height, width, kernelSize[0], kernelSize[1], stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1]];
  ctx.launch({ op: 'maxPool2d', body, helpers: float ? WGSL_MATH : '', inputs: [x], outputs: [out], params, threads: out.storage.size });
};

// The window clipped to the input for the sum and to the padded input for the divisor
// (countIncludePad), as PyTorch's CPU kernel; a window wholly in the padding gives 0.
const avgPool2d: WebGPUKernel<AvgPool2dAttrs> = (ctx, [x], { kernelSize, stride, padding, countIncludePad }, [out]) => {
  const [, , height, width] = x.shape;
  const [outH, outW] = out.shape.slice(2);
  const t = WGSL_TYPE[x.dtype];
  const body = [
    OUT_POSITION,
    '  let H = i32(param(3u)); let W = i32(param(4u)); let KH = i32(param(5u)); let KW = i32(param(6u));',
    '  let PH = i32(param(9u)); let PW = i32(param(10u));',
    '  let hs = i32(oh * param(7u)) - PH; let ws = i32(ow * param(8u)) - PW;',
    '  let he = min(hs + KH, H + PH); let we = min(ws + KW, W + PW);',
    '  let h0 = max(hs, 0); let h1 = min(he, H); let w0 = max(ws, 0); let w1 = min(we, W);',
    `  if (h0 >= h1 || w0 >= w1) { out0[index] = ${t}(0); return; }`,
    `  var sum = ${t}(0);`,
    '  for (var ih = h0; ih < h1; ih++) {',
    '    for (var iw = w0; iw < w1; iw++) { sum += in0[(plane * u32(H) + u32(ih)) * u32(W) + u32(iw)]; }',
    '  }',
    `  let divisor = select((h1 - h0) * (w1 - w0), (he - hs) * (we - ws), param(11u) != 0u);`,
    `  out0[index] = sum / ${t}(divisor);`,
  ].join('\n');
  const params = [outH, outW, height, width, kernelSize[0], kernelSize[1], stride[0], stride[1], padding[0], padding[1], countIncludePad ? 1 : 0];
  ctx.launch({ op: 'avgPool2d', body, inputs: [x], outputs: [out], params, threads: out.storage.size });
};

export function registerConvKernels(registry: KernelRegistry<WebGPUKernel>): void {
  registry.register('conv2d', conv2d);
  registry.register('maxPool2d', maxPool2d);
  registry.register('avgPool2d', avgPool2d);
}

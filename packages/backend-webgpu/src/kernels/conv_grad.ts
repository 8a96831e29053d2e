import type { KernelRegistry } from '@kiln/core';
import type { WebGPUKernel } from '../kernel.js';
import { WGSL_TYPE } from '../layout.js';
import { WGSL_MATH } from './wgsl_math.js';
import { convImplicitGemm, convTile } from './conv_gemm.js';

type ConvAttrs = { stride: readonly number[]; padding: readonly number[]; dilation: readonly number[]; groups: number };
type PoolAttrs = { kernelSize: readonly number[]; stride: readonly number[]; padding: readonly number[]; dilation: readonly number[] };
type AvgPool2dGradAttrs = { inputSize: readonly number[]; kernelSize: readonly number[]; stride: readonly number[]; padding: readonly number[]; countIncludePad: boolean };

/** WGSL: element `index` of an [N, C, H, W] tensor as (n, c, y, x), with C, H, W at params 1–3. */
const POSITION = [
  '  let C = param(1u); let H = param(2u); let W = param(3u);',
  '  let px = index % W;',
  '  let py = (index / W) % H;',
  '  let pc = (index / (W * H)) % C;',
  '  let pn = index / (W * H * C);',
].join('\n');

/**
 * Transposed convolution as a gather: output (n, oc, oh, ow) sums x[n, c, ih, iw]·w[c, co, kh, kw]
 * over the taps with ih·s + kh·d − p = oh (and likewise for w), in (c, kh, kw) order.
 */
export const conv2dTransposeDirect: WebGPUKernel<ConvAttrs> = (ctx, [x, w], { stride, padding, dilation, groups }, [out]) => {
  const [, inC, inH, inW] = x.shape;
  const [, outPerGroup, kH, kW] = w.shape;
  const t = WGSL_TYPE[out.dtype];
  const body = [
    POSITION,
    '  let IC = param(4u); let IH = i32(param(5u)); let IW = i32(param(6u)); let OPG = param(7u); let KH = param(8u); let KW = param(9u);',
    '  let SH = i32(param(10u)); let SW = i32(param(11u)); let PH = i32(param(12u)); let PW = i32(param(13u)); let DH = i32(param(14u)); let DW = i32(param(15u));',
    '  let IPG = IC / param(16u);',
    '  let group = pc / OPG; let co = pc % OPG;',
    `  var acc = ${t}(0);`,
    '  for (var ci = 0u; ci < IPG; ci++) {',
    '    let c = group * IPG + ci;',
    '    for (var kh = 0u; kh < KH; kh++) {',
    '      let th = i32(py) + PH - i32(kh) * DH;',
    '      if (th < 0 || th % SH != 0 || th / SH >= IH) { continue; }',
    '      for (var kw = 0u; kw < KW; kw++) {',
    '        let tw = i32(px) + PW - i32(kw) * DW;',
    '        if (tw < 0 || tw % SW != 0 || tw / SW >= IW) { continue; }',
    '        acc += in0[((pn * IC + c) * u32(IH) + u32(th / SH)) * u32(IW) + u32(tw / SW)] * in1[((c * OPG + co) * KH + kh) * KW + kw];',
    '      }',
    '    }',
    '  }',
    '  out0[index] = acc;',
  ].join('\n');
  const [outC, outH, outW] = out.shape.slice(1);
  const params = [outC, outH, outW, inC, inH, inW, outPerGroup, kH, kW, stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1], groups];
  ctx.launch({ op: 'conv2dTranspose', body, inputs: [x, w], outputs: [out], params, threads: out.storage.size });
};

/** conv2dTranspose: the implicit GEMM (conv_gemm.ts) for float32 with groups = 1 where the tiles fit, else the gather. */
export const conv2dTranspose: WebGPUKernel<ConvAttrs> = (ctx, inputs, attrs, outputs) => {
  const bm = convTile(ctx);
  if (attrs.groups === 1 && outputs[0].dtype === 'float32' && bm > 0) convImplicitGemm(ctx, inputs[0], inputs[1], outputs[0], attrs, bm, 'transpose');
  else conv2dTransposeDirect(ctx, inputs, attrs, outputs);
};

/**
 * Weight gradient: a workgroup per weight element (oc, gc, kh, kw), its lanes summing
 * gradOutput·x over strided shares of the (n, oh, ow) positions (taps in the padding contribute
 * nothing), then a tree in workgroup memory — the sum runs over batch × output positions,
 * far longer than one invocation should loop.
 */
export const conv2dWeightGradDirect: WebGPUKernel<ConvAttrs> = (ctx, [x, g], { stride, padding, dilation, groups }, [out]) => {
  const [batch, channels, height, width] = x.shape;
  const [outC, groupC, kH, kW] = out.shape;
  const [outH, outW] = g.shape.slice(2);
  const t = WGSL_TYPE[out.dtype];
  const positions = batch * outH * outW;
  const wg = ctx.clampWorkgroup(positions <= 64 ? 64 : 256);
  const body = [
    '  let C = param(1u); let H = param(2u); let W = param(3u);',
    '  let kw = i32(index % W); let kh = i32((index / W) % H); let gc = (index / (W * H)) % C; let oc = index / (W * H * C);',
    '  let XC = param(5u); let XH = i32(param(6u)); let XW = i32(param(7u)); let OH = param(8u); let OW = param(9u);',
    '  let SH = param(10u); let SW = param(11u); let PH = i32(param(12u)); let PW = i32(param(13u)); let DH = i32(param(14u)); let DW = i32(param(15u));',
    '  let OC = param(16u); let OPG = OC / param(17u);',
    '  let xc = (oc / OPG) * C + gc;',
    `  var acc = ${t}(0);`,
    `  for (var p = lane; p < param(4u) * OH * OW; p += ${wg}u) {`,
    '    let ow = p % OW; let oh = (p / OW) % OH; let n = p / (OW * OH);',
    '    let ih = i32(oh * SH) + kh * DH - PH;',
    '    let iw = i32(ow * SW) + kw * DW - PW;',
    '    if (ih < 0 || ih >= XH || iw < 0 || iw >= XW) { continue; }',
    '    acc += in1[((n * OC + oc) * OH + oh) * OW + ow] * in0[((n * XC + xc) * u32(XH) + u32(ih)) * u32(XW) + u32(iw)];',
    '  }',
    '  partials[lane] = acc;',
    '  workgroupBarrier();',
    `  for (var s = ${wg / 2}u; s > 0u; s = s >> 1u) {`,
    '    if (lane < s) { partials[lane] = partials[lane] + partials[lane + s]; }',
    '    workgroupBarrier();',
    '  }',
    '  if (lane == 0u) { out0[index] = partials[0]; }',
  ].join('\n');
  const params = [groupC, kH, kW, batch, channels, height, width, outH, outW, stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1], outC, groups];
  ctx.launch({
    op: 'conv2dWeightGrad', body, declarations: `var<workgroup> partials: array<${t}, ${wg}>;`,
    inputs: [x, g], outputs: [out], params, threads: out.storage.size, workgroupSize: wg, perWorkgroup: true,
  });
};

/**
 * conv2dWeightGrad: for float32 with groups = 1, the implicit GEMM dw = g · patchesᵀ, reducing
 * over batch × output positions inside each workgroup. Its grid is only (OC/BM)·(taps/BM)
 * workgroups, so the tile is the largest (up to what the device allows) that still gives 32
 * of them, down to 16. Grouped and int32: the per-weight tree.
 */
export const conv2dWeightGrad: WebGPUKernel<ConvAttrs> = (ctx, inputs, attrs, outputs) => {
  const out = outputs[0];
  let bm = convTile(ctx);
  const groupsOf = (t: number) => Math.ceil(out.shape[0] / t) * Math.ceil((out.shape[1] * out.shape[2] * out.shape[3]) / t);
  while (bm > 16 && groupsOf(bm) < 32) bm /= 2;
  if (attrs.groups === 1 && out.dtype === 'float32' && bm > 0) convImplicitGemm(ctx, inputs[0], inputs[1], out, attrs, bm, 'weightGrad');
  else conv2dWeightGradDirect(ctx, inputs, attrs, outputs);
};

// PyTorch's CPU loop: from the window's first in-bounds tap, take a tap that is greater than
// the best so far or NaN — ties keep the first maximum, NaN the last NaN.
const maxPool2dIndices: WebGPUKernel<PoolAttrs> = (ctx, [x], { kernelSize, stride, padding, dilation }, [out]) => {
  const [, , height, width] = x.shape;
  const float = x.dtype === 'float32';
  const take = float ? 'v > best || k_isnan(v)' : '!found || v > best';
  const body = [
    POSITION,
    '  let XH = i32(param(4u)); let XW = i32(param(5u)); let DH = i32(param(12u)); let DW = i32(param(13u));',
    '  var h0 = i32(py * param(8u)) - i32(param(10u));',
    '  let h1 = min(h0 + (i32(param(6u)) - 1) * DH + 1, XH);',
    '  while (h0 < 0) { h0 += DH; }',
    '  var w0 = i32(px * param(9u)) - i32(param(11u));',
    '  let w1 = min(w0 + (i32(param(7u)) - 1) * DW + 1, XW);',
    '  while (w0 < 0) { w0 += DW; }',
    '  let base = (pn * C + pc) * u32(XH * XW);',
    `  var best = ${float ? '-k_inf()' : '0'};`,
    '  var found = false;',
    '  var pick = h0 * XW + w0;',
    '  for (var ih = h0; ih < h1; ih += DH) {',
    '    for (var iw = w0; iw < w1; iw += DW) {',
    '      let v = in0[base + u32(ih * XW + iw)];',
    `      if (${take}) { best = v; pick = ih * XW + iw; }`,
    '      found = true;',
    '    }',
    '  }',
    '  out0[index] = pick;',
  ].join('\n');
  const [channels, outH, outW] = out.shape.slice(1);
  const params = [channels, outH, outW, height, width, kernelSize[0], kernelSize[1], stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1]];
  ctx.launch({ op: 'maxPool2dIndices', body, helpers: float ? WGSL_MATH : '', inputs: [x], outputs: [out], params, threads: out.storage.size });
};

/**
 * The adjoint of avgPool2d as a gather: input element (ih, iw) sums, over the windows that
 * contain it (oh ∈ [⌈(ih + p − k + 1)/s⌉, ⌊(ih + p)/s⌋]), each window's gradient divided by
 * its divisor (the forward kernel's clipping rules).
 */
const avgPool2dGrad: WebGPUKernel<AvgPool2dGradAttrs> = (ctx, [g], { kernelSize, stride, padding, countIncludePad }, [out]) => {
  const [, channels, height, width] = out.shape;
  const [outH, outW] = g.shape.slice(2);
  const t = WGSL_TYPE[out.dtype];
  const body = [
    POSITION,
    '  let OH = i32(param(4u)); let OW = i32(param(5u)); let KH = i32(param(6u)); let KW = i32(param(7u));',
    '  let SH = i32(param(8u)); let SW = i32(param(9u)); let PH = i32(param(10u)); let PW = i32(param(11u));',
    '  let Hi = i32(H); let Wi = i32(W); let y = i32(py); let x = i32(px);',
    '  let ohLo = max(0, (y + PH - KH + SH) / SH); let ohHi = min(OH - 1, (y + PH) / SH);',
    '  let owLo = max(0, (x + PW - KW + SW) / SW); let owHi = min(OW - 1, (x + PW) / SW);',
    `  var acc = ${t}(0);`,
    '  for (var oh = ohLo; oh <= ohHi; oh++) {',
    '    let hs = oh * SH - PH; let he = min(hs + KH, Hi + PH);',
    '    if (y < hs || y >= he) { continue; }',
    '    let h0 = max(hs, 0); let h1 = min(he, Hi);',
    '    for (var ow = owLo; ow <= owHi; ow++) {',
    '      let ws = ow * SW - PW; let we = min(ws + KW, Wi + PW);',
    '      if (x < ws || x >= we) { continue; }',
    '      let w0 = max(ws, 0); let w1 = min(we, Wi);',
    '      let divisor = select((h1 - h0) * (w1 - w0), (he - hs) * (we - ws), param(12u) != 0u);',
    `      acc += in0[((pn * C + pc) * u32(OH) + u32(oh)) * u32(OW) + u32(ow)] / ${t}(divisor);`,
    '    }',
    '  }',
    '  out0[index] = acc;',
  ].join('\n');
  const params = [channels, height, width, outH, outW, kernelSize[0], kernelSize[1], stride[0], stride[1], padding[0], padding[1], countIncludePad ? 1 : 0];
  ctx.launch({ op: 'avgPool2dGrad', body, inputs: [g], outputs: [out], params, threads: out.storage.size });
};

export function registerConvGradKernels(registry: KernelRegistry<WebGPUKernel>): void {
  registry.register('conv2dTranspose', conv2dTranspose);
  registry.register('conv2dWeightGrad', conv2dWeightGrad);
  registry.register('maxPool2dIndices', maxPool2dIndices);
  registry.register('avgPool2dGrad', avgPool2dGrad);
}

import { getOp, KernelRegistry } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { WebGPUBackend, type WebGPUKernel } from '../src/index.js';
import { conv2d } from '../src/kernels/conv.js';
import { conv2dTranspose, conv2dWeightGrad } from '../src/kernels/conv_grad.js';
import { convImplicitGemm, convTile } from '../src/kernels/conv_gemm.js';
import { testBackend } from './helpers/device.js';

// The implicit-GEMM conv2d at every tile size it can pick, on shapes that leave partial tiles on
// both GEMM edges and a k that is no multiple of the 16-deep step, against a float64 loop.
const gpu = await testBackend;

interface Case { x: number[]; w: number[]; stride: number[]; padding: number[]; dilation: number[] }

function reference(xs: number[], ws: number[], x: Float32Array, w: Float32Array, c: Case): { shape: number[]; data: Float64Array } {
  const [N, C, H, W] = xs;
  const [OC, , KH, KW] = ws;
  const OH = Math.floor((H + 2 * c.padding[0] - c.dilation[0] * (KH - 1) - 1) / c.stride[0]) + 1;
  const OW = Math.floor((W + 2 * c.padding[1] - c.dilation[1] * (KW - 1) - 1) / c.stride[1]) + 1;
  const out = new Float64Array(N * OC * OH * OW);
  for (let n = 0; n < N; n++) for (let o = 0; o < OC; o++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    let s = 0;
    for (let ch = 0; ch < C; ch++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const ih = oh * c.stride[0] - c.padding[0] + kh * c.dilation[0];
      const iw = ow * c.stride[1] - c.padding[1] + kw * c.dilation[1];
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      s += x[((n * C + ch) * H + ih) * W + iw] * w[((o * C + ch) * KH + kh) * KW + kw];
    }
    out[((n * OC + o) * OH + oh) * OW + ow] = s;
  }
  return { shape: [N, OC, OH, OW], data: out };
}

/** conv2dTranspose as a float64 scatter: x[n, c, ih, iw]·w[c, co, kh, kw] lands on (ih·s − p + kh·d, …); one extra output row and column (output padding 1). */
function transposeReference(xs: number[], ws: number[], x: Float32Array, w: Float32Array, c: Case): { shape: number[]; data: Float64Array } {
  const [N, C, H, W] = xs;
  const [, OC, KH, KW] = ws;
  const OH = (H - 1) * c.stride[0] - 2 * c.padding[0] + c.dilation[0] * (KH - 1) + 2;
  const OW = (W - 1) * c.stride[1] - 2 * c.padding[1] + c.dilation[1] * (KW - 1) + 2;
  const out = new Float64Array(N * OC * OH * OW);
  for (let n = 0; n < N; n++) for (let ch = 0; ch < C; ch++) for (let ih = 0; ih < H; ih++) for (let iw = 0; iw < W; iw++) {
    for (let o = 0; o < OC; o++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const oh = ih * c.stride[0] - c.padding[0] + kh * c.dilation[0];
      const ow = iw * c.stride[1] - c.padding[1] + kw * c.dilation[1];
      if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
      out[((n * OC + o) * OH + oh) * OW + ow] += x[((n * C + ch) * H + ih) * W + iw] * w[((ch * OC + o) * KH + kh) * KW + kw];
    }
  }
  return { shape: [N, OC, OH, OW], data: out };
}

/** conv2dWeightGrad as a float64 loop: dw[o, c, kh, kw] = Σ_{n, oh, ow} g[n, o, oh, ow]·x[n, c, oh·s − p + kh·d, …]; g is the conv's output. */
function weightGradReference(xs: number[], ws: number[], x: Float32Array, g: Float32Array, c: Case): { shape: number[]; data: Float64Array } {
  const [N, C, H, W] = xs;
  const [OC, , KH, KW] = ws;
  const OH = Math.floor((H + 2 * c.padding[0] - c.dilation[0] * (KH - 1) - 1) / c.stride[0]) + 1;
  const OW = Math.floor((W + 2 * c.padding[1] - c.dilation[1] * (KW - 1) - 1) / c.stride[1]) + 1;
  const out = new Float64Array(OC * C * KH * KW);
  for (let o = 0; o < OC; o++) for (let ch = 0; ch < C; ch++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
    let s = 0;
    for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      const ih = oh * c.stride[0] - c.padding[0] + kh * c.dilation[0];
      const iw = ow * c.stride[1] - c.padding[1] + kw * c.dilation[1];
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      s += g[((n * OC + o) * OH + oh) * OW + ow] * x[((n * C + ch) * H + ih) * W + iw];
    }
    out[((o * C + ch) * KH + kh) * KW + kw] = s;
  }
  return { shape: [OC, C, KH, KW], data: out };
}

/** A backend on the test device whose only kernel is conv2d at tile edge `bm` (0: the registered choice). */
function backendWithTile(device: GPUDevice, bm: number): WebGPUBackend {
  const kernels = new KernelRegistry<WebGPUKernel>(`webgpu-conv${bm}`);
  kernels.register('conv2d', bm === 0 ? conv2d : (ctx, [x, w], attrs, [out]) => convImplicitGemm(ctx, x, w, out, attrs, bm));
  kernels.register('conv2dTranspose', bm === 0 ? conv2dTranspose : (ctx, [x, w], attrs, [out]) => convImplicitGemm(ctx, x, w, out, attrs, bm, 'transpose'));
  kernels.register('conv2dWeightGrad', bm === 0 ? conv2dWeightGrad : (ctx, [x, g], attrs, [out]) => convImplicitGemm(ctx, x, g, out, attrs, bm, 'weightGrad'));
  return new WebGPUBackend(device, kernels);
}

let seed = 7;
const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1);

describe.skipIf(!gpu)('tiled (implicit-GEMM) conv2d on WebGPU', () => {
  const cases: Case[] = [
    { x: [2, 5, 9, 11], w: [70, 5, 3, 2], stride: [2, 1], padding: [1, 2], dilation: [1, 2] }, // 70 channels, 130 pixels, k = 30
    { x: [1, 3, 20, 20], w: [8, 3, 5, 5], stride: [1, 1], padding: [2, 2], dilation: [1, 1] }, // 400 pixels, k = 75
    { x: [3, 17, 4, 4], w: [5, 17, 1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1] }, // 1x1, k = 17
  ];

  it('the device picks a tile from its limits (64 on a device with WebGPU\'s default limits)', () => {
    const l = gpu!.device.limits;
    const expected = l.maxComputeInvocationsPerWorkgroup >= 256 && l.maxComputeWorkgroupStorageSize >= 8192 ? 64 : 32;
    expect(convTile({ device: gpu!.device } as never)).toBe(expected);
  });

  for (const [op, bm] of [0, 64, 32, 16].flatMap((t) => [['conv2d', t], ['conv2dTranspose', t], ['conv2dWeightGrad', t]] as const)) {
    it(`${op}, tile ${bm || 'chosen'}: equals a float64 loop within 1e-5 per tap`, async () => {
      const backend = backendWithTile(gpu!.device, bm);
      for (const c0 of cases) {
        // The transposed case takes x with the conv's output channels and w as [C, OC, KH, KW].
        // The weight gradient's second input is g, shaped as the conv's output.
        const c = op === 'conv2dTranspose' ? { ...c0, x: [c0.x[0], c0.w[0], c0.x[2], c0.x[3]], w: [c0.w[0], c0.x[1], c0.w[2], c0.w[3]] } : c0;
        const gShape = op === 'conv2dWeightGrad' ? reference(c.x, c.w, new Float32Array(0), new Float32Array(0), { ...c, x: [0, ...c.x.slice(1)] }).shape : [];
        const secondShape = op === 'conv2dWeightGrad' ? [c.x[0], c.w[0], gShape[2], gShape[3]] : c.w;
        const x = rand(c.x.reduce((a, b) => a * b));
        const w = rand(secondShape.reduce((a, b) => a * b));
        const ref = op === 'conv2d' ? reference(c.x, c.w, x, w, c) : op === 'conv2dTranspose' ? transposeReference(c.x, c.w, x, w, c) : weightGradReference(c.x, c.w, x, w, c);
        const xs = backend.upload(x, { dtype: 'float32', shape: c.x });
        const ws = backend.upload(w, { dtype: 'float32', shape: secondShape });
        const [o] = backend.run(getOp(op), [{ storage: xs, type: { dtype: 'float32', shape: c.x } }, { storage: ws, type: { dtype: 'float32', shape: secondShape } }], { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: 1 }, [{ dtype: 'float32', shape: ref.shape }]);
        const got = (await backend.read(o, { dtype: 'float32', shape: ref.shape })) as Float32Array;
        expect(got.length).toBe(ref.data.length);
        const taps = op === 'conv2dWeightGrad' ? secondShape[0] * secondShape[2] * secondShape[3] : c.x[1] * c.w[2] * c.w[3]; // terms per sum
        let worst = 0;
        for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref.data[i]));
        expect(worst).toBeLessThan(1e-5 * taps); // |x|, |w| < 1: each product's rounding is below 2^-24
        expect(got.some((v) => v !== 0)).toBe(true);
        for (const s of [xs, ws, o]) backend.dispose(s);
      }
      expect(backend.bytesInUse()).toBe(0);
    });
  }
});

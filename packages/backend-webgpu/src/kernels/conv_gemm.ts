import type { KernelContext } from '../kernel.js';
import type { GpuTensor } from '../storage.js';

/** Patch rows (k) per staged step and output elements per invocation along each edge. */
const BK = 16;
const RB = 4;

/**
 * The output block edge of the implicit-GEMM conv: 64 (256 invocations, 8 KiB of workgroup
 * memory) where the device allows, else 32 or 16; 0 when even 16 does not fit (use the direct kernel).
 */
export function convTile(ctx: KernelContext): number {
  const l = ctx.device.limits;
  for (const bm of [64, 32, 16]) {
    const lanes = (bm / RB) ** 2;
    if (lanes <= l.maxComputeInvocationsPerWorkgroup && lanes <= l.maxComputeWorkgroupSizeX && 2 * bm * BK * 4 <= l.maxComputeWorkgroupStorageSize) return bm;
  }
  return 0;
}

export interface ConvGeometry {
  readonly stride: readonly number[];
  readonly padding: readonly number[];
  readonly dilation: readonly number[];
}

/** Which product the GEMM computes: conv2d, conv2dTranspose (input gradient) or conv2dWeightGrad. */
export type ConvGemmMode = 'forward' | 'transpose' | 'weightGrad';

/** WGSL setting `bv` to x's patch element for tap `k` = (c, kh, kw) and output pixel `pix` = (n, oh, ow) (0 in the padding). */
function patch(mode: ConvGemmMode, k: string, pix: string): string[] {
  const at = [`        let c = ${k} / KHW; let r = ${k} % KHW;`, `        let n = ${pix} / OHW; let q = ${pix} % OHW;`];
  if (mode === 'transpose') {
    // The output pixel (oh, ow) takes x at (th/SH, tw/SW) where the tap lands on a stride step.
    return [...at,
      '        let th = i32(q / OW) + PH - i32((r / KW) * DH);',
      '        let tw = i32(q % OW) + PW - i32((r % KW) * DW);',
      '        if (th >= 0 && tw >= 0 && th % i32(SH) == 0 && tw % i32(SW) == 0 && th / i32(SH) < i32(H) && tw / i32(SW) < i32(W)) { bv = in0[((n * C + c) * H + u32(th) / SH) * W + u32(tw) / SW]; }'];
  }
  return [...at,
    '        let ih = i32((q / OW) * SH + (r / KW) * DH) - PH;',
    '        let iw = i32((q % OW) * SW + (r % KW) * DW) - PW;',
    '        if (ih >= 0 && ih < i32(H) && iw >= 0 && iw < i32(W)) { bv = in0[((n * C + c) * H + u32(ih)) * W + u32(iw)]; }'];
}

/**
 * float32 convolutions with groups = 1 as implicit GEMMs over taps k = (c, kh, kw) and output
 * pixels (n, oh, ow) of the whole batch; the patch matrix is gathered from x while staging and
 * never stored. A workgroup computes a BM×BM block of the product, each invocation a 4×4 patch
 * in registers; each 16-deep step of the reduction stages a BM×16 tile of the left operand and
 * a 16×BM tile of the right one in workgroup memory.
 * - `forward` (conv2d, inputs [x, w]): out[oc, pixel] = Σ_k w[oc, k]·patch[k, pixel], summed in
 *   (c, kh, kw) order like the direct kernel.
 * - `transpose` (conv2dTranspose, inputs [x, w] with w [C, OC, KH, KW] read transposed): the same
 *   with patch elements taken where a tap lands on a stride step.
 * - `weightGrad` (conv2dWeightGrad, inputs [x, g]): dw[oc, k] = Σ_pixel g[oc, pixel]·patch[k, pixel].
 */
export function convImplicitGemm(ctx: KernelContext, x: GpuTensor, second: GpuTensor, out: GpuTensor, { stride, padding, dilation }: ConvGeometry, BM: number, mode: ConvGemmMode = 'forward'): void {
  const [batch, channels, height, width] = x.shape;
  const grad = mode === 'weightGrad';
  const outC = grad ? out.shape[0] : out.shape[1];
  const [kH, kW] = grad ? out.shape.slice(2) : second.shape.slice(2);
  const [outH, outW] = grad ? second.shape.slice(2) : out.shape.slice(2);
  const taps = channels * kH * kW;
  const pixels = batch * outH * outW;
  // [M, K, N]: rows, reduction, columns.
  const [M, K, N] = grad ? [outC, pixels, taps] : [outC, taps, pixels];
  const lanes = (BM / RB) ** 2;
  const loads = (BM * BK) / lanes;
  const readA = { forward: 'in1[row * K + kk]', transpose: 'in1[(kk / KHW * M + row) * KHW + kk % KHW]', weightGrad: 'in1[((kk / OHW) * M + row) * OHW + kk % OHW]' }[mode];
  const store = grad ? 'out0[row * N + col]' : 'out0[((col / OHW) * M + row) * OHW + col % OHW]';
  const body = [
    '  let M = param(1u); let K = param(2u); let N = param(3u);',
    '  let C = param(4u); let H = param(5u); let W = param(6u); let KH = param(7u); let KW = param(8u);',
    '  let OH = param(9u); let OW = param(10u);',
    '  let SH = param(11u); let SW = param(12u); let PH = i32(param(13u)); let PW = i32(param(14u)); let DH = param(15u); let DW = param(16u);',
    '  let OHW = OH * OW; let KHW = KH * KW;',
    `  let tilesN = (N + ${BM - 1}u) / ${BM}u;`,
    `  let row0 = (index / tilesN) * ${BM}u;`,
    `  let col0 = (index % tilesN) * ${BM}u;`,
    `  let ty = lane / ${BM / RB}u; let tx = lane % ${BM / RB}u;`,
    `  var acc: array<f32, ${RB * RB}>;`,
    `  for (var k0 = 0u; k0 < K; k0 += ${BK}u) {`,
    `    for (var l = 0u; l < ${loads}u; l++) {`,
    `      let e = lane + ${lanes}u * l;`,
    '      {',
    `        let row = row0 + e / ${BK}u; let kk = k0 + e % ${BK}u;`,
    '        var av = 0.0;',
    `        if (row < M && kk < K) { av = ${readA}; }`,
    '        tileA[e] = av;',
    '      }',
    `      let kk = k0 + e / ${BM}u; let col = col0 + e % ${BM}u;`,
    '      var bv = 0.0;',
    '      if (kk < K && col < N) {',
    ...(grad ? patch(mode, 'col', 'kk') : patch(mode, 'kk', 'col')),
    '      }',
    '      tileB[e] = bv;',
    '    }',
    '    workgroupBarrier();',
    `    for (var kk = 0u; kk < ${BK}u; kk++) {`,
    ...Array.from({ length: RB }, (_, i) => `      let a${i} = tileA[(ty * ${RB}u + ${i}u) * ${BK}u + kk];`),
    ...Array.from({ length: RB }, (_, j) => `      let b${j} = tileB[kk * ${BM}u + tx * ${RB}u + ${j}u];`),
    ...Array.from({ length: RB * RB }, (_, q) => `      acc[${q}] += a${Math.floor(q / RB)} * b${q % RB};`),
    '    }',
    '    workgroupBarrier();',
    '  }',
    `  for (var i = 0u; i < ${RB}u; i++) {`,
    `    let row = row0 + ty * ${RB}u + i;`,
    '    if (row >= M) { break; }',
    `    for (var j = 0u; j < ${RB}u; j++) {`,
    `      let col = col0 + tx * ${RB}u + j;`,
    '      if (col >= N) { break; }',
    `      ${store} = acc[i * 4u + j];`,
    '    }',
    '  }',
  ].join('\n');
  const params = [M, K, N, channels, height, width, kH, kW, outH, outW, stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1]];
  ctx.launch({
    op: { forward: 'conv2d', transpose: 'conv2dTranspose', weightGrad: 'conv2dWeightGrad' }[mode], body, declarations: `var<workgroup> tileA: array<f32, ${BM * BK}>;\nvar<workgroup> tileB: array<f32, ${BK * BM}>;`,
    inputs: [x, second], outputs: [out], params, threads: Math.ceil(M / BM) * Math.ceil(N / BM), workgroupSize: lanes, perWorkgroup: true,
  });
}

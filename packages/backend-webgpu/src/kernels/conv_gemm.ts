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

/**
 * float32 conv2d (or, `transposed`, conv2dTranspose: w is [C, OC, KH, KW], read transposed,
 * and each patch element is x where the tap lands on a stride step) with groups = 1 as an implicit GEMM: out[oc, pixel] = Σ_k w[oc, k] · patch[k, pixel]
 * with k = (c, kh, kw) and pixel = (n, oh, ow) over the whole batch. A workgroup computes a
 * BM×BM block (output channels × pixels), each invocation a 4×4 patch in registers; each
 * 16-deep k step stages a BM×16 tile of the weights and a 16×BM tile of input patches
 * (gathered from x with padding as 0, never materialised) in workgroup memory. The sum runs
 * over k in (c, kh, kw) order, the direct kernel's order.
 */
export function convImplicitGemm(ctx: KernelContext, x: GpuTensor, w: GpuTensor, out: GpuTensor, { stride, padding, dilation }: ConvGeometry, BM: number, transposed = false): void {
  const [batch, channels, height, width] = x.shape;
  const outC = out.shape[1];
  const [kH, kW] = w.shape.slice(2);
  const [outH, outW] = out.shape.slice(2);
  const K = channels * kH * kW;
  const pixels = batch * outH * outW;
  const lanes = (BM / RB) ** 2;
  const loads = (BM * BK) / lanes;
  const body = [
    '  let M = param(1u); let K = param(2u); let P = param(3u);',
    '  let C = param(4u); let H = param(5u); let W = param(6u); let KH = param(7u); let KW = param(8u);',
    '  let OH = param(9u); let OW = param(10u);',
    '  let SH = param(11u); let SW = param(12u); let PH = i32(param(13u)); let PW = i32(param(14u)); let DH = param(15u); let DW = param(16u);',
    '  let OHW = OH * OW; let KHW = KH * KW;',
    `  let tilesP = (P + ${BM - 1}u) / ${BM}u;`,
    `  let row0 = (index / tilesP) * ${BM}u;`,
    `  let col0 = (index % tilesP) * ${BM}u;`,
    `  let ty = lane / ${BM / RB}u; let tx = lane % ${BM / RB}u;`,
    `  var acc: array<f32, ${RB * RB}>;`,
    `  for (var k0 = 0u; k0 < K; k0 += ${BK}u) {`,
    `    for (var l = 0u; l < ${loads}u; l++) {`,
    `      let e = lane + ${lanes}u * l;`,
    `      let ar = e / ${BK}u; let ac = e % ${BK}u;`,
    '      var av = 0.0;',
    `      if (row0 + ar < M && k0 + ac < K) { av = in1[${transposed ? '((k0 + ac) / KHW * M + row0 + ar) * KHW + (k0 + ac) % KHW' : '(row0 + ar) * K + k0 + ac'}]; }`,
    '      tileA[e] = av;',
    `      let br = e / ${BM}u; let bc = e % ${BM}u;`,
    '      var bv = 0.0;',
    '      let kk = k0 + br; let pix = col0 + bc;',
    '      if (kk < K && pix < P) {',
    '        let c = kk / KHW; let r = kk % KHW;',
    '        let n = pix / OHW; let q = pix % OHW;',
    ...(transposed
      ? [
        // The output pixel (oh, ow) takes x at (th/SH, tw/SW) where the tap lands on a stride step.
        "        let th = i32(q / OW) + PH - i32((r / KW) * DH);",
        "        let tw = i32(q % OW) + PW - i32((r % KW) * DW);",
        "        if (th >= 0 && tw >= 0 && th % i32(SH) == 0 && tw % i32(SW) == 0 && th / i32(SH) < i32(H) && tw / i32(SW) < i32(W)) { bv = in0[((n * C + c) * H + u32(th) / SH) * W + u32(tw) / SW]; }",
      ]
      : [
        '        let ih = i32((q / OW) * SH + (r / KW) * DH) - PH;',
        '        let iw = i32((q % OW) * SW + (r % KW) * DW) - PW;',
        '        if (ih >= 0 && ih < i32(H) && iw >= 0 && iw < i32(W)) { bv = in0[((n * C + c) * H + u32(ih)) * W + u32(iw)]; }',
      ]),
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
    `    let oc = row0 + ty * ${RB}u + i;`,
    '    if (oc >= M) { break; }',
    `    for (var j = 0u; j < ${RB}u; j++) {`,
    `      let pix = col0 + tx * ${RB}u + j;`,
    '      if (pix >= P) { break; }',
    '      out0[((pix / OHW) * M + oc) * OHW + pix % OHW] = acc[i * 4u + j];',
    '    }',
    '  }',
  ].join('\n');
  const params = [outC, K, pixels, channels, height, width, kH, kW, outH, outW, stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1]];
  ctx.launch({
    op: transposed ? 'conv2dTranspose' : 'conv2d', body, declarations: `var<workgroup> tileA: array<f32, ${BM * BK}>;\nvar<workgroup> tileB: array<f32, ${BK * BM}>;`,
    inputs: [x, w], outputs: [out], params, threads: Math.ceil(outC / BM) * Math.ceil(pixels / BM), workgroupSize: lanes, perWorkgroup: true,
  });
}

import type { KernelRegistry } from '@kiln/core';
import type { KernelContext, WebGPUKernel } from '../kernel.js';
import { WGSL_TYPE } from '../layout.js';
import { broadcastStrides } from './elementwise.js';

/**
 * The tile edge: 16 (256 invocations, 2 KiB of workgroup memory for two float32 tiles) where
 * the device allows, else the largest power of two that fits its invocation and storage limits.
 */
export function matmulTile(ctx: KernelContext): number {
  const l = ctx.device.limits;
  let t = 16;
  while (t > 1 && (t * t > l.maxComputeInvocationsPerWorkgroup || t * t > l.maxComputeWorkgroupSizeX || 2 * t * t * 4 > l.maxComputeWorkgroupStorageSize)) t /= 2;
  return t;
}

/**
 * Batched matmul, tiled: one workgroup per T×T block of one output matrix; each step loads a
 * T×T tile of a and of b into workgroup memory, then every invocation accumulates its element
 * from the two tiles. Batch dimensions broadcast through per-operand strides (0 where broadcast).
 */
const matmul: WebGPUKernel = (ctx, [a, b], _attrs, [out]) => {
  const r = out.shape.length;
  const [m, n] = out.shape.slice(r - 2);
  const k = a.shape[a.shape.length - 1];
  const batchShape = out.shape.slice(0, r - 2);
  const batches = batchShape.reduce((x, y) => x * y, 1);
  const aBatch = broadcastStrides(a.shape.slice(0, -2), batchShape).map((s) => s * m * k);
  const bBatch = broadcastStrides(b.shape.slice(0, -2), batchShape).map((s) => s * k * n);
  const T = matmulTile(ctx);
  const tilesM = Math.ceil(m / T);
  const tilesN = Math.ceil(n / T);
  const B = batchShape.length;
  const t = WGSL_TYPE[out.dtype];
  const body = [
    '  let M = param(1u); let K = param(2u); let N = param(3u);',
    `  let tilesN = (N + ${T - 1}u) / ${T}u;`,
    `  let tilesM = (M + ${T - 1}u) / ${T}u;`,
    '  let tileCol = index % tilesN;',
    '  let tileRow = (index / tilesN) % tilesM;',
    '  let batch = index / (tilesN * tilesM);',
    '  var aOff = 0u; var bOff = 0u; var rem = batch;',
    `  for (var d = 0u; d < ${B}u; d++) {`,
    `    let ax = ${B}u - d - 1u;`,
    '    let c = rem % param(4u + ax);',
    '    rem = rem / param(4u + ax);',
    `    aOff += c * param(${4 + B}u + ax);`,
    `    bOff += c * param(${4 + 2 * B}u + ax);`,
    '  }',
    `  let ly = lane / ${T}u; let lx = lane % ${T}u;`,
    `  let row = tileRow * ${T}u + ly; let col = tileCol * ${T}u + lx;`,
    `  var acc = ${t}(0);`,
    `  for (var k0 = 0u; k0 < K; k0 += ${T}u) {`,
    `    var av = ${t}(0); var bv = ${t}(0);`,
    '    if (row < M && k0 + lx < K) { av = in0[aOff + row * K + k0 + lx]; }',
    '    if (k0 + ly < K && col < N) { bv = in1[bOff + (k0 + ly) * N + col]; }',
    `    tileA[ly * ${T}u + lx] = av;`,
    `    tileB[ly * ${T}u + lx] = bv;`,
    '    workgroupBarrier();',
    `    for (var kk = 0u; kk < ${T}u; kk++) { acc += tileA[ly * ${T}u + kk] * tileB[kk * ${T}u + lx]; }`,
    '    workgroupBarrier();',
    '  }',
    '  if (row < M && col < N) { out0[batch * M * N + row * N + col] = acc; }',
  ].join('\n');
  ctx.launch({
    op: 'matmul', body, declarations: `var<workgroup> tileA: array<${t}, ${T * T}>;\nvar<workgroup> tileB: array<${t}, ${T * T}>;`,
    inputs: [a, b], outputs: [out], params: [m, k, n, ...batchShape, ...aBatch, ...bBatch],
    threads: batches * tilesM * tilesN, workgroupSize: T * T, perWorkgroup: true,
  });
};

export function registerMatmulKernels(registry: KernelRegistry<WebGPUKernel>): void {
  registry.register('matmul', matmul);
}

import type { Graph, KernelRegistry } from '@kiln/core';
import { FUSIBLE_REDUCTIONS, matmulEpilogueParts, shapesEqual } from '@kiln/core';
import type { GpuTensor } from '../storage.js';
import { chain } from './fused.js';
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
 * Batched matmul, tiled, for devices below WebGPU's default limits: one workgroup per T×T block of one output matrix; each step loads a
 * T×T tile of a and of b into workgroup memory, then every invocation accumulates its element
 * from the two tiles. Batch dimensions broadcast through per-operand strides (0 where broadcast).
 */
export const matmulSimple: WebGPUKernel = (ctx, [a, b], _attrs, [out]) => {
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

/** The blocked kernel's shape: 64×64 output blocks, 16-deep k steps, 16×16 invocations of 4×4 outputs each. */
const BM = 64;
const BK = 16;
const RB = 4;

/** Whether the device can run the blocked kernel (256 invocations, 8 KiB of workgroup memory: every WebGPU device can). */
function canBlock(ctx: KernelContext): boolean {
  const l = ctx.device.limits;
  return l.maxComputeInvocationsPerWorkgroup >= 256 && l.maxComputeWorkgroupSizeX >= 256 && l.maxComputeWorkgroupStorageSize >= 2 * BM * BK * 4;
}

interface Epilogue {
  /** WGSL run per stored element: the product is `pv`, the domain index `di`; it ends writing the outputs. */
  readonly code: string[];
  readonly params: number[];
  readonly helpers: string;
  readonly extraInputs: readonly GpuTensor[];
  readonly outputs: readonly GpuTensor[];
}

/**
 * Batched matmul, register-blocked: a workgroup computes a 64×64 block of one output matrix,
 * each invocation a 4×4 patch of it in registers; each 16-deep k step stages a 64×16 tile of a
 * and a 16×64 tile of b in workgroup memory (4 loads per invocation each). Sixteen times the
 * arithmetic per barrier of the one-output-per-invocation kernel. Operands may be stored
 * transposed (a matmulEpilogue absorbs the permute), and an epilogue may transform each
 * product element before it is stored.
 */
function blockedMatmul(ctx: KernelContext, a: GpuTensor, b: GpuTensor, out: GpuTensor, transA = false, transB = false, epilogue?: Epilogue): void {
  const r = out.shape.length;
  const [m, n] = out.shape.slice(r - 2);
  const k = transA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
  const batchShape = out.shape.slice(0, r - 2);
  const batches = batchShape.reduce((x, y) => x * y, 1);
  const aBatch = broadcastStrides(a.shape.slice(0, -2), batchShape).map((s) => s * m * k);
  const bBatch = broadcastStrides(b.shape.slice(0, -2), batchShape).map((s) => s * k * n);
  const tilesM = Math.ceil(m / BM);
  const tilesN = Math.ceil(n / BM);
  const B = batchShape.length;
  const t = WGSL_TYPE[out.dtype];
  const lanes = (BM / RB) ** 2;
  const loads = (BM * BK) / lanes;
  const readA = transA ? 'in0[aOff + (k0 + ac) * M + row0 + ar]' : 'in0[aOff + (row0 + ar) * K + k0 + ac]';
  const readB = transB ? 'in1[bOff + (col0 + bc) * K + k0 + br]' : 'in1[bOff + (k0 + br) * N + col0 + bc]';
  const store = epilogue
    ? ['      let di = batch * M * N + row * N + col;', '      let pv = acc[i * 4u + j];', ...epilogue.code.map((l) => `    ${l}`)]
    : ['      out0[batch * M * N + row * N + col] = acc[i * 4u + j];'];
  const body = [
    '  let M = param(1u); let K = param(2u); let N = param(3u);',
    `  let tilesN = (N + ${BM - 1}u) / ${BM}u;`,
    `  let tilesM = (M + ${BM - 1}u) / ${BM}u;`,
    `  let row0 = ((index / tilesN) % tilesM) * ${BM}u;`,
    `  let col0 = (index % tilesN) * ${BM}u;`,
    '  let batch = index / (tilesN * tilesM);',
    '  var aOff = 0u; var bOff = 0u; var remb = batch;',
    `  for (var d = 0u; d < ${B}u; d++) {`,
    `    let ax = ${B}u - d - 1u;`,
    '    let c = remb % param(4u + ax);',
    '    remb = remb / param(4u + ax);',
    `    aOff += c * param(${4 + B}u + ax);`,
    `    bOff += c * param(${4 + 2 * B}u + ax);`,
    '  }',
    `  let ty = lane / ${BM / RB}u; let tx = lane % ${BM / RB}u;`,
    `  var acc: array<${t}, ${RB * RB}>;`,
    `  for (var k0 = 0u; k0 < K; k0 += ${BK}u) {`,
    `    for (var l = 0u; l < ${loads}u; l++) {`,
    `      let e = lane + ${lanes}u * l;`,
    `      let ar = e / ${BK}u; let ac = e % ${BK}u;`,
    `      var av = ${t}(0);`,
    `      if (row0 + ar < M && k0 + ac < K) { av = ${readA}; }`,
    '      tileA[e] = av;',
    `      let br = e / ${BM}u; let bc = e % ${BM}u;`,
    `      var bv = ${t}(0);`,
    `      if (k0 + br < K && col0 + bc < N) { bv = ${readB}; }`,
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
    ...store,
    '    }',
    '  }',
  ].join('\n');
  ctx.launch({
    op: epilogue ? 'matmulEpilogue' : 'matmul', body, helpers: epilogue?.helpers, declarations: `var<workgroup> tileA: array<${t}, ${BM * BK}>;\nvar<workgroup> tileB: array<${t}, ${BK * BM}>;`,
    inputs: [a, b, ...(epilogue?.extraInputs ?? [])], outputs: epilogue?.outputs ?? [out], params: [m, k, n, ...batchShape, ...aBatch, ...bBatch, ...(epilogue?.params ?? [])],
    threads: batches * tilesM * tilesN, workgroupSize: lanes, perWorkgroup: true,
  });
}

const matmulBlocked: WebGPUKernel = (ctx, [a, b], _attrs, [out]) => blockedMatmul(ctx, a, b, out);

/**
 * A matmulEpilogue body as one kernel: the blocked matmul (operands read transposed in place
 * where the body permutes them) with the elementwise chain applied to each product element
 * before it is stored. Returns false for bodies with reductions or outputs of another shape
 * (they run op by op).
 */
export function matmulEpilogueKernel(ctx: KernelContext, body: Graph, inputs: readonly GpuTensor[], outputs: readonly GpuTensor[]): boolean {
  if (!canBlock(ctx)) return false;
  const { transA, transB, normalized } = matmulEpilogueParts(body);
  const product = normalized.nodes[0].outputs[0];
  const domain = product.type.shape;
  if (normalized.nodes.some((n) => FUSIBLE_REDUCTIONS.has(n.op)) || !outputs.every((o) => shapesEqual(o.shape, domain))) return false;
  if (inputs.length + outputs.length > ctx.device.limits.maxStorageBuffersPerShaderStage) return false;
  const [a, b] = inputs;
  const B = domain.length - 2;
  const c = chain(normalized, inputs, domain, 'di', 4 + 3 * B, 2, new Map([[product, 'pv']]));
  if (!c) return false;
  const code = [...c.code, ...normalized.outputs.map((v, i) => `  out${i}[di] = ${c.names.get(v)};`)];
  blockedMatmul(ctx, a, b, outputs[0], transA, transB, { code, params: c.params, helpers: c.helpers, extraInputs: inputs.slice(2), outputs });
  return true;
}

const matmul: WebGPUKernel = (ctx, inputs, attrs, outputs) => (canBlock(ctx) ? matmulBlocked : matmulSimple)(ctx, inputs, attrs, outputs);

export function registerMatmulKernels(registry: KernelRegistry<WebGPUKernel>): void {
  registry.register('matmul', matmul);
}

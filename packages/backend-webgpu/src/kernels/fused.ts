import type { Graph, Shape, Value } from '@kiln/core';
import { FUSIBLE_ELEMENTWISE_OPS, FUSIBLE_REDUCTIONS, shapesEqual } from '@kiln/core';
import type { KernelRegistry } from '@kiln/core';
import type { KernelContext, WebGPUKernel } from '../kernel.js';
import { type GpuDType, WGSL_TYPE } from '../layout.js';
import type { GpuTensor } from '../storage.js';
import { broadcastStrides } from './elementwise.js';
import { BINARY, castExpr, UNARY } from './math_ops.js';
import { combineFor, offset, split } from './reduce.js';
import { matmulEpilogueKernel } from './matmul.js';
import { WGSL_INT_MATH, WGSL_MATH } from './wgsl_math.js';

/** `expr` (over a0, a1, a2) with those names replaced by `args`. */
function substitute(expr: string, args: readonly string[]): string {
  return expr.replace(/\ba([0-2])\b/g, (_, i: string) => args[Number(i)]);
}

function bits(value: number, dtype: GpuDType): string {
  if (dtype === 'bool') return value ? '1u' : '0u';
  if (dtype === 'int32') return `i32(${value | 0})`;
  const u = new Uint32Array(new Float32Array([value]).buffer)[0];
  return `bitcast<f32>(${u}u)`;
}

interface Chain {
  /** WGSL computing every elementwise body value at domain element `at` (inputs read through broadcast strides). */
  readonly code: string[];
  /** Its parameters (domain shape, then strides), placed from `paramBase`. */
  readonly params: number[];
  readonly names: Map<Value, string>;
  readonly helpers: string;
}

/**
 * The elementwise nodes of a body as WGSL `let`s (the same expressions as their own kernels),
 * or null if one has none. `skipInputs` leading inputs are not read (a matmul's operands) and
 * values in `preset` already have WGSL names (the product), their nodes skipped.
 */
export function chain(body: Graph, inputs: readonly GpuTensor[], domain: Shape, at: string, paramBase: number, skipInputs = 0, preset?: ReadonlyMap<Value, string>): Chain | null {
  const rank = domain.length;
  const names = new Map<Value, string>(preset);
  const reads: string[] = [];
  const params: number[] = [...domain];
  const strided: number[] = [];
  body.inputs.forEach((v, i) => {
    if (i < skipInputs) return;
    const t = inputs[i];
    names.set(v, `x${i}`);
    if (shapesEqual(t.shape, domain)) reads.push(`  let x${i} = in${i}[${at}];`);
    else if (t.storage.size === 1) reads.push(`  let x${i} = in${i}[0];`);
    else {
      strided.push(i);
      params.push(...broadcastStrides(t.shape, domain));
      reads.push(`  let x${i} = in${i}[o${i}];`);
    }
  });
  const code: string[] = [];
  if (strided.length > 0) {
    code.push(...strided.map((i) => `  var o${i} = 0u;`), `  var rem = ${at};`, `  for (var d = 0u; d < ${rank}u; d++) {`, `    let ax = ${rank}u - d - 1u;`, `    let c = rem % param(${paramBase}u + ax);`, `    rem = rem / param(${paramBase}u + ax);`);
    strided.forEach((i, j) => code.push(`    o${i} += c * param(${paramBase + rank * (j + 1)}u + ax);`));
    code.push('  }');
  }
  code.push(...reads);
  let float = false;
  let int = false;
  for (const [k, node] of body.nodes.entries()) {
    if (FUSIBLE_REDUCTIONS.has(node.op) || node.outputs.every((v) => preset?.has(v))) continue;
    const args = node.inputs.map((v) => names.get(v)!);
    const inType = node.inputs[0]?.type.dtype;
    const outType = node.outputs[0].type.dtype;
    if (inType === 'float64' || outType === 'float64') return null;
    let expr: string | undefined;
    if (node.op === 'full') expr = bits(node.attrs.value as number, outType as GpuDType);
    else if (node.op === 'broadcastTo') expr = args[0];
    else if (node.op === 'cast') expr = castExpr(inType as GpuDType, outType as GpuDType);
    else if (node.op === 'where') expr = 'select(a2, a1, a0 != 0u)';
    else expr = (UNARY[node.op] ?? BINARY[node.op])?.[inType as GpuDType];
    if (expr === undefined) return null;
    if (inType === 'float32' || outType === 'float32') float = true;
    if (inType === 'int32') int = true;
    code.push(`  let v${k}: ${WGSL_TYPE[outType as GpuDType]} = ${substitute(expr, args)};`);
    names.set(node.outputs[0], `v${k}`);
  }
  return { code, params, names, helpers: `${float ? WGSL_MATH : ''}${int ? WGSL_INT_MATH : ''}` };
}

/**
 * A fusedElementwise body with no reduction, every output of the domain's shape, as one
 * generated kernel evaluated per domain element. Returns false when the body does not qualify.
 */
export function fusedElementwiseKernel(ctx: KernelContext, body: Graph, inputs: readonly GpuTensor[], outputs: readonly GpuTensor[]): boolean {
  if (body.nodes.some((n) => FUSIBLE_REDUCTIONS.has(n.op))) return fusedReduceKernel(ctx, body, inputs, outputs);
  const domain: Shape = outputs[0].shape;
  if (!outputs.every((o) => shapesEqual(o.shape, domain))) return false;
  if (!body.nodes.every((n) => FUSIBLE_ELEMENTWISE_OPS.has(n.op))) return false;
  if (inputs.length + outputs.length > ctx.device.limits.maxStorageBuffersPerShaderStage) return false;
  const c = chain(body, inputs, domain, 'index', 1);
  if (!c) return false;
  const writes = body.outputs.map((v, i) => `  out${i}[index] = ${c.names.get(v)};`);
  ctx.launch({ op: 'fusedElementwise', body: [...c.code, ...writes].join('\n'), helpers: c.helpers, inputs, outputs, params: c.params, threads: outputs[0].storage.size });
  return true;
}

/**
 * An elementwise chain ending in reductions over the same axes, as one kernel: a workgroup per
 * reduced output element, its lanes evaluating the chain over strided shares of the reduced
 * elements (writing domain-shaped outputs on the way) and folding each reduction's input, then
 * one tree per reduction in workgroup memory. Returns false when the body does not qualify.
 */
function fusedReduceKernel(ctx: KernelContext, body: Graph, inputs: readonly GpuTensor[], outputs: readonly GpuTensor[]): boolean {
  const reductions = body.nodes.filter((n) => FUSIBLE_REDUCTIONS.has(n.op));
  const domain = reductions[0].inputs[0].type.shape;
  const axes = reductions[0].attrs.axes as readonly number[];
  const sameAxes = (n: (typeof reductions)[number]) => JSON.stringify(n.attrs.axes) === JSON.stringify(axes) && shapesEqual(n.inputs[0].type.shape, domain);
  if (!reductions.every(sameAxes)) return false;
  const reducedOut = new Set(reductions.map((n) => n.outputs[0]));
  if (!body.outputs.every((v, i) => reducedOut.has(v) || shapesEqual(outputs[i].shape, domain))) return false;
  if (inputs.length + outputs.length > ctx.device.limits.maxStorageBuffersPerShaderStage) return false;
  const { kept, keptStrides, red, redStrides } = split(domain, axes);
  const m = red.reduce((x, y) => x * y, 1);
  const K = kept.length;
  const Q = red.length;
  const chainAt = 2 + 2 * K + 2 * Q;
  const c = chain(body, inputs, domain, 'di', chainAt);
  if (!c) return false;
  const wg = ctx.clampWorkgroup(m <= 64 ? 64 : 256);
  const step = (r: number, acc: string, v: string): string => {
    const node = reductions[r];
    return combineFor(node.op, node.inputs[0].type.dtype as GpuDType).step.replace(/\bacc\b/g, acc).replace(/\bv\b/g, v);
  };
  const types = reductions.map((n) => WGSL_TYPE[n.inputs[0].type.dtype as GpuDType]);
  const lines = [
    offset('base', 'index', K, 1),
    ...reductions.map((n, r) => `    var acc${r}: ${types[r]} = ${combineFor(n.op, n.inputs[0].type.dtype as GpuDType).init};`),
    `    for (var j = lane; j < param(${1 + 2 * K + 2 * Q}u); j += ${wg}u) {`,
    offset('o', 'j', Q, 1 + 2 * K),
    '      let di = base + o;',
    ...c.code,
    ...reductions.map((n, r) => `      acc${r} = ${step(r, `acc${r}`, c.names.get(n.inputs[0])!)};`),
    ...body.outputs.map((v, i) => (reducedOut.has(v) ? '' : `      out${i}[di] = ${c.names.get(v)};`)).filter(Boolean),
    '    }',
    ...reductions.map((_, r) => `    part${r}[lane] = acc${r};`),
    '    workgroupBarrier();',
    `    for (var s = ${wg / 2}u; s > 0u; s = s >> 1u) {`,
    '      if (lane < s) {',
    ...reductions.map((_, r) => `        part${r}[lane] = ${step(r, `part${r}[lane]`, `part${r}[lane + s]`)};`),
    '      }',
    '      workgroupBarrier();',
    '    }',
    '    if (lane == 0u) {',
    ...body.outputs.map((v, i) => (reducedOut.has(v) ? `      out${i}[index] = part${reductions.findIndex((n) => n.outputs[0] === v)}[0];` : '')).filter(Boolean),
    '    }',
  ];
  const threads = kept.reduce((x, y) => x * y, 1);
  ctx.launch({
    op: 'fusedElementwise', body: lines.join('\n'), helpers: c.helpers, declarations: types.map((t, r) => `var<workgroup> part${r}: array<${t}, ${wg}>;`).join('\n'),
    inputs, outputs, params: [...kept, ...keptStrides, ...red, ...redStrides, m, ...c.params], threads, workgroupSize: wg, perWorkgroup: true,
  });
  return true;
}

/** Copies `from` into `to` (same size): results of a body run op by op land in the node's outputs. */
function copyInto(ctx: KernelContext, from: GpuTensor, to: GpuTensor): void {
  ctx.launch({ op: 'fused (copy)', body: '  out0[index] = in0[index];', inputs: [from], outputs: [to], threads: to.storage.size });
}

/** A fused node whose body the generator does not take runs its body op by op (correct, unfused). */
function bodyKernel(op: string, generate?: typeof fusedElementwiseKernel): WebGPUKernel {
  return (ctx, inputs, _attrs, outputs, bodies) => {
    if (!bodies || bodies.graphs.length !== 1) throw new TypeError(`webgpu: '${op}' needs its body sub-graph (a Kiln bug)`);
    const body = bodies.graphs[0];
    if (generate?.(ctx, body, inputs, outputs)) return;
    const results = bodies.run(body, inputs);
    results.forEach((r, i) => {
      copyInto(ctx, r, outputs[i]);
      bodies.free(r);
    });
  };
}

export function registerFusedKernels(registry: KernelRegistry<WebGPUKernel>): void {
  registry.register('fusedElementwise', bodyKernel('fusedElementwise', fusedElementwiseKernel));
  registry.register('matmulEpilogue', bodyKernel('matmulEpilogue', matmulEpilogueKernel));
}

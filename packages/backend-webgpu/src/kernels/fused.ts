import type { Graph, Shape, Value } from '@kiln/core';
import { FUSIBLE_ELEMENTWISE_OPS, shapesEqual } from '@kiln/core';
import type { KernelRegistry } from '@kiln/core';
import type { KernelContext, WebGPUKernel } from '../kernel.js';
import { type GpuDType, WGSL_TYPE } from '../layout.js';
import type { GpuTensor } from '../storage.js';
import { broadcastStrides } from './elementwise.js';
import { BINARY, castExpr, UNARY } from './math_ops.js';
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

/**
 * A fusedElementwise body as one generated kernel, when it is purely elementwise (no trailing
 * reduction) and every output has the domain's shape: each body node becomes one `let` of the
 * same WGSL expression its own kernel uses, evaluated per element of the domain, inputs read
 * through broadcast strides. Returns false when the body does not qualify (the backend then runs
 * the body node by node).
 */
export function fusedElementwiseKernel(ctx: KernelContext, body: Graph, inputs: readonly GpuTensor[], outputs: readonly GpuTensor[]): boolean {
  const domain: Shape = outputs[0].shape;
  if (!outputs.every((o) => shapesEqual(o.shape, domain))) return false;
  if (!body.nodes.every((n) => FUSIBLE_ELEMENTWISE_OPS.has(n.op))) return false;
  if (inputs.length + outputs.length > ctx.device.limits.maxStorageBuffersPerShaderStage) return false;
  const rank = domain.length;
  const names = new Map<Value, string>();
  const lines: string[] = [];
  const params: number[] = [...domain];
  const strided: number[] = [];
  body.inputs.forEach((v, i) => {
    const t = inputs[i];
    const name = `x${i}`;
    names.set(v, name);
    if (shapesEqual(t.shape, domain)) lines.push(`  let ${name} = in${i}[index];`);
    else if (t.storage.size === 1) lines.push(`  let ${name} = in${i}[0];`);
    else {
      strided.push(i);
      params.push(...broadcastStrides(t.shape, domain));
      lines.push(`  let ${name} = in${i}[o${i}];`);
    }
  });
  let float = false;
  let int = false;
  for (const [k, node] of body.nodes.entries()) {
    const args = node.inputs.map((v) => names.get(v)!);
    const inType = node.inputs[0]?.type.dtype;
    const outType = node.outputs[0].type.dtype;
    if (inType === 'float64' || outType === 'float64') return false;
    let expr: string | undefined;
    if (node.op === 'full') expr = bits(node.attrs.value as number, outType as GpuDType);
    else if (node.op === 'broadcastTo') expr = args[0];
    else if (node.op === 'cast') expr = castExpr(inType as GpuDType, outType as GpuDType);
    else if (node.op === 'where') expr = 'select(a2, a1, a0 != 0u)';
    else expr = (UNARY[node.op] ?? BINARY[node.op])?.[inType as GpuDType];
    if (expr === undefined) return false;
    if (inType === 'float32' || outType === 'float32') float = true;
    if (inType === 'int32') int = true;
    const name = `v${k}`;
    lines.push(`  let ${name}: ${WGSL_TYPE[outType as GpuDType]} = ${substitute(expr, args)};`);
    names.set(node.outputs[0], name);
  }
  body.outputs.forEach((v, i) => lines.push(`  out${i}[index] = ${names.get(v)};`));
  const offsets: string[] = [];
  if (strided.length > 0) {
    offsets.push(...strided.map((i) => `  var o${i} = 0u;`), '  var rem = index;', `  for (var d = 0u; d < ${rank}u; d++) {`, `    let ax = ${rank}u - d - 1u;`, '    let c = rem % param(1u + ax);', '    rem = rem / param(1u + ax);');
    strided.forEach((i, j) => offsets.push(`    o${i} += c * param(${1 + rank * (j + 1)}u + ax);`));
    offsets.push('  }');
  }
  const helpers = `${float ? WGSL_MATH : ''}${int ? WGSL_INT_MATH : ''}`;
  ctx.launch({ op: 'fusedElementwise', body: [...offsets, ...lines].join('\n'), helpers, inputs, outputs, params, threads: outputs[0].storage.size });
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
  registry.register('matmulEpilogue', bodyKernel('matmulEpilogue'));
}

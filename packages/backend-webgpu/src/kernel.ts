/// <reference types="@webgpu/types" />
import type { Attrs, Graph, TypedArray } from '@kiln/core';
import type { CommandBatcher } from './batcher.js';
import { type IndexCheck, type IndexErrorLog, indexErrorWgsl } from './index_errors.js';
import { WGSL_TYPE, toGpuBytes } from './layout.js';
import type { PipelineCache } from './pipelines.js';
import type { GpuTensor } from './storage.js';

/** One generated compute shader launch. */
export interface Launch {
  /** The op it implements (named in errors). */
  readonly op: string;
  /** The body of `main`, run once per `index` in [0, threads): reads `in0…`, writes `out0…`, `param(i)` reads a parameter. */
  readonly body: string;
  /** WGSL functions the body calls. */
  readonly helpers?: string;
  readonly inputs: readonly GpuTensor[];
  readonly outputs: readonly GpuTensor[];
  /** u32 parameters after `param(0)` (which is `threads`). */
  readonly params?: readonly number[];
  readonly threads: number;
  /** Overrides the default workgroup size (e.g. a reduction's tree width). */
  readonly workgroupSize?: number;
  /** WGSL declared at module scope (workgroup arrays). */
  readonly declarations?: string;
  /** Launch one workgroup per `threads` instead of one invocation (`index` is then the workgroup's, `lane` the invocation's). */
  readonly perWorkgroup?: boolean;
  /**
   * The launch checks indices: its body may call `index_error(k: i32, position: u32)` to flag an
   * out-of-range index, which the next read raises as an ArgumentError worded by `message`.
   */
  readonly indexCheck?: IndexCheck;
}

/**
 * What kernels use to reach the GPU: generates the WGSL around a body (bindings, parameters,
 * the 2-D dispatch index), caches the pipeline, and encodes the pass into the current batch.
 */
export class KernelContext {
  /** The default workgroup size: 256, or less where the device allows less. */
  readonly workgroupSize: number;
  private readonly maxGroupsPerDim: number;

  constructor(
    readonly device: GPUDevice,
    private readonly batcher: CommandBatcher,
    private readonly pipelines: PipelineCache,
    /** Where checking launches flag out-of-range indices (see index_errors.ts). */
    readonly indexErrors?: IndexErrorLog,
  ) {
    const l = device.limits;
    this.workgroupSize = Math.min(256, l.maxComputeInvocationsPerWorkgroup, l.maxComputeWorkgroupSizeX);
    this.maxGroupsPerDim = l.maxComputeWorkgroupsPerDimension;
  }

  /** The largest power-of-two workgroup size up to `want` the device allows. */
  clampWorkgroup(want: number): number {
    const l = this.device.limits;
    let wg = 1;
    while (wg * 2 <= Math.min(want, l.maxComputeInvocationsPerWorkgroup, l.maxComputeWorkgroupSizeX)) wg *= 2;
    return wg;
  }

  /** Generates, compiles (cached) and encodes one launch. Nothing is encoded for zero threads. */
  launch(k: Launch): void {
    if (k.threads === 0) return;
    const wg = k.workgroupSize ?? this.workgroupSize;
    const groups = k.perWorkgroup ? k.threads : Math.ceil(k.threads / wg);
    const x = Math.min(groups, this.maxGroupsPerDim);
    const y = Math.ceil(groups / x);
    if (y > this.maxGroupsPerDim) throw new RangeError(`webgpu: '${k.op}' needs ${groups} workgroups, more than ${this.maxGroupsPerDim}² (a Kiln limit)`);
    const checks = k.indexCheck !== undefined && this.indexErrors !== undefined;
    const params = new Uint32Array(1 + (k.params?.length ?? 0) + (checks ? 1 : 0));
    params[0] = k.threads;
    k.params?.forEach((p, i) => (params[i + 1] = p));
    if (checks) params[params.length - 1] = this.indexErrors!.tag(k.indexCheck!); // the launch's tag: a uniform, so no new pipeline
    const uniform = this.batcher.uniform(params); // opens the batch (and its error scope) before the pipeline is made
    // Keyed by the launch's parts, the long shared helper text apart (its hash is cached on the
    // string): building and hashing the whole source per launch cost more than encoding it.
    const key = `${k.op}|${wg}|${params.length}|${k.perWorkgroup ? 1 : 0}|${k.inputs.map((t) => t.dtype).join(',')}|${k.outputs.map((t) => t.dtype).join(',')}|${k.declarations ?? ''}|${checks ? 'E' : ''}|${k.body}`;
    const pipeline = this.pipelines.get(k.op, k.helpers ?? '', key, () => shaderSource(k, wg, params.length, checks));
    const tensors = [...k.inputs, ...k.outputs];
    const entries: GPUBindGroupEntry[] = tensors.map((t, i) => ({ binding: i, resource: { buffer: t.storage.buffer, offset: 0, size: Math.max(4, t.storage.bytes) } }));
    entries.push({ binding: tensors.length, resource: { buffer: uniform.buffer, offset: uniform.offset, size: uniform.size } });
    if (checks) entries.push({ binding: tensors.length + 1, resource: { buffer: this.indexErrors!.buffer } });
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    this.batcher.dispatch(k.op, pipeline, bindGroup, x, y);
  }

  /**
   * Writes host data into `t` at the right point of the queue. `writeBuffer` runs before passes
   * still being encoded; that is safe for fresh storage (a new or pooled buffer no pending pass
   * touches) and needs a flush first only for storage the caller offered.
   */
  writeHost(t: GpuTensor, data: TypedArray): void {
    if (t.storage.size === 0) return;
    if (t.offered) this.batcher.flush();
    this.device.queue.writeBuffer(t.storage.buffer, 0, toGpuBytes(data, t.dtype));
  }
}

/**
 * The WGSL module for a launch: bindings in order inputs, outputs, parameters, and with
 * `checks` the index-error flag (whose tag is the last parameter).
 */
export function shaderSource(k: Launch, wg: number, paramCount: number, checks = false): string {
  const lines: string[] = [];
  k.inputs.forEach((t, i) => lines.push(`@group(0) @binding(${i}) var<storage, read> in${i}: array<${WGSL_TYPE[t.dtype]}>;`));
  k.outputs.forEach((t, i) => lines.push(`@group(0) @binding(${k.inputs.length + i}) var<storage, read_write> out${i}: array<${WGSL_TYPE[t.dtype]}>;`));
  const vec4s = Math.ceil(paramCount / 4);
  lines.push(`@group(0) @binding(${k.inputs.length + k.outputs.length}) var<uniform> params: array<vec4<u32>, ${vec4s}>;`);
  lines.push('fn param(i: u32) -> u32 { return params[i / 4u][i % 4u]; }');
  if (checks) lines.push(indexErrorWgsl(k.inputs.length + k.outputs.length + 1, paramCount - 1));
  if (k.declarations) lines.push(k.declarations);
  if (k.helpers) lines.push(usedHelpers(k.helpers, `${k.body}\n${k.declarations ?? ''}`));
  // Every binding is touched so that the `auto` layout keeps it (an unused one would be dropped).
  const touch = [...k.inputs.map((_, i) => `in${i}[0]`), ...k.outputs.map((_, i) => `out${i}[0]`)].map((e) => `  _ = &${e.slice(0, -3)};`);
  if (checks) touch.push('  _ = &kiln_index_error;');
  if (k.perWorkgroup) {
    lines.push(`@compute @workgroup_size(${wg})`);
    lines.push('fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {');
    lines.push(...touch);
    lines.push('  let index = wid.x + wid.y * nwg.x;');
    lines.push('  if (index >= param(0u)) { return; }');
  } else {
    lines.push(`@compute @workgroup_size(${wg})`);
    lines.push('fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {');
    lines.push(...touch);
    lines.push(`  let index = gid.x + gid.y * nwg.x * ${wg}u;`);
    lines.push('  if (index >= param(0u)) { return; }');
  }
  lines.push(k.body);
  lines.push('}');
  return lines.join('\n');
}

/** What a kernel for an op with bodies (fused nodes) gets: the bodies, and a way to run one op by op. */
export interface Bodies {
  readonly graphs: readonly Graph[];
  /** Runs `body` node by node on this backend's kernels; the caller frees the results. */
  run(body: Graph, inputs: readonly GpuTensor[]): GpuTensor[];
  free(t: GpuTensor): void;
}

/**
 * The functions of `helpers` (WGSL text of `fn` definitions) that `code` calls, directly or
 * through each other, in their original order: unused helpers only slow pipeline creation
 * (2–4× for the float math library on lavapipe).
 */
export function usedHelpers(helpers: string, code: string): string {
  const chunks = helpers.split(/\n(?=fn )/).map((text) => ({ text, name: /^fn (\w+)/.exec(text)?.[1] }));
  const keep = new Set<string>();
  const visit = (text: string): void => {
    for (const c of chunks) {
      if (c.name && !keep.has(c.name) && new RegExp(`\\b${c.name}\\(`).test(text)) {
        keep.add(c.name);
        visit(c.text.slice(c.text.indexOf('{')));
      }
    }
  };
  visit(code);
  return chunks.filter((c) => c.name && keep.has(c.name)).map((c) => c.text).join('\n');
}

/** A kernel: reads `inputs`, writes every element of the preallocated `outputs`. */
export type WebGPUKernel<A extends Attrs = any> = (ctx: KernelContext, inputs: readonly GpuTensor[], attrs: A, outputs: readonly GpuTensor[], bodies?: Bodies) => void;

import { readdirSync } from 'node:fs';
import type { DType, Ops, TypedArray } from '@kiln/core';
import { KernelError } from '@kiln/core';
import { expect, it } from 'vitest';
import { expectClose, loadGolden, type GoldenCase } from '../../../backend-cpu/test/helpers/golden.js';
import type { WebGPUBackend } from '../../src/index.js';
import { gpuOps, type GpuValue } from './gpu_ops.js';
import { WEBGPU_DOMAIN, WEBGPU_TOLERANCE } from './tolerances.js';

/** The CPU backend's golden groups (packages/backend-cpu/test/golden/*.json): WebGPU runs the same files. */
export function goldenGroups(): string[] {
  return readdirSync(new URL('../../../backend-cpu/test/golden/', import.meta.url)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

/** Why a case does not run on WebGPU, or null when it does. */
export function skipReason(c: GoldenCase): string | null {
  if (c.inputs.some((t) => t.dtype === 'float64') || c.outputs.some((t) => t.dtype === 'float64')) return 'float64 (WGSL has none)';
  if (JSON.stringify(c.args).includes('float64')) return 'float64 (WGSL has none)';
  return null;
}

type Num = number | 'nan' | 'inf' | '-inf';
const decodeNum = (v: Num): number => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);
type Arg = GoldenCase['args'][number];

function isRef(a: Arg): a is { ref: number; permute?: number[] } {
  return typeof a === 'object' && a !== null && !Array.isArray(a) && 'ref' in a;
}

function resolve(ops: Ops<GpuValue>, args: readonly Arg[], inputs: readonly GpuValue[]): unknown[] {
  return args.map((a) => {
    if (isRef(a)) return a.permute ? ops.permute(inputs[a.ref], a.permute) : inputs[a.ref];
    if (Array.isArray(a) && a.some(isRef)) return resolve(ops, a, inputs);
    if (typeof a === 'string' && (a === 'nan' || a === 'inf' || a === '-inf')) return decodeNum(a);
    return a;
  });
}

/** The primitive a KernelError says has no WebGPU kernel, or null for other errors. */
export function missingKernel(e: unknown): string | null {
  if (!(e instanceof KernelError)) return null;
  const m = /backend 'webgpu' has no kernel for op '(\w+)'/.exec(e.message);
  return m ? m[1] : null;
}

/** Runs one golden case on WebGPU; returns the outputs read back. Every value it made is freed. */
export async function runGoldenCase(backend: WebGPUBackend, c: GoldenCase): Promise<{ data: TypedArray; shape: readonly number[]; dtype: DType }[]> {
  const made: GpuValue[] = [];
  const { ops, upload, read } = gpuOps(backend, (v) => made.push(v));
  try {
    const inputs = c.inputs.map((t) => upload(t.data.map(decodeNum), t.shape, t.dtype));
    const fn = (ops as unknown as Record<string, (...a: unknown[]) => unknown>)[c.op];
    expect(fn, `op-surface function ${c.op}`).toBeTypeOf('function');
    const result = fn(...resolve(ops, c.args, inputs));
    const outs = (Array.isArray(result) ? result : [result]) as GpuValue[];
    return await Promise.all(outs.map(async (o) => ({ data: await read(o), shape: o.shape, dtype: o.dtype })));
  } finally {
    for (const v of new Set(made)) backend.dispose(v.storage);
  }
}

type Encoded = GoldenCase['outputs'][number];

/** The output elements WEBGPU_DOMAIN says to compare (all for most ops; elementwise unary ops only). */
function inDomain(c: GoldenCase, got: { data: TypedArray; shape: readonly number[]; dtype: DType }, want: Encoded): [typeof got, Encoded] {
  const domain = WEBGPU_DOMAIN[c.op];
  if (!domain || c.inputs.length !== 1 || c.inputs[0].data.length !== want.data.length) return [got, want];
  const keep = c.inputs[0].data.map((v) => Math.abs(decodeNum(v)) <= domain.maxAbsInput);
  const data = got.data.filter((_, i) => keep[i]) as TypedArray;
  return [{ data, shape: [data.length], dtype: got.dtype }, { ...want, shape: [data.length], data: want.data.filter((_, i) => keep[i]) }];
}

/**
 * Registers one test per golden case of `group`. float64 cases are skipped (stated in the test
 * name); a case whose op needs a primitive listed in `pending` (no WebGPU kernel yet) is
 * skipped at run time; any other failure fails.
 */
export function webgpuGoldenTests(backend: WebGPUBackend | null, group: string, pending: ReadonlySet<string>): void {
  for (const c of loadGolden(group)) {
    const reason = skipReason(c);
    if (reason || !backend) {
      it.skip(`${c.op}: ${c.name}${reason ? ` (${reason})` : ''}`, () => {});
      continue;
    }
    it(`${c.op}: ${c.name}`, async (ctx) => {
      let outs;
      try {
        outs = await runGoldenCase(backend, c);
      } catch (e) {
        const missing = missingKernel(e);
        if (missing && pending.has(missing)) return ctx.skip(`no WebGPU kernel for '${missing}' yet`);
        throw e;
      }
      expect(outs.length).toBe(c.outputs.length);
      const [rtol, atol] = WEBGPU_TOLERANCE[c.op] ?? [c.rtol, c.atol];
      outs.forEach((o, i) => {
        const [got, want] = inDomain(c, o, c.outputs[i]);
        expectClose(got, want, rtol ?? c.rtol, atol ?? c.atol);
      });
      expect(backend.bytesInUse(), 'every GPU buffer the case made is freed').toBe(0);
    });
  }
}

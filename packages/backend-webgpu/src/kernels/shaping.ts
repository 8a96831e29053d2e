import type { KernelRegistry } from '@kiln/core';
import { stridesOf } from '@kiln/core';
import type { KernelContext, WebGPUKernel } from '../kernel.js';
import type { GpuTensor } from '../storage.js';
import { broadcastStrides } from './elementwise.js';
import { i32Bits, offsetCode } from './strided.js';

/** out[i] = x[base + Σ cᵢ·strides[i]] over out's coordinates: permute, broadcastTo and slice are all this. */
export function stridedRead(ctx: KernelContext, op: string, x: GpuTensor, out: GpuTensor, strides: readonly number[], base = 0): void {
  const r = out.shape.length;
  const body = `${offsetCode(r, 1, [{ name: 'o', stridesAt: 1 + r, baseAt: 1 + 2 * r }])}\n  out0[index] = in0[u32(o)];`;
  ctx.launch({ op, body, inputs: [x], outputs: [out], params: [...out.shape, ...i32Bits(strides), base >>> 0], threads: out.storage.size });
}

const reshape: WebGPUKernel = (ctx, [x], _attrs, [out]) => {
  ctx.launch({ op: 'reshape', body: '  out0[index] = in0[index];', inputs: [x], outputs: [out], threads: out.storage.size });
};

const permute: WebGPUKernel<{ axes: readonly number[] }> = (ctx, [x], { axes }, [out]) => {
  const s = stridesOf(x.shape);
  stridedRead(ctx, 'permute', x, out, axes.map((a) => s[a]));
};

const broadcastTo: WebGPUKernel = (ctx, [x], _attrs, [out]) => {
  stridedRead(ctx, 'broadcastTo', x, out, broadcastStrides(x.shape, out.shape));
};

const slice: WebGPUKernel<{ starts: readonly number[]; steps: readonly number[] }> = (ctx, [x], { starts, steps }, [out]) => {
  const s = stridesOf(x.shape);
  stridedRead(ctx, 'slice', x, out, s.map((st, i) => st * steps[i]), starts.reduce((acc, st, i) => acc + st * s[i], 0));
};

// Each input is copied into its block of the output: one launch per input, over its elements.
const concat: WebGPUKernel<{ axis: number }> = (ctx, inputs, { axis }, [out]) => {
  const os = stridesOf(out.shape);
  const r = out.shape.length;
  let at = 0;
  for (const x of inputs) {
    const body = `${offsetCode(r, 1, [{ name: 'o', stridesAt: 1 + r, baseAt: 1 + 2 * r }])}\n  out0[u32(o)] = in0[index];`;
    ctx.launch({ op: 'concat', body, inputs: [x], outputs: [out], params: [...x.shape, ...i32Bits(os), at * os[axis]], threads: x.storage.size });
    at += x.shape[axis];
  }
};

// Output coordinate c reads x at c − before on every axis, or `value` outside x (negative amounts crop).
const pad: WebGPUKernel<{ before: readonly number[]; value: number }> = (ctx, [x], { before, value }, [out]) => {
  const r = out.shape.length;
  const bits = new Uint32Array(1);
  if (x.dtype === 'float32') new Float32Array(bits.buffer)[0] = value;
  else if (x.dtype === 'int32') new Int32Array(bits.buffer)[0] = value;
  else bits[0] = value ? 1 : 0;
  const fill = x.dtype === 'bool' ? `param(${1 + 4 * r}u)` : `bitcast<${x.dtype === 'float32' ? 'f32' : 'i32'}>(param(${1 + 4 * r}u))`;
  const body = [
    '  var o = 0;',
    '  var inside = true;',
    '  var rem = index;',
    `  for (var d = 0u; d < ${r}u; d++) {`,
    `    let ax = ${r}u - d - 1u;`,
    '    let c = i32(rem % param(1u + ax));',
    '    rem = rem / param(1u + ax);',
    `    let ci = c - bitcast<i32>(param(${1 + 2 * r}u + ax));`,
    `    if (ci < 0 || ci >= i32(param(${1 + r}u + ax))) { inside = false; }`,
    `    o += ci * i32(param(${1 + 3 * r}u + ax));`,
    '  }',
    `  if (inside) { out0[index] = in0[u32(o)]; } else { out0[index] = ${fill}; }`,
  ].join('\n');
  ctx.launch({ op: 'pad', body, inputs: [x], outputs: [out], params: [...out.shape, ...x.shape, ...i32Bits(before), ...stridesOf(x.shape), bits[0]], threads: out.storage.size });
};

export function registerShapingKernels(registry: KernelRegistry<WebGPUKernel>): void {
  registry.register('reshape', reshape);
  registry.register('permute', permute);
  registry.register('broadcastTo', broadcastTo);
  registry.register('slice', slice);
  registry.register('concat', concat);
  registry.register('pad', pad);
}

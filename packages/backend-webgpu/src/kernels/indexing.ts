import type { KernelRegistry } from '@kiln/core';
import { stridesOf } from '@kiln/core';
import type { WebGPUKernel } from '../kernel.js';
import { i32Bits, offsetCode } from './strided.js';

// Out-of-range indices cannot raise an error from a GPU kernel without a readback; they read 0
// (or add nothing) here, where the CPU backend throws. docs/design/webgpu.md lists this.
type AxisAttrs = { axis: number };

// out[p] = x[p with its axis coordinate replaced by index[p]]; p runs over index's shape.
const gather: WebGPUKernel<AxisAttrs> = (ctx, [x, index], { axis }, [out]) => {
  const r = index.shape.length;
  const xs = stridesOf(x.shape);
  const body = [
    offsetCode(r, 1, [{ name: 'o', stridesAt: 1 + r }]),
    '  let k = in1[index];',
    `  let n = i32(param(${1 + 2 * r}u));`,
    `  if (k < 0 || k >= n) { out0[index] = out0[index] - out0[index]; return; }`,
    `  out0[index] = in0[u32(o + k * i32(param(${2 + 2 * r}u)))];`,
  ].join('\n');
  const strides = xs.map((s, i) => (i === axis ? 0 : s));
  ctx.launch({ op: 'gather', body, inputs: [x, index], outputs: [out], params: [...index.shape, ...i32Bits(strides), x.shape[axis], xs[axis]], threads: out.storage.size });
};

// out's coordinate on `axis` is a position in `index`: read x at index[that position].
const indexSelect: WebGPUKernel<AxisAttrs> = (ctx, [x, index], { axis }, [out]) => {
  const r = out.shape.length;
  const xs = stridesOf(x.shape);
  const body = [
    '  var o = 0;',
    '  var ok = true;',
    '  var rem = index;',
    `  for (var d = 0u; d < ${r}u; d++) {`,
    `    let ax = ${r}u - d - 1u;`,
    '    let c = i32(rem % param(1u + ax));',
    '    rem = rem / param(1u + ax);',
    `    var k = c;`,
    `    if (ax == ${axis}u) { k = in1[u32(c)]; if (k < 0 || k >= i32(param(${1 + 2 * r}u))) { ok = false; } }`,
    `    o += k * i32(param(${1 + r}u + ax));`,
    '  }',
    '  if (ok) { out0[index] = in0[u32(o)]; } else { out0[index] = out0[index] - out0[index]; }',
  ].join('\n');
  ctx.launch({ op: 'indexSelect', body, inputs: [x, index], outputs: [out], params: [...out.shape, ...xs, x.shape[axis]], threads: out.storage.size });
};

const take: WebGPUKernel = (ctx, [x, index], _attrs, [out]) => {
  const body = [
    '  var k = in1[index];',
    '  let n = i32(param(1u));',
    '  if (k < 0) { k = k + n; }',
    '  if (k < 0 || k >= n) { out0[index] = out0[index] - out0[index]; return; }',
    '  out0[index] = in0[u32(k)];',
  ].join('\n');
  ctx.launch({ op: 'take', body, inputs: [x, index], outputs: [out], params: [x.storage.size], threads: out.storage.size });
};

// One invocation per element of x: adds, in index order, every src element aimed at it. No
// atomics (WGSL has no float atomics), and the same summation order as the CPU backend.
const scatterAdd: WebGPUKernel<AxisAttrs> = (ctx, [x, index, src], { axis }, [out]) => {
  const r = x.shape.length;
  const is = stridesOf(index.shape);
  const ss = stridesOf(src.shape);
  const P = { xShape: 1, iShape: 1 + r, iStrides: 1 + 2 * r, sStrides: 1 + 3 * r };
  const body = [
    '  var qi = 0u;',
    '  var qs = 0u;',
    '  var inside = true;',
    '  var wanted = 0;',
    '  var rem = index;',
    `  for (var d = 0u; d < ${r}u; d++) {`,
    `    let ax = ${r}u - d - 1u;`,
    `    let c = rem % param(${P.xShape}u + ax);`,
    `    rem = rem / param(${P.xShape}u + ax);`,
    `    if (ax == ${axis}u) { wanted = i32(c); } else {`,
    `      if (c >= param(${P.iShape}u + ax)) { inside = false; }`,
    `      qi += c * param(${P.iStrides}u + ax);`,
    `      qs += c * param(${P.sStrides}u + ax);`,
    '    }',
    '  }',
    '  var acc = in0[index];',
    '  if (inside) {',
    `    for (var i = 0u; i < param(${P.iShape + axis}u); i++) {`,
    `      if (in1[qi + i * param(${P.iStrides + axis}u)] == wanted) { acc += in2[qs + i * param(${P.sStrides + axis}u)]; }`,
    '    }',
    '  }',
    '  out0[index] = acc;',
  ].join('\n');
  ctx.launch({ op: 'scatterAdd', body, inputs: [x, index, src], outputs: [out], params: [...x.shape, ...index.shape, ...is, ...ss], threads: out.storage.size });
};

export function registerIndexingKernels(registry: KernelRegistry<WebGPUKernel>): void {
  registry.register('gather', gather);
  registry.register('indexSelect', indexSelect);
  registry.register('take', take);
  registry.register('scatterAdd', scatterAdd);
}

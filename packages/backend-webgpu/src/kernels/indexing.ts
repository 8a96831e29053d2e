import type { KernelRegistry } from '@kiln/core';
import { shapeToString, stridesOf } from '@kiln/core';
import type { IndexCheck } from '../index_errors.js';
import type { WebGPUKernel } from '../kernel.js';
import type { GpuTensor } from '../storage.js';
import { i32Bits, offsetCode } from './strided.js';

// An out-of-range index is flagged with index_error(k, position) (index_errors.ts): the output
// element gets 0 and the next read raises the ArgumentError the CPU backend throws at once.
type AxisAttrs = { axis: number };

/** The CPU backend's wording for an index outside `axis` of x, plus where WebGPU found it. */
function axisCheck(op: string, x: GpuTensor, axis: number): IndexCheck {
  const n = x.shape[axis];
  const shape = shapeToString(x.shape);
  const valid = n === 0 ? 'the axis is empty, so no index is valid' : `valid indices are 0..${n - 1}`;
  return { message: (k, p) => `${op}: index ${k} is out of range for axis ${axis} of size ${n} (x has shape ${shape}; ${valid}); found on WebGPU at flat position ${p} of the index tensor and raised at the first read after the op ran` };
}

// out[p] = x[p with its axis coordinate replaced by index[p]]; p runs over index's shape.
const gather: WebGPUKernel<AxisAttrs> = (ctx, [x, index], { axis }, [out]) => {
  const r = index.shape.length;
  const xs = stridesOf(x.shape);
  const body = [
    offsetCode(r, 1, [{ name: 'o', stridesAt: 1 + r }]),
    '  let k = in1[index];',
    `  let n = i32(param(${1 + 2 * r}u));`,
    `  if (k < 0 || k >= n) { index_error(k, index); out0[index] = out0[index] - out0[index]; return; }`,
    `  out0[index] = in0[u32(o + k * i32(param(${2 + 2 * r}u)))];`,
  ].join('\n');
  const strides = xs.map((s, i) => (i === axis ? 0 : s));
  ctx.launch({ op: 'gather', body, inputs: [x, index], outputs: [out], params: [...index.shape, ...i32Bits(strides), x.shape[axis], xs[axis]], threads: out.storage.size, indexCheck: axisCheck('gather', x, axis) });
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
    `    if (ax == ${axis}u) { k = in1[u32(c)]; if (k < 0 || k >= i32(param(${1 + 2 * r}u))) { ok = false; index_error(k, u32(c)); } }`,
    `    o += k * i32(param(${1 + r}u + ax));`,
    '  }',
    '  if (ok) { out0[index] = in0[u32(o)]; } else { out0[index] = out0[index] - out0[index]; }',
  ].join('\n');
  ctx.launch({ op: 'indexSelect', body, inputs: [x, index], outputs: [out], params: [...out.shape, ...xs, x.shape[axis]], threads: out.storage.size, indexCheck: axisCheck('indexSelect', x, axis) });
};

const take: WebGPUKernel = (ctx, [x, index], _attrs, [out]) => {
  const body = [
    '  let given = in1[index];',
    '  var k = given;',
    '  let n = i32(param(1u));',
    '  if (k < 0) { k = k + n; }',
    '  if (k < 0 || k >= n) { index_error(given, index); out0[index] = out0[index] - out0[index]; return; }',
    '  out0[index] = in0[u32(k)];',
  ].join('\n');
  const size = x.storage.size;
  const valid = size === 0 ? 'x is empty, so no index is valid' : `valid indices are ${-size}..${size - 1}`;
  const shape = shapeToString(x.shape);
  const indexCheck: IndexCheck = {
    message: (k, p) => `take: index ${k} is out of range for x of shape ${shape} with ${size} elements (${valid}); found on WebGPU at flat position ${p} of the index tensor and raised at the first read after the op ran`,
  };
  ctx.launch({ op: 'take', body, inputs: [x, index], outputs: [out], params: [size], threads: out.storage.size, indexCheck });
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
    `  let n = i32(param(${P.xShape + axis}u));`,
    '  if (inside) {',
    `    for (var i = 0u; i < param(${P.iShape + axis}u); i++) {`,
    `      let at = qi + i * param(${P.iStrides + axis}u);`,
    '      let k = in1[at];',
    `      if (k == wanted) { acc += in2[qs + i * param(${P.sStrides + axis}u)]; }`,
    // The invocations at coordinate 0 of the axis check their column's indices.
    '      if (wanted == 0 && (k < 0 || k >= n)) { index_error(k, at); }',
    '    }',
    '  }',
    '  out0[index] = acc;',
  ].join('\n');
  const indexCheck = axisCheck('scatterAdd', x, axis);
  if (out.storage.size === 0 && index.storage.size > 0) {
    // x is empty along the axis: no invocation above runs, and every index is out of range.
    ctx.launch({ op: 'scatterAdd (index check)', body: '  index_error(in0[index], index);', inputs: [index], outputs: [], threads: index.storage.size, indexCheck });
    return;
  }
  ctx.launch({ op: 'scatterAdd', body, inputs: [x, index, src], outputs: [out], params: [...x.shape, ...index.shape, ...is, ...ss], threads: out.storage.size, indexCheck });
};

export function registerIndexingKernels(registry: KernelRegistry<WebGPUKernel>): void {
  registry.register('gather', gather);
  registry.register('indexSelect', indexSelect);
  registry.register('take', take);
  registry.register('scatterAdd', scatterAdd);
}

import type { KernelRegistry, Shape } from '@kiln/core';
import { stridesOf } from '@kiln/core';
import type { KernelContext, WebGPUKernel } from '../kernel.js';
import { WGSL_TYPE, type GpuDType } from '../layout.js';
import type { GpuTensor } from '../storage.js';
import { WGSL_MATH } from './wgsl_math.js';

/**
 * x's axes split into kept and reduced, each with its shape and x strides: output element `o`
 * starts at Σ keptCoord·keptStride, and its m = Π reducedShape inputs are at that plus
 * Σ reducedCoord·reducedStride.
 */
export function split(shape: Shape, reduced: readonly number[]): { kept: number[]; keptStrides: number[]; red: number[]; redStrides: number[] } {
  const s = stridesOf(shape);
  const kept: number[] = [], keptStrides: number[] = [], red: number[] = [], redStrides: number[] = [];
  shape.forEach((d, i) => {
    if (reduced.includes(i)) { red.push(d); redStrides.push(s[i]); }
    else { kept.push(d); keptStrides.push(s[i]); }
  });
  return { kept, keptStrides, red, redStrides };
}

/** WGSL: `name` = offset of coordinate `of` over `rank` dims (shape at param `shapeAt`, strides after it). */
export function offset(name: string, of: string, rank: number, shapeAt: number): string {
  if (rank === 0) return `    let ${name} = 0u;`;
  return [
    `    var ${name} = 0u;`,
    `    var rem_${name} = ${of};`,
    `    for (var d = 0u; d < ${rank}u; d++) {`,
    `      let ax = ${rank}u - d - 1u;`,
    `      let dim = param(${shapeAt}u + ax);`,
    `      ${name} += (rem_${name} % dim) * param(${shapeAt + rank}u + ax);`,
    `      rem_${name} = rem_${name} / dim;`,
    '    }',
  ].join('\n');
}

interface Combine {
  /** The identity, as a WGSL expression of the element type. */
  readonly init: string;
  /** `acc` combined with `v` (WGSL). */
  readonly step: string;
}

export function combineFor(op: string, dtype: GpuDType): Combine {
  const t = WGSL_TYPE[dtype];
  const float = dtype === 'float32';
  switch (op) {
    case 'sum': return { init: `${t}(0)`, step: 'acc + v' };
    case 'prod': return { init: `${t}(1)`, step: 'acc * v' };
    case 'max': return { init: float ? '-k_inf()' : dtype === 'int32' ? 'i32(-2147483647 - 1)' : '0u', step: float ? 'select(select(acc, v, v > acc), k_nan(), k_isnan(v) || k_isnan(acc))' : 'max(acc, v)' };
    default: return { init: float ? 'k_inf()' : dtype === 'int32' ? '2147483647' : '1u', step: float ? 'select(select(acc, v, v < acc), k_nan(), k_isnan(v) || k_isnan(acc))' : 'min(acc, v)' };
  }
}

/** One workgroup per output element: each lane folds a strided share of its inputs, then a tree in workgroup memory. */
function reduce(ctx: KernelContext, op: string, x: GpuTensor, out: GpuTensor, axes: readonly number[]): void {
  const { kept, keptStrides, red, redStrides } = split(x.shape, axes);
  const m = red.reduce((a, b) => a * b, 1);
  const wg = ctx.clampWorkgroup(m <= 64 ? 64 : 256);
  const t = WGSL_TYPE[x.dtype];
  const { init, step } = combineFor(op, x.dtype);
  const K = kept.length, Q = red.length;
  const mAt = 1 + 2 * K + 2 * Q;
  const body = [
    offset('base', 'index', K, 1),
    `    var acc: ${t} = ${init};`,
    `    for (var j = lane; j < param(${mAt}u); j += ${wg}u) {`,
    offset('o', 'j', Q, 1 + 2 * K),
    '      let v = in0[base + o];',
    `      acc = ${step};`,
    '    }',
    '    partials[lane] = acc;',
    '    workgroupBarrier();',
    `    for (var s = ${wg / 2}u; s > 0u; s = s >> 1u) {`,
    '      if (lane < s) {',
    '        let acc = partials[lane];',
    '        let v = partials[lane + s];',
    `        partials[lane] = ${step};`,
    '      }',
    '      workgroupBarrier();',
    '    }',
    '    if (lane == 0u) { out0[index] = partials[0]; }',
  ].join('\n');
  ctx.launch({
    op, body, helpers: x.dtype === 'float32' ? WGSL_MATH : '', declarations: `var<workgroup> partials: array<${t}, ${wg}>;`,
    inputs: [x], outputs: [out], params: [...kept, ...keptStrides, ...red, ...redStrides, m], threads: out.storage.size, workgroupSize: wg, perWorkgroup: true,
  });
}

const reduceKernel = (op: string): WebGPUKernel<{ axes: readonly number[] }> => (ctx, [x], { axes }, [out]) => reduce(ctx, op, x, out, axes);

/** argmax/argmin as a tree over (value, index) pairs: the first NaN wins, then the better value, ties to the lower index (the CPU's sequential rule). */
function argReduce(op: 'argmax' | 'argmin'): WebGPUKernel<{ axis: number | null }> {
  return (ctx, [x], { axis }, [out]) => {
    const axes = axis === null ? x.shape.map((_, i) => i) : [axis];
    const { kept, keptStrides, red, redStrides } = split(x.shape, axes);
    const m = red.reduce((a, b) => a * b, 1);
    const wg = ctx.clampWorkgroup(m <= 64 ? 64 : 256);
    const t = WGSL_TYPE[x.dtype];
    const K = kept.length, Q = red.length;
    const mAt = 1 + 2 * K + 2 * Q;
    const nan = x.dtype === 'float32' ? 'k_isnan' : 'k_never';
    const better = op === 'argmax' ? '>' : '<';
    const body = [
      offset('base', 'index', K, 1),
      '    var bv = in0[base];',
      '    var bi = -1;',
      `    for (var j = lane; j < param(${mAt}u); j += ${wg}u) {`,
      offset('o', 'j', Q, 1 + 2 * K),
      '      let v = in0[base + o];',
      `      if (bi < 0 || (!${nan}(bv) && (${nan}(v) || v ${better} bv))) { bv = v; bi = i32(j); }`,
      '    }',
      '    vals[lane] = bv;',
      '    idxs[lane] = bi;',
      '    workgroupBarrier();',
      `    for (var s = ${wg / 2}u; s > 0u; s = s >> 1u) {`,
      '      if (lane < s) {',
      '        let av = vals[lane]; let ai = idxs[lane];',
      '        let cv = vals[lane + s]; let ci = idxs[lane + s];',
      '        var takeC = false;',
      '        if (ci >= 0) {',
      '          if (ai < 0) { takeC = true; }',
      `          else if (${nan}(av) || ${nan}(cv)) { takeC = ${nan}(cv) && (!${nan}(av) || ci < ai); }`,
      `          else { takeC = cv ${better} av || (cv == av && ci < ai); }`,
      '        }',
      '        if (takeC) { vals[lane] = cv; idxs[lane] = ci; }',
      '      }',
      '      workgroupBarrier();',
      '    }',
      '    if (lane == 0u) { out0[index] = idxs[0]; }',
    ].join('\n');
    ctx.launch({
      op, body, helpers: `${x.dtype === 'float32' ? WGSL_MATH : ''}\nfn k_never(v: ${t}) -> bool { return false; }`,
      declarations: `var<workgroup> vals: array<${t}, ${wg}>;\nvar<workgroup> idxs: array<i32, ${wg}>;`,
      inputs: [x], outputs: [out], params: [...kept, ...keptStrides, ...red, ...redStrides, m], threads: out.storage.size, workgroupSize: wg, perWorkgroup: true,
    });
  };
}

// One invocation per line along the axis, summing in order (float32 accumulators: the CPU sums
// in float64, so long float32 scans differ by rounding; tolerances.ts states it).
const cumsum: WebGPUKernel<{ axis: number }> = (ctx, [x], { axis }, [out]) => {
  const n = x.shape[axis];
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const t = WGSL_TYPE[x.dtype];
  const float = x.dtype === 'float32';
  const body = [
    '  let n = param(1u);',
    '  let inner = param(2u);',
    '  let start = (index / inner) * n * inner + index % inner;',
    '  let one = bitcast<f32>(param(3u));',
    `  var acc = ${t}(0);`,
    '  var comp = acc;',
    '  for (var k = 0u; k < n; k++) {',
    '    let v = in0[start + k * inner];',
    // Kahan-compensated for floats: close to the CPU's float64 running sum rounded to float32.
    // \`one\` is 1.0 from a parameter: the compiler cannot see through it to fold the compensation away.
    float ? '    let y = v - comp;\n    let t = (acc + y) * one;\n    comp = select((t - acc) - y, 0.0, k_isinf(t) || k_isnan(t));\n    acc = t;' : '    acc = acc + v;',
    '    out0[start + k * inner] = acc;',
    '  }',
  ].join('\n');
  ctx.launch({ op: 'cumsum', body, helpers: float ? WGSL_MATH : '', inputs: [x], outputs: [out], params: [n, inner, 0x3f800000], threads: n === 0 ? 0 : outer * inner });
};

export function registerReduceKernels(registry: KernelRegistry<WebGPUKernel>): void {
  for (const op of ['sum', 'prod', 'max', 'min']) registry.register(op, reduceKernel(op));
  registry.register('argmax', argReduce('argmax'));
  registry.register('argmin', argReduce('argmin'));
  registry.register('cumsum', cumsum);
}

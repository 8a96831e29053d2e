import type { KernelRegistry } from '@kiln/core';
import type { WebGPUKernel } from '../kernel.js';
import { WGSL_TYPE, type GpuDType } from '../layout.js';
import { elementwise } from './elementwise.js';
import { WGSL_INT_MATH, WGSL_MATH } from './wgsl_math.js';

/** A WGSL expression per input dtype, over `a0`, `a1`, `a2`; undefined where the op does not take that dtype. */
export type Exprs = Partial<Record<GpuDType, string>>;

const truthy = (v: string, dtype: GpuDType): string => `!(${v} == ${WGSL_TYPE[dtype]}(0))`;
const bool = (cond: string): string => `select(0u, 1u, ${cond})`;

export const UNARY: Record<string, Exprs> = {
  neg: { float32: '-a0', int32: '-a0' },
  abs: { float32: 'abs(a0)', int32: 'abs(a0)' },
  sign: { float32: 'select(select(0.0, -1.0, a0 < 0.0), 1.0, a0 > 0.0)', int32: 'sign(a0)' },
  exp: { float32: 'exp(a0)' },
  log: { float32: 'log(a0)' },
  log1p: { float32: 'k_log1p(a0)' },
  expm1: { float32: 'k_expm1(a0)' },
  sqrt: { float32: 'sqrt(a0)' },
  rsqrt: { float32: '1.0 / sqrt(a0)' },
  reciprocal: { float32: '1.0 / a0' },
  sin: { float32: 'sin(a0)' },
  cos: { float32: 'cos(a0)' },
  tanh: { float32: 'k_tanh(a0)' },
  sigmoid: { float32: 'k_sigmoid(a0)' },
  relu: { float32: 'select(a0, 0.0, a0 < 0.0)', int32: 'max(a0, 0)' },
  erf: { float32: 'k_erf(a0)' },
  floor: { float32: 'floor(a0)', int32: 'a0' },
  ceil: { float32: 'ceil(a0)', int32: 'a0' },
  round: { float32: 'round(a0)', int32: 'a0' }, // WGSL rounds half to even, as PyTorch
  logicalNot: { float32: bool('a0 == 0.0'), int32: bool('a0 == 0'), bool: bool('a0 == 0u') },
  isNaN: { float32: bool('k_isnan(a0)'), int32: '0u', bool: '0u' },
};

const arith = (op: string): Exprs => ({ float32: `a0 ${op} a1`, int32: `a0 ${op} a1` });
const compare = (op: string): Exprs => ({ float32: bool(`a0 ${op} a1`), int32: bool(`a0 ${op} a1`), bool: bool(`a0 ${op} a1`) });
// Not `a != b`: lavapipe compiles float != as an ordered comparison (NaN != NaN is false).
const notEqual: Exprs = { float32: bool('!(a0 == a1)'), int32: bool('a0 != a1'), bool: bool('a0 != a1') };
const logical = (op: string): Exprs => Object.fromEntries((['float32', 'int32', 'bool'] as const).map((d) => [d, bool(`${truthy('a0', d)} ${op} ${truthy('a1', d)}`)]));

export const BINARY: Record<string, Exprs> = {
  add: arith('+'),
  sub: arith('-'),
  mul: arith('*'),
  div: { float32: 'a0 / a1' },
  pow: { float32: 'k_pow(a0, a1)', int32: 'k_ipow(a0, a1)' },
  maximum: { float32: 'k_maximum(a0, a1)', int32: 'max(a0, a1)' },
  minimum: { float32: 'k_minimum(a0, a1)', int32: 'min(a0, a1)' },
  mod: { float32: 'k_mod(a0, a1)', int32: 'k_imod(a0, a1)' },
  eq: compare('=='),
  ne: notEqual,
  lt: compare('<'),
  le: compare('<='),
  gt: compare('>'),
  ge: compare('>='),
  logicalAnd: logical('&&'),
  logicalOr: logical('||'),
};

function helpersFor(dtype: GpuDType): string {
  return dtype === 'float32' ? WGSL_MATH : dtype === 'int32' ? WGSL_INT_MATH : '';
}

function mapKernel(name: string, exprs: Exprs): WebGPUKernel {
  return (ctx, inputs, _attrs, [out]) => {
    const dtype = inputs[0].dtype;
    const expr = exprs[dtype];
    if (expr === undefined) throw new TypeError(`webgpu: '${name}' has no ${dtype} kernel (the op's dtype rule should have cast its input; a Kiln bug)`);
    elementwise(ctx, name, inputs, out, expr, helpersFor(dtype));
  };
}

export function castExpr(from: GpuDType, to: GpuDType): string {
  if (to === 'bool') return bool(truthy('a0', from));
  if (to === 'float32') return 'f32(a0)';
  return from === 'float32' ? 'k_f32_to_i32(a0)' : 'i32(a0)';
}

const cast: WebGPUKernel = (ctx, [x], _attrs, [out]) => {
  elementwise(ctx, 'cast', [x], out, castExpr(x.dtype, out.dtype), x.dtype === 'float32' ? WGSL_MATH : '');
};

const where: WebGPUKernel = (ctx, inputs, _attrs, [out]) => {
  elementwise(ctx, 'where', inputs, out, 'select(a2, a1, a0 != 0u)');
};

export function registerMathKernels(registry: KernelRegistry<WebGPUKernel>): void {
  for (const [name, exprs] of Object.entries(UNARY)) registry.register(name, mapKernel(name, exprs));
  for (const [name, exprs] of Object.entries(BINARY)) registry.register(name, mapKernel(name, exprs));
  registry.register('cast', cast);
  registry.register('where', where);
}

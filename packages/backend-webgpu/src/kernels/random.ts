import type { KernelRegistry } from '@kiln/core';

// Philox4x32's multipliers and Weyl constants (as @kiln/core's reference; test/random.test.ts
// checks the words against it).
const PHILOX_M0 = 0xd2511f53;
const PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9;
const PHILOX_W1 = 0xbb67ae85;
import type { WebGPUKernel } from '../kernel.js';

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}u`;

/**
 * Philox4x32-10 in WGSL, word for word the reference in @kiln/core (docs/design/random.md):
 * block b of key (seed, stream) is philox((b, 0, 0, 0), key). The 32×32→64 multiply is done
 * in 16-bit halves, as the reference does, since WGSL has no 64-bit integers.
 */
export const WGSL_PHILOX = /* wgsl */ `
fn k_mulhi(a: u32, b: u32) -> u32 {
  let aLo = a & 0xffffu; let aHi = a >> 16u; let bLo = b & 0xffffu; let bHi = b >> 16u;
  let lolo = aLo * bLo; let hilo = aHi * bLo; let lohi = aLo * bHi;
  let carry = ((lolo >> 16u) + (hilo & 0xffffu) + (lohi & 0xffffu)) >> 16u;
  return aHi * bHi + (hilo >> 16u) + (lohi >> 16u) + carry;
}
fn k_philox(block: u32, seed: u32, stream: u32) -> vec4<u32> {
  var c = vec4<u32>(block, 0u, 0u, 0u);
  var k0 = seed; var k1 = stream;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) { k0 = k0 + ${hex(PHILOX_W0)}; k1 = k1 + ${hex(PHILOX_W1)}; }
    let hi0 = k_mulhi(${hex(PHILOX_M0)}, c.x); let lo0 = ${hex(PHILOX_M0)} * c.x;
    let hi1 = k_mulhi(${hex(PHILOX_M1)}, c.z); let lo1 = ${hex(PHILOX_M1)} * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k0, lo1, hi0 ^ c.w ^ k1, lo0);
  }
  return c;
}
fn k_unit(w: u32) -> f32 { return f32(w >> 8u) * 5.9604644775390625e-8; }
`;

// One invocation per Philox block: it writes the block's 4 elements (fewer at the end).
const randomUniform: WebGPUKernel = (ctx, [key], _attrs, [out]) => {
  const body = [
    '  let w = k_philox(index, bitcast<u32>(in0[0]), bitcast<u32>(in0[1]));',
    '  let n = param(1u);',
    '  for (var l = 0u; l < 4u; l++) { let i = 4u * index + l; if (i < n) { out0[i] = k_unit(w[l]); } }',
  ].join('\n');
  ctx.launch({ op: 'randomUniform', body, helpers: WGSL_PHILOX, inputs: [key], outputs: [out], params: [out.storage.size], threads: Math.ceil(out.storage.size / 4) });
};

// Box–Muller on word pairs (2j, 2j+1) as the reference: u1 = (hi24 + 1)·2⁻²⁴ ∈ (0, 1], u2 ∈ [0, 1).
// The reference computes log/cos/sin in float64; float32 here, so values agree to a few ulp.
const randomNormal: WebGPUKernel = (ctx, [key], _attrs, [out]) => {
  const body = [
    '  let w = k_philox(index, bitcast<u32>(in0[0]), bitcast<u32>(in0[1]));',
    '  let n = param(1u);',
    '  for (var p = 0u; p < 2u; p++) {',
    '    let u1 = f32((w[2u * p] >> 8u) + 1u) * 5.9604644775390625e-8;',
    '    let u2 = k_unit(w[2u * p + 1u]);',
    '    let r = sqrt(-2.0 * log(u1));',
    '    let theta = 6.283185307179586 * u2;',
    '    let i = 4u * index + 2u * p;',
    '    if (i < n) { out0[i] = r * cos(theta); }',
    '    if (i + 1u < n) { out0[i + 1u] = r * sin(theta); }',
    '  }',
  ].join('\n');
  ctx.launch({ op: 'randomNormal', body, helpers: WGSL_PHILOX, inputs: [key], outputs: [out], params: [out.storage.size], threads: Math.ceil(out.storage.size / 4) });
};

export function registerRandomKernels(registry: KernelRegistry<WebGPUKernel>): void {
  registry.register('randomUniform', randomUniform);
  registry.register('randomNormal', randomNormal);
}

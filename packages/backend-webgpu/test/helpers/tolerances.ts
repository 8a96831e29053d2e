/**
 * How far WebGPU float32 results may be from PyTorch's golden values, per op, as [rtol, atol]
 * (|got − want| ≤ atol + rtol·|want|). Ops not listed use the golden file's own tolerance or
 * the CPU default (1e-5, 1e-6). Integer and bool results are always exact. Why each is wider:
 * WGSL's built-in transcendentals are specified to a few ulp, not correctly rounded, and
 * erf/pow/log1p/expm1 are float32 formulas here (the CPU computes in float64, then rounds).
 */
export const WEBGPU_TOLERANCE: Readonly<Record<string, readonly [number, number]>> = {
  exp: [1e-5, 1e-6],
  log: [1e-5, 1e-6],
  log1p: [2e-5, 1e-6],
  expm1: [2e-5, 1e-6],
  sin: [1e-5, 2e-6],
  cos: [1e-5, 2e-6],
  tanh: [1e-5, 1e-6],
  sigmoid: [1e-5, 1e-6],
  erf: [1e-5, 1e-6],
  gelu: [1e-5, 1e-6],
  pow: [2e-5, 1e-6],
  mod: [1e-5, 1e-5],
};

/**
 * Inputs where an op's WebGPU result is not compared, by op: WGSL's sin and cos are specified
 * on [-π, π] and reduce larger arguments in float32, so sin(1e30) is noise (PyTorch reduces
 * exactly). Exact large-argument reduction (Payne–Hanek) is future work.
 */
export const WEBGPU_DOMAIN: Readonly<Record<string, { readonly maxAbsInput: number; readonly why: string }>> = {
  sin: { maxAbsInput: 1e4, why: 'no exact range reduction for |x| > 1e4' },
  cos: { maxAbsInput: 1e4, why: 'no exact range reduction for |x| > 1e4' },
};

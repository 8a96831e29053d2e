/**
 * WGSL functions for float32 math that WGSL lacks or leaves implementation-defined (NaN and
 * infinities, pow of negative bases, log1p, expm1, erf, float → int32 conversion). Written to
 * match the CPU backend's semantics; accuracy is stated per op in test/helpers/tolerances.ts.
 */
export const WGSL_MATH = /* wgsl */ `
fn k_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn k_isinf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
// Through a var: WGSL's constant evaluation rejects NaN and infinite values.
fn k_nan() -> f32 { var bits = 0x7fc00000u; return bitcast<f32>(bits); }
fn k_inf() -> f32 { var bits = 0x7f800000u; return bitcast<f32>(bits); }
fn k_log1p(x: f32) -> f32 {
  if (x < -1.0) { return k_nan(); }
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  if (k_isinf(u)) { return u; }
  return log(u) * x / (u - 1.0);
}
fn k_expm1(x: f32) -> f32 {
  if (k_isnan(x)) { return x; }
  if (x > 88.8) { return k_inf(); }
  if (abs(x) < 1e-5) { return x + 0.5 * x * x; }
  let u = exp(x);
  let um1 = u - 1.0;
  if (um1 == -1.0) { return -1.0; }
  return um1 * x / log(u);
}
fn k_tanh(x: f32) -> f32 {
  if (k_isnan(x)) { return x; }
  return tanh(clamp(x, -15.0, 15.0));
}
fn k_sigmoid(x: f32) -> f32 {
  if (k_isnan(x)) { return x; }
  return 1.0 / (1.0 + exp(-clamp(x, -100.0, 100.0)));
}
fn k_erf(x: f32) -> f32 {
  if (k_isnan(x)) { return x; }
  let z = abs(x);
  if (z < 0.5) {
    let z2 = z * z;
    let s = z * (1.0 + z2 * (-1.0 / 3.0 + z2 * (0.1 + z2 * (-1.0 / 42.0 + z2 * (1.0 / 216.0 + z2 * (-1.0 / 1320.0))))));
    return sign(x) * 1.1283791670955126 * s;
  }
  if (z > 6.0) { return sign(x); }
  // Numerical Recipes' erfc: fractional error below 1.2e-7.
  let t = 1.0 / (1.0 + 0.5 * z);
  let e = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return sign(x) * (1.0 - e);
}
fn k_odd(b: f32) -> bool { return floor(b) == b && abs(b) < 16777216.0 && (i32(b) & 1) != 0; }
fn k_pow(a: f32, b: f32) -> f32 {
  if (b == 0.0 || a == 1.0) { return 1.0; }
  if (k_isnan(a) || k_isnan(b)) { return k_nan(); }
  let ab = abs(a);
  if (k_isinf(b)) {
    if (ab == 1.0) { return 1.0; }
    return select(0.0, k_inf(), (ab > 1.0) == (b > 0.0));
  }
  if (k_isinf(a)) {
    let m = select(0.0, k_inf(), b > 0.0);
    return select(m, -m, a < 0.0 && k_odd(b));
  }
  let integral = floor(b) == b;
  if (a < 0.0 && !integral) { return k_nan(); }
  let negate = a < 0.0 && k_odd(b);
  var m: f32;
  if (ab == 0.0) { m = select(k_inf(), 0.0, b > 0.0); }
  else if (k_isinf(ab)) { m = select(0.0, k_inf(), b > 0.0); }
  else if (b == 2.0) { m = ab * ab; }
  else if (b == 1.0) { m = ab; }
  else { m = exp2(b * log2(ab)); }
  return select(m, -m, negate);
}
fn k_maximum(a: f32, b: f32) -> f32 {
  if (k_isnan(a) || k_isnan(b)) { return k_nan(); }
  return max(a, b);
}
fn k_minimum(a: f32, b: f32) -> f32 {
  if (k_isnan(a) || k_isnan(b)) { return k_nan(); }
  return min(a, b);
}
// fmod, exactly: subtract the largest b·2^k not above the remainder (each step exact by
// Sterbenz's lemma), at most one step per binary order of magnitude between a and b.
fn k_fmod(a: f32, b: f32) -> f32 {
  var r = abs(a);
  let m = abs(b);
  for (var i = 0; i < 300 && r >= m; i++) {
    var d = ldexp(m, max(0, frexp(r).exp - frexp(m).exp));
    if (d > r) { d = d * 0.5; }
    r = r - d;
  }
  return select(r, -r, a < 0.0);
}
// Python's % (torch.remainder): fmod, then moved to the divisor's sign.
fn k_mod(a: f32, b: f32) -> f32 {
  if (k_isnan(a) || k_isnan(b) || k_isinf(a) || b == 0.0) { return k_nan(); }
  var r = a;
  if (!k_isinf(b)) { r = k_fmod(a, b); }
  if (r != 0.0 && ((r < 0.0) != (b < 0.0))) { r = r + b; }
  return r;
}
fn k_f32_to_i32(x: f32) -> i32 {
  if (k_isnan(x) || k_isinf(x)) { return i32(-2147483647 - 1); }
  if (abs(x) < 2147483648.0) { return i32(x); }
  // Out of range: wrap modulo 2^32 as JavaScript's ToInt32 (x is an integer here, a multiple of 256).
  let hi = floor(x / 4294967296.0);
  let lo = x - hi * 4294967296.0;
  return bitcast<i32>(u32(lo));
}
`;

/** Integer helpers (int32 arithmetic wraps in WGSL, as in PyTorch). */
export const WGSL_INT_MATH = /* wgsl */ `
fn k_ipow(a: i32, b: i32) -> i32 {
  if (b < 0) { return select(select(0, select(-1, 1, (b & 1) == 0), a == -1), 1, a == 1); }
  var result = 1;
  var base = a;
  var e = u32(b);
  while (e > 0u) {
    if ((e & 1u) != 0u) { result = result * base; }
    base = base * base;
    e = e >> 1u;
  }
  return result;
}
fn k_imod(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  if (b == -1) { return 0; }
  var r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) { r = r + b; }
  return r;
}
`;

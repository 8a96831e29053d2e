/** Scalar math that JavaScript's Math lacks, accurate to float64. */

const TWO_OVER_SQRT_PI = 1.1283791670955126;

/**
 * The error function. For |x| < 3 a series of positive terms (no cancellation):
 * erf(x) = 2/√π · e^{-x²} · Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1)); beyond, 1 - erfc(x) with erfc from
 * its continued fraction. Both are accurate to a few ulps in float64.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 3) return Math.sign(x) * (1 - erfcLarge(ax));
  const x2 = ax * ax;
  let term = ax;
  let sum = ax;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.sign(x) * TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** erfc(x) for x ≥ 3 by the continued fraction e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) (modified Lentz). */
function erfcLarge(x: number): number {
  if (x > 27) return 0;
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = x + a * d;
    d = d === 0 ? tiny : d;
    c = x + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (f * Math.sqrt(Math.PI));
}

/** Rounds half to even, as PyTorch and NumPy do. */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/** Python's % (torch.remainder): the result has the divisor's sign. */
export function remainder(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

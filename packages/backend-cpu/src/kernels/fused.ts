/**
 * Fused multiply-add with one rounding, which JavaScript lacks. PyTorch's range kernels
 * (arange, linspace) compute `start + step * i` with a hardware FMA (the compiler contracts it
 * on CPU; CUDA does the same), so matching their values bit for bit needs an exact FMA here.
 *
 * fma64 is Boldo & Melquiond's emulation ("Emulation of FMA and correctly rounded sums: proved
 * algorithms using rounding to odd", IEEE Trans. Computers 57(4), 2008): an exact product and
 * two exact sums, then one sum rounded to odd before the final rounding to nearest. Exact
 * while nothing overflows or underflows, which holds for range values.
 */

const view = new DataView(new ArrayBuffer(8));
const SPLITTER = 134217729; // 2^27 + 1, Veltkamp's splitting constant for doubles

/** The error of the product a·b: a·b = fl(a·b) + productError(a, b) exactly (Dekker). */
function productError(a: number, b: number, p: number): number {
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/** x + y rounded to odd: if inexact and the rounded sum's last bit is 0, move it one ulp toward the exact sum. */
function addRoundToOdd(x: number, y: number): number {
  const s = x + y;
  const bb = s - x;
  const err = (x - (s - bb)) + (y - bb);
  if (err === 0 || !Number.isFinite(s)) return s;
  view.setFloat64(0, s, true);
  const lo = view.getUint32(0, true);
  if ((lo & 1) === 1) return s;
  // Moving away from zero increments the bit pattern; toward zero decrements it.
  const away = err > 0 === s > 0;
  const hi = view.getUint32(4, true);
  if (away) view.setUint32(0, lo + 1, true);
  else if (lo === 0) {
    view.setUint32(0, 0xffffffff, true);
    view.setUint32(4, hi - 1, true);
  } else view.setUint32(0, lo - 1, true);
  return view.getFloat64(0, true);
}

/** a·b + c with a single rounding to float64. */
export function fma64(a: number, b: number, c: number): number {
  const p = a * b;
  if (!Number.isFinite(p) || !Number.isFinite(c) || p === 0) return p + c;
  const pe = productError(a, b, p);
  // (th, tl) = TwoSum(c, pe); (vh, vl) = TwoSum(p, th)
  const th = c + pe;
  let bb = th - c;
  const tl = (c - (th - bb)) + (pe - bb);
  const vh = p + th;
  bb = vh - p;
  const vl = (p - (vh - bb)) + (th - bb);
  return vh + addRoundToOdd(tl, vl);
}

/**
 * a·b + c with a single rounding to float32, for float32 a and c and an integer b below 2^29
 * (the product is then exact in float64; rounding the sum to odd in float64 before rounding to
 * float32 leaves one correct rounding, as float64 has more than 24 + 2 bits).
 */
export function fma32(a: number, b: number, c: number): number {
  return Math.fround(addRoundToOdd(a * b, c));
}

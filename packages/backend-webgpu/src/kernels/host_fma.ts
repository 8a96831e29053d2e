/**
 * a·b + c with one rounding, on the host, so WebGPU's creation kernels produce PyTorch's
 * values bit for bit (WGSL has no float64). The same algorithms as backend-cpu's
 * kernels/fused.ts (Boldo & Melquiond's FMA emulation by rounding to odd); backends do not
 * import each other, hence the copy.
 */

const view = new DataView(new ArrayBuffer(8));
const SPLITTER = 134217729;

function productError(a: number, b: number, p: number): number {
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

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

export function fma64(a: number, b: number, c: number): number {
  const p = a * b;
  if (!Number.isFinite(p) || !Number.isFinite(c) || p === 0) return p + c;
  const pe = productError(a, b, p);
  const th = c + pe;
  let bb = th - c;
  const tl = (c - (th - bb)) + (pe - bb);
  const vh = p + th;
  bb = vh - p;
  const vl = (p - (vh - bb)) + (th - bb);
  return vh + addRoundToOdd(tl, vl);
}

export function fma32(a: number, b: number, c: number): number {
  return Math.fround(addRoundToOdd(a * b, c));
}

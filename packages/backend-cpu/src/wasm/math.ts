import { Code, V128 } from './emitter.js';

/**
 * Vectorised float32 math for the generated elementwise kernels: each function emits, into a
 * function body, WebAssembly SIMD code computing its result over four lanes, and returns the
 * v128 local holding it. Values are SSA-style locals (every step gets a fresh local; V8's
 * optimizing tier turns them into registers), so formulas read like the scalar code.
 *
 * The transcendental functions are range-reduced polynomials in float32 arithmetic (with
 * relaxed-SIMD multiply-add inside them when asked: see `madd`), after Cephes (S. L. Moshier, "Methods and Programs
 * for Mathematical Functions", and its single-precision library): exp, log and tanh within about
 * 1–2 ulp of the correctly rounded result, NaN, ±Infinity, ±0 and subnormals handled like
 * `Math.*`. The maximum errors, measured against float64 `Math.*` over wide ranges, are in
 * packages/backend-cpu/test/wasm-math.test.ts and docs/design/cpu-wasm.md.
 *
 * @example
 * ```ts
 * const c = new Code([I32]);
 * const m = new VecMath(c);
 * const x = c.local(V128);        // set by the caller's load
 * const y = m.exp(m.neg(x));      // exp(-x), four lanes
 * ```
 */
export class VecMath {
  /** Constants by their bit pattern → the local that holds them (set in the prologue). */
  private readonly constants = new Map<string, number>();
  private readonly prologue: { bytes: number[]; local: number }[] = [];

  /**
   * @param fma use relaxed-SIMD `f32x4.relaxed_madd` for the a·b + c steps inside the math
   * functions (polynomials, range reduction): fused where the hardware has FMA, so fewer
   * instructions and at most the same error. Only for engines that validate relaxed SIMD.
   */
  constructor(readonly c: Code, readonly fma = false) {}

  /** a·b + c: one relaxed multiply-add with `fma`, else a rounded product then a rounded sum. */
  madd(a: number, b: number, cc: number): number {
    if (!this.fma) return this.add(this.mul(a, b), cc);
    this.c.get(a).get(b).get(cc).f32x4RelaxedMadd();
    return this.keep();
  }

  /**
   * Constants are held in locals set once, before the loop, rather than rebuilt at each use
   * (V8 materialises a v128.const with three instructions). `hoistConstants(at)` inserts their
   * definitions at byte position `at` of the function (where the loop begins) when the body is
   * complete.
   */
  hoistConstants(at: number): void {
    const bytes: number[] = [];
    for (const { bytes: b, local } of this.prologue) {
      const tmp = new Code([]);
      bytes.push(...b);
      tmp.set(local);
      bytes.push(...tmp.bytes);
    }
    this.c.bytes.splice(at, 0, ...bytes);
  }

  private constant(lanes: Uint8Array): number {
    const key = lanes.join(',');
    let l = this.constants.get(key);
    if (l === undefined) {
      l = this.c.local(V128);
      const tmp = new Code([]);
      tmp.f32x4Const(0);
      // v128.const's 16 immediate bytes replaced by the constant's lanes.
      const b = [...tmp.bytes.slice(0, tmp.bytes.length - 16), ...lanes];
      this.prologue.push({ bytes: b, local: l });
      this.constants.set(key, l);
    }
    return l;
  }

  private keep(): number {
    const l = this.c.local(V128);
    this.c.set(l);
    return l;
  }

  private un(a: number, op: (c: Code) => void): number {
    this.c.get(a);
    op(this.c);
    return this.keep();
  }

  private bin(a: number, b: number, op: (c: Code) => void): number {
    this.c.get(a).get(b);
    op(this.c);
    return this.keep();
  }

  /** A float32 constant in all four lanes (a hoisted local). */
  k(v: number): number {
    return this.constant(new Uint8Array(new Float32Array([v, v, v, v]).buffer));
  }

  /** An int32 constant in all four lanes (a hoisted local). */
  ki(v: number): number {
    return this.constant(new Uint8Array(new Int32Array([v, v, v, v]).buffer));
  }

  add(a: number, b: number): number { return this.bin(a, b, (c) => c.f32x4Add()); }
  sub(a: number, b: number): number { return this.bin(a, b, (c) => c.f32x4Sub()); }
  mul(a: number, b: number): number { return this.bin(a, b, (c) => c.f32x4Mul()); }
  div(a: number, b: number): number { return this.bin(a, b, (c) => c.f32x4Div()); }
  /** IEEE minimum, as Math.min: NaN wins, -0 < +0. */
  min(a: number, b: number): number { return this.bin(a, b, (c) => c.f32x4Min()); }
  max(a: number, b: number): number { return this.bin(a, b, (c) => c.f32x4Max()); }
  abs(a: number): number { return this.un(a, (c) => c.f32x4Abs()); }
  neg(a: number): number { return this.un(a, (c) => c.f32x4Neg()); }
  sqrt(a: number): number { return this.un(a, (c) => c.f32x4Sqrt()); }
  floor(a: number): number { return this.un(a, (c) => c.f32x4Floor()); }
  ceil(a: number): number { return this.un(a, (c) => c.f32x4Ceil()); }
  nearest(a: number): number { return this.un(a, (c) => c.f32x4Nearest()); }
  eq(a: number, b: number): number { return this.bin(a, b, (c) => c.f32x4Eq()); }
  ne(a: number, b: number): number { return this.bin(a, b, (c) => c.f32x4Ne()); }
  lt(a: number, b: number): number { return this.bin(a, b, (c) => c.f32x4Lt()); }
  le(a: number, b: number): number { return this.bin(a, b, (c) => c.f32x4Le()); }
  gt(a: number, b: number): number { return this.bin(a, b, (c) => c.f32x4Gt()); }
  ge(a: number, b: number): number { return this.bin(a, b, (c) => c.f32x4Ge()); }
  and(a: number, b: number): number { return this.bin(a, b, (c) => c.v128And()); }
  or(a: number, b: number): number { return this.bin(a, b, (c) => c.v128Or()); }
  xor(a: number, b: number): number { return this.bin(a, b, (c) => c.v128Xor()); }
  /** a & ~b. */
  andNot(a: number, b: number): number { return this.bin(a, b, (c) => c.v128AndNot()); }
  not(a: number): number { return this.un(a, (c) => c.v128Not()); }
  /** Lanes of `a` where `mask` is all ones, of `b` where it is zero. */
  select(mask: number, a: number, b: number): number {
    this.c.get(a).get(b).get(mask).v128Bitselect();
    return this.keep();
  }
  iadd(a: number, b: number): number { return this.bin(a, b, (c) => c.i32x4Add()); }
  isub(a: number, b: number): number { return this.bin(a, b, (c) => c.i32x4Sub()); }
  shl(a: number, bits: number): number { return this.un(a, (c) => c.i32(bits).i32x4Shl()); }
  shrS(a: number, bits: number): number { return this.un(a, (c) => c.i32(bits).i32x4ShrS()); }
  shrU(a: number, bits: number): number { return this.un(a, (c) => c.i32(bits).i32x4ShrU()); }
  /** float32 → int32, truncating (saturating; NaN → 0). */
  toInt(a: number): number { return this.un(a, (c) => c.i32x4TruncSatF32x4S()); }
  /** int32 → float32. */
  toFloat(a: number): number { return this.un(a, (c) => c.f32x4ConvertI32x4S()); }

  /** Horner's rule: coefficients from the highest power down to the constant term. */
  poly(x: number, coefficients: readonly number[]): number {
    let acc = this.k(coefficients[0]);
    for (const co of coefficients.slice(1)) acc = this.madd(acc, x, this.k(co));
    return acc;
  }

  /** a with the sign bit of b (|a| must have its sign bit clear). */
  private withSignOf(absValue: number, b: number): number {
    return this.or(absValue, this.and(b, this.ki(-0x80000000)));
  }

  /** 2^n for int32 lanes n in [-126, 127], as float32 (the exponent field built directly). */
  private pow2(n: number): number {
    return this.shl(this.iadd(n, this.ki(127)), 23);
  }

  /**
   * exp(x): n = round(x·log2 e), r = x − n·ln 2 in two parts (Cody–Waite), e^r by a degree-7
   * polynomial on |r| ≤ ln2/2, then · 2^n in two halves so subnormal results round once and
   * n = 128 does not overflow early. Inputs are clamped to [-104, 89] first (results 0 and
   * Infinity beyond); NaN propagates.
   */
  exp(x: number): number {
    const xc = this.min(this.max(x, this.k(-104)), this.k(89));
    const fx = this.nearest(this.mul(xc, this.k(1.44269504088896341)));
    const r = this.madd(fx, this.k(2.12194440e-4), this.madd(fx, this.k(-0.693359375), xc));
    const p = this.poly(r, [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]);
    const er = this.add(this.madd(p, this.mul(r, r), r), this.k(1));
    const n = this.toInt(fx);
    const n1 = this.shrS(n, 1);
    return this.mul(this.mul(er, this.pow2(n1)), this.pow2(this.isub(n, n1)));
  }

  /**
   * log(x): x = m·2^e with m in [√½, √2) (subnormals scaled by 2^23 first), log(1 + f) for
   * f = m − 1 by a degree-9 polynomial, plus e·ln 2 in two parts. log(0) = -Infinity,
   * log(negative) = NaN, log(Infinity) = Infinity.
   */
  log(x: number): number {
    const tiny = this.lt(x, this.k(1.17549435e-38));
    const xs = this.select(tiny, this.mul(x, this.k(8388608)), x);
    const bits = xs;
    let e = this.isub(this.shrU(bits, 23), this.select(tiny, this.ki(127 + 23), this.ki(127)));
    let m = this.or(this.and(bits, this.ki(0x007fffff)), this.ki(0x3f800000));
    const big = this.gt(m, this.k(1.41421356237));
    m = this.select(big, this.mul(m, this.k(0.5)), m);
    e = this.isub(e, big); // a true mask is -1 as int32
    const fe = this.toFloat(e);
    const f = this.sub(m, this.k(1));
    const z = this.mul(f, f);
    const p = this.poly(f, [7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
      -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1]);
    let y = this.mul(this.mul(p, f), z);
    y = this.sub(y, this.mul(fe, this.k(2.12194440e-4)));
    y = this.sub(y, this.mul(z, this.k(0.5)));
    let r = this.add(this.add(f, y), this.mul(fe, this.k(0.693359375)));
    r = this.select(this.eq(x, this.k(0)), this.k(-Infinity), r);
    r = this.select(this.ge(x, this.k(0)), r, this.k(NaN));
    return this.select(this.eq(x, this.k(Infinity)), x, r);
  }

  /**
   * tanh(x) = e/(e + 2) with e = expm1(2|x|), and x's sign put back (tanh is odd): no
   * cancellation near 0, and |x| is clamped to 9.1, past which tanh rounds to 1 in float32.
   */
  tanh(x: number): number {
    const ax = this.min(this.abs(x), this.k(9.1));
    const e = this.expm1Core(this.add(ax, ax));
    return this.withSignOf(this.div(e, this.add(e, this.k(2))), x);
  }

  /**
   * e^x − 1 for x in [-17, 24] (n = round(x·log2 e) in [-24, 35]): 2^n·(e^r − 1) + (2^n − 1),
   * where 2^n − 1 is exact up to n = 24 and e^r − 1 has no cancellation.
   */
  private expm1Core(x: number): number {
    const fx = this.nearest(this.mul(x, this.k(1.44269504088896341)));
    const r = this.madd(fx, this.k(2.12194440e-4), this.madd(fx, this.k(-0.693359375), x));
    const p = this.poly(r, [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]);
    const em1 = this.madd(p, this.mul(r, r), r);
    const scale = this.pow2(this.toInt(fx));
    return this.madd(em1, scale, this.sub(scale, this.k(1)));
  }

  /**
   * sigmoid(x) = 1 / (1 + e^{-x}) for x ≥ 0 and e^x / (1 + e^x) below, so e^{-x} never
   * overflows where the result is a small (even subnormal) number.
   */
  sigmoid(x: number): number {
    const t = this.exp(this.neg(this.abs(x)));
    const num = this.select(this.lt(x, this.k(0)), t, this.k(1));
    return this.div(num, this.add(this.k(1), t));
  }

  /**
   * expm1(x) = 2^n·(e^r − 1) + (2^n − 1) with e^r − 1 by a polynomial (no cancellation for
   * small x), computed as twice the half to reach n = 128; x clamped to [-30, 89] (-1 and
   * Infinity beyond).
   */
  expm1(x: number): number {
    const xc = this.min(this.max(x, this.k(-30)), this.k(89));
    const fx = this.nearest(this.mul(xc, this.k(1.44269504088896341)));
    const r = this.madd(fx, this.k(2.12194440e-4), this.madd(fx, this.k(-0.693359375), xc));
    const p = this.poly(r, [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]);
    const em1 = this.madd(p, this.mul(r, r), r);
    const half = this.pow2(this.isub(this.toInt(fx), this.ki(1)));
    const y = this.madd(em1, half, this.sub(half, this.k(0.5)));
    const out = this.add(y, y);
    return this.select(this.eq(x, this.k(0)), x, out);
  }

  /**
   * erf(x): odd, so computed on |x| with the sign put back. |x| < 1: x·P(x²) (degree 6);
   * 1 ≤ |x| < 4: 1 − e^{g(|x|) − x²} where g(x) = log(erfc(x)) + x² is smooth (degree-8
   * polynomial); beyond 4, 1. Coefficients: weighted least-squares fits in float64 (numpy),
   * rounded to float32; errors measured in test/wasm-math.test.ts.
   */
  erf(x: number): number {
    const ax = this.abs(x);
    const small = this.mul(this.poly(this.mul(ax, ax), [7.971048762556165e-05, -0.0008043373818509281, 0.0051918332464993,
      -0.026855509728193283, 0.11283621937036514, -0.3761262893676758, 1.1283791065216064]), ax);
    const xl = this.min(ax, this.k(4));
    const g = this.poly(xl, [1.6263990119114169e-06, -4.581857501761988e-05, 0.0005945496959611773, -0.004747866652905941,
      0.026384370401501656, -0.11000905930995941, 0.36809149384498596, -1.1301809549331665, 0.0003060925519093871]);
    const large = this.sub(this.k(1), this.exp(this.sub(g, this.mul(xl, xl))));
    let r = this.select(this.lt(ax, this.k(1)), small, large);
    r = this.select(this.ge(ax, this.k(4)), this.k(1), r);
    return this.withSignOf(r, x);
  }

  /** log1p(x) = log(u) − ((u − 1) − x)/u with u = 1 + x (the rounding of u corrected). */
  log1p(x: number): number {
    const u = this.add(this.k(1), x);
    const corr = this.div(this.sub(this.sub(u, this.k(1)), x), u);
    let r = this.sub(this.log(u), corr);
    r = this.select(this.eq(x, this.k(0)), x, r);
    r = this.select(this.eq(x, this.k(-1)), this.k(-Infinity), r);
    return this.select(this.eq(x, this.k(Infinity)), x, r);
  }

  /** 1/√x rounded once, as the reference computes it: in float64 lanes, then narrowed. */
  rsqrt(x: number): number {
    const c = this.c;
    const half = (lanes: number[]) => {
      c.get(x);
      if (lanes[0] !== 0) c.get(x).i8x16Shuffle([...lanes, ...lanes]);
      c.f64x2PromoteLowF32x4();
      const d = c.local(V128);
      c.set(d);
      c.f64x2Const(1).get(d).f64x2Sqrt().f64x2Div().f32x4DemoteF64x2Zero();
      return this.keep();
    };
    const lo = half([0, 1, 2, 3, 4, 5, 6, 7]);
    const hi = half([8, 9, 10, 11, 12, 13, 14, 15]);
    c.get(lo).get(hi).i8x16Shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
    return this.keep();
  }
}

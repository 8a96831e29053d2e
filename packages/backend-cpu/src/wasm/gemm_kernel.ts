import { Code, I32, V128, encodeModule } from './emitter.js';

/** Shape of the generated float32 micro-kernel: an `mr`×`nr` tile of C held in SIMD registers. */
export interface GemmTile {
  /** Rows of A per packed panel (and of C per tile). */
  mr: number;
  /** Columns of B per packed panel (a multiple of 4: one f32x4 per four columns). */
  nr: number;
  /** Steps of k per iteration of the inner loop (the loop body is unrolled this many times). */
  unroll: number;
}

/**
 * Generates `gemm(a, b, c, mPanels, nPanels, kc, ldc, accumulate)`, all byte addresses and i32:
 *
 * for each B panel jr < nPanels, for each A panel ir < mPanels: the `mr`×`nr` tile
 * C[ir·mr.., jr·nr..] (row stride `ldc` bytes) is set to (accumulate = 0) or incremented by
 * (accumulate ≠ 0) the product of A panel ir (kc×mr floats, the mr values of each k step
 * contiguous, at a + ir·mr·kc·4) and B panel jr (kc×nr floats, at b + jr·nr·kc·4).
 *
 * The tile's mr·nr/4 accumulators stay in v128 locals across the whole kc loop: each k step
 * loads nr/4 vectors of B, splats each of the mr values of A, and adds the products
 * (f32x4.mul then f32x4.add: no fused multiply-add, so results do not depend on the engine).
 * Each element of C sums its kc products in order, in float32.
 */
export function gemmModule(tile: GemmTile): Uint8Array {
  const { mr, nr, unroll } = tile;
  if (nr % 4 !== 0) throw new Error(`gemm tile: nr must be a multiple of 4, got ${nr}`);
  if (unroll < 1 || (unroll & (unroll - 1)) !== 0) throw new Error(`gemm tile: unroll must be a power of two, got ${unroll}`);
  const nv = nr / 4;
  const c = new Code([I32, I32, I32, I32, I32, I32, I32, I32]);
  const [A, B, C, M_PANELS, N_PANELS, KC, LDC, ACC] = [0, 1, 2, 3, 4, 5, 6, 7];
  const jr = c.local(I32);
  const ir = c.local(I32);
  const ap = c.local(I32);
  const bp = c.local(I32);
  const row = c.local(I32);
  const count = c.local(I32);
  const acc = Array.from({ length: mr * nv }, () => c.local(V128));
  const bv = Array.from({ length: nv }, () => c.local(V128));
  const av = c.local(V128);

  /** One k step at byte offsets `aOff`/`bOff` from ap/bp. */
  const step = (aOff: number, bOff: number) => {
    for (let v = 0; v < nv; v++) c.get(bp).v128Load(bOff + 16 * v).set(bv[v]);
    for (let r = 0; r < mr; r++) {
      c.get(ap).load32Splat(aOff + 4 * r).set(av);
      for (let v = 0; v < nv; v++) {
        const x = acc[r * nv + v];
        c.get(x).get(av).get(bv[v]).f32x4Mul().f32x4Add().set(x);
      }
    }
  };

  /** `body` runs `count` times (a copy of the local's value, which may be zero). */
  const repeat = (body: () => void) => {
    c.block().get(count).eqz().brIf(0).loop();
    body();
    c.get(count).i32(1).sub().tee(count).brIf(0).end().end();
  };

  c.i32(0).set(jr).loop(); // for jr (nPanels ≥ 1)
  c.i32(0).set(ir).loop(); // for ir (mPanels ≥ 1)
  // ap = a + ir·mr·kc·4; bp = b + jr·nr·kc·4
  c.get(A).get(ir).get(KC).mul().i32(mr * 4).mul().add().set(ap);
  c.get(B).get(jr).get(KC).mul().i32(nr * 4).mul().add().set(bp);
  for (const x of acc) c.v128Zero().set(x);
  // Unrolled main loop, then the remaining kc % unroll steps one at a time.
  c.get(KC).i32(unroll).ltU().eqz().if();
  c.get(KC).i32(Math.log2(unroll)).shrU().set(count);
  repeat(() => {
    for (let u = 0; u < unroll; u++) step(u * mr * 4, u * nr * 4);
    c.inc(ap, unroll * mr * 4).inc(bp, unroll * nr * 4);
  });
  c.end();
  c.get(KC).i32(unroll - 1).and().set(count);
  repeat(() => {
    step(0, 0);
    c.inc(ap, mr * 4).inc(bp, nr * 4);
  });
  // row = c + ir·mr·ldc + jr·nr·4; store (or add into) each row of the tile.
  c.get(C).get(ir).i32(mr).mul().get(LDC).mul().add().get(jr).i32(nr * 4).mul().add().set(row);
  c.get(ACC).if();
  for (let r = 0; r < mr; r++) {
    for (let v = 0; v < nv; v++) c.get(row).get(row).v128Load(16 * v).get(acc[r * nv + v]).f32x4Add().v128Store(16 * v);
    if (r < mr - 1) c.get(row).get(LDC).add().set(row);
  }
  c.else();
  for (let r = 0; r < mr; r++) {
    for (let v = 0; v < nv; v++) c.get(row).get(acc[r * nv + v]).v128Store(16 * v);
    if (r < mr - 1) c.get(row).get(LDC).add().set(row);
  }
  c.end();
  c.inc(ir, 1).get(ir).get(M_PANELS).ltU().brIf(0).end();
  c.inc(jr, 1).get(jr).get(N_PANELS).ltU().brIf(0).end();
  return encodeModule([{ name: 'gemm', code: c }]);
}

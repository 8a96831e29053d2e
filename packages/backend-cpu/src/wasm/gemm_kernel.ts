import { Code, F32, I32, V128, encodeModule, type MemoryType } from './emitter.js';

/** Shape of the generated float32 micro-kernel: an `mr`×`nr` tile of C held in SIMD registers. */
export interface GemmTile {
  /** Rows of A per packed panel (and of C per tile). */
  mr: number;
  /** Columns of B per packed panel (a multiple of 4: one f32x4 per four columns). */
  nr: number;
  /** Steps of k per iteration of the inner loop (the loop body is unrolled this many times). */
  unroll: number;
}

/** What a generated gemm module is built for. */
export interface GemmModuleOptions {
  /** Use f32x4.relaxed_madd (one instruction, fused on x86 with FMA) instead of f32x4.mul + f32x4.add. */
  fma: boolean;
  /** Steps of k per packed block. */
  kc: number;
  /** Rows of A per packed block (a multiple of mr). */
  mc: number;
  /** The imported memory's type (shared for threads). */
  memory?: MemoryType;
}

/** Function indices of the generated module, in export order. */
export const GEMM_FN = { gemm: 0, packA: 1, packB: 2, gemmTask: 3, gemmBatch: 4 } as const;

/** Fields (i32, in this order) of the parameter block `gemmBatch` reads. */
export const GEMM_BATCH_PARAMS = [
  'a', 'aStride', 'aRowStride', 'aKStride', 'b', 'bStride', 'pStride', 'jStride',
  'packedB', 'packedBStride', 'c', 'cStride', 'ldc', 'k', 'n', 'nPad', 'm',
] as const;

/**
 * Generates a module exporting, all addresses in bytes and all arguments i32:
 *
 * - `gemm(a, b, c, mPanels, nPanels, kc, ldc, accumulate)`: for each B panel jr < nPanels, for
 *   each A panel ir < mPanels, the `mr`×`nr` tile C[ir·mr.., jr·nr..] (row stride `ldc`) is set
 *   to (accumulate = 0) or incremented by the product of A panel ir (kc×mr floats at
 *   a + ir·mr·kc·4) and B panel jr (kc×nr floats at b + jr·nr·kc·4). The tile's accumulators stay
 *   in v128 locals for the whole kc loop; each element sums its kc products in k order.
 * - `packA(src, dst, rows, kc, rowStride, kStride)`: A(i, p) = src[i·rowStride + p·kStride] for
 *   i < rows, p < kc, packed at dst as mr-row panels (kc × mr floats each); rows past `rows` are
 *   zero. Strides make transposed A (rowStride 4) as cheap as plain A.
 * - `packB(src, dst, k, n, pStride, jStride, jp0, jp1, nPad)`: B(p, j) = src[p·pStride + j·jStride];
 *   for every block of kc steps of k (at p0) and each nr-column panel jp in [jp0, jp1), the
 *   panel's kc rows of nr floats at dst + (p0·nPad + jp·nr·kc)·4; columns past n are zero.
 * - `gemmTask(a, aRowStride, aKStride, packedB, c, ldc, k, nPad, row0, row1, jp0, jp1, scratch)`:
 *   C rows [row0, row1) × panels [jp0, jp1) = A @ packed B, packing each mc×kc block of A at
 *   `scratch` (mc·kc·4 bytes) — one thread's share of a product.
 * - `gemmBatch(params, t0, t1, scratch)`: whole products t0 ≤ t < t1 of a batch (`packB` then
 *   `gemmTask` each), their operands, packed B and C at uniform strides read from the i32
 *   parameter block at `params` (`GEMM_BATCH_PARAMS`) — one thread's share of many small products.
 */
export function gemmModule(tile: GemmTile, options: GemmModuleOptions): Uint8Array {
  if (tile.nr % 4 !== 0) throw new Error(`gemm tile: nr must be a multiple of 4, got ${tile.nr}`);
  if (tile.unroll < 1 || (tile.unroll & (tile.unroll - 1)) !== 0) throw new Error(`gemm tile: unroll must be a power of two, got ${tile.unroll}`);
  if (options.mc % tile.mr !== 0) throw new Error(`gemm: mc (${options.mc}) must be a multiple of mr (${tile.mr})`);
  return encodeModule([
    { name: 'gemm', code: microKernel(tile, options.fma) },
    { name: 'packA', code: packA(tile) },
    { name: 'packB', code: packB(tile, options.kc) },
    { name: 'gemmTask', code: gemmTask(tile, options) },
    { name: 'gemmBatch', code: gemmBatch(tile) },
  ], 1, options.memory);
}

/** `body` runs `count` times (a copy of the local's value, which may be zero). */
function repeat(c: Code, count: number, body: () => void): void {
  c.block().get(count).eqz().brIf(0).loop();
  body();
  c.get(count).i32(1).sub().tee(count).brIf(0).end().end();
}

/** for (i = from; i < to; i += step): `from`, `to` and `step` push one i32 each. */
function forRange(c: Code, i: number, from: () => void, to: () => void, step: () => void, body: () => void): void {
  from();
  c.set(i).block().loop();
  c.get(i);
  to();
  c.geU().brIf(1);
  body();
  c.get(i);
  step();
  c.add().set(i).br(0).end().end();
}

function microKernel({ mr, nr, unroll }: GemmTile, fma: boolean): Code {
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

  const step = (aOff: number, bOff: number) => {
    for (let v = 0; v < nv; v++) c.get(bp).v128Load(bOff + 16 * v).set(bv[v]);
    for (let r = 0; r < mr; r++) {
      c.get(ap).load32Splat(aOff + 4 * r).set(av);
      for (let v = 0; v < nv; v++) {
        const x = acc[r * nv + v];
        if (fma) c.get(av).get(bv[v]).get(x).f32x4RelaxedMadd().set(x);
        else c.get(x).get(av).get(bv[v]).f32x4Mul().f32x4Add().set(x);
      }
    }
  };

  c.block().get(M_PANELS).eqz().get(N_PANELS).eqz().or().brIf(0);
  c.i32(0).set(jr).loop(); // for jr
  c.i32(0).set(ir).loop(); // for ir
  c.get(A).get(ir).get(KC).mul().i32(mr * 4).mul().add().set(ap);
  c.get(B).get(jr).get(KC).mul().i32(nr * 4).mul().add().set(bp);
  for (const x of acc) c.v128Zero().set(x);
  if (unroll > 1) {
    c.get(KC).i32(Math.log2(unroll)).shrU().set(count);
    repeat(c, count, () => {
      for (let u = 0; u < unroll; u++) step(u * mr * 4, u * nr * 4);
      c.inc(ap, unroll * mr * 4).inc(bp, unroll * nr * 4);
    });
    c.get(KC).i32(unroll - 1).and().set(count);
  } else {
    c.get(KC).set(count);
  }
  repeat(c, count, () => {
    step(0, 0);
    c.inc(ap, mr * 4).inc(bp, nr * 4);
  });
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
  c.end();
  return c;
}

function packA({ mr }: GemmTile): Code {
  const c = new Code([I32, I32, I32, I32, I32, I32]);
  const [SRC, DST, ROWS, KC, ROW_STRIDE, K_STRIDE] = [0, 1, 2, 3, 4, 5];
  const i0 = c.local(I32);
  const r = c.local(I32);
  const s = c.local(I32);
  const d = c.local(I32);
  const count = c.local(I32);
  forRange(c, i0, () => c.i32(0), () => c.get(ROWS), () => c.i32(mr), () => {
    forRange(c, r, () => c.i32(0), () => c.i32(mr), () => c.i32(1), () => {
      // d = dst + (i0·kc + r)·4
      c.get(DST).get(i0).get(KC).mul().get(r).add().i32(4).mul().add().set(d);
      c.get(KC).set(count);
      c.get(i0).get(r).add().get(ROWS).ltU().if();
      c.get(SRC).get(i0).get(r).add().get(ROW_STRIDE).mul().add().set(s);
      repeat(c, count, () => {
        c.get(d).get(s).f32Load(0).f32Store(0);
        c.get(s).get(K_STRIDE).add().set(s).inc(d, mr * 4);
      });
      c.else();
      repeat(c, count, () => {
        c.get(d).f32(0).f32Store(0).inc(d, mr * 4);
      });
      c.end();
    });
  });
  return c;
}

function packB({ nr }: GemmTile, kcMax: number): Code {
  const nv = nr / 4;
  const c = new Code([I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [SRC, DST, K, N, P_STRIDE, J_STRIDE, JP0, JP1, N_PAD] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const p0 = c.local(I32);
  const kc = c.local(I32);
  const jp = c.local(I32);
  const j = c.local(I32);
  const col = c.local(I32);
  const s = c.local(I32);
  const d = c.local(I32);
  const count = c.local(I32);
  forRange(c, p0, () => c.i32(0), () => c.get(K), () => c.i32(kcMax), () => {
    // kc = min(kcMax, k − p0)
    c.i32(kcMax).get(K).get(p0).sub().tee(kc).get(kc).i32(kcMax).gtU().select().set(kc);
    forRange(c, jp, () => c.get(JP0), () => c.get(JP1), () => c.i32(1), () => {
      c.get(jp).i32(nr).mul().set(j);
      // d = dst + (p0·nPad + jp·nr·kc)·4; s = src + p0·pStride + j·jStride
      c.get(DST).get(p0).get(N_PAD).mul().get(j).get(kc).mul().add().i32(4).mul().add().set(d);
      c.get(SRC).get(p0).get(P_STRIDE).mul().add().get(j).get(J_STRIDE).mul().add().set(s);
      c.get(kc).set(count);
      // Full panel of contiguous columns: nv vector copies per row.
      c.get(J_STRIDE).i32(4).sub().eqz().get(j).i32(nr).add().get(N).gtU().eqz().and().if();
      repeat(c, count, () => {
        for (let v = 0; v < nv; v++) c.get(d).get(s).v128LoadUnaligned(16 * v).v128Store(16 * v);
        c.get(s).get(P_STRIDE).add().set(s).inc(d, nr * 4);
      });
      c.else();
      repeat(c, count, () => {
        for (let x = 0; x < nr; x++) {
          // d[x] = j + x < n ? src[s + x·jStride] : 0
          c.get(d);
          c.get(j).i32(x).add().get(N).ltU().if(F32);
          c.get(s).get(J_STRIDE).i32(x).mul().add().f32Load(0);
          c.else().f32(0).end();
          c.f32Store(4 * x);
        }
        c.get(s).get(P_STRIDE).add().set(s).inc(d, nr * 4);
      });
      c.end();
    });
  });
  return c;
}

function gemmTask({ mr, nr }: GemmTile, { kc: kcMax, mc }: GemmModuleOptions): Code {
  const c = new Code(Array.from({ length: 13 }, () => I32));
  const [A, A_ROW, A_K, PB, C, LDC, K, N_PAD, ROW0, ROW1, JP0, JP1, SCRATCH] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const i0 = c.local(I32);
  const rows = c.local(I32);
  const p0 = c.local(I32);
  const kc = c.local(I32);
  forRange(c, i0, () => c.get(ROW0), () => c.get(ROW1), () => c.i32(mc), () => {
    c.i32(mc).get(ROW1).get(i0).sub().tee(rows).get(rows).i32(mc).gtU().select().set(rows);
    forRange(c, p0, () => c.i32(0), () => c.get(K), () => c.i32(kcMax), () => {
      c.i32(kcMax).get(K).get(p0).sub().tee(kc).get(kc).i32(kcMax).gtU().select().set(kc);
      // packA(a + i0·aRow + p0·aK, scratch, rows, kc, aRow, aK)
      c.get(A).get(i0).get(A_ROW).mul().add().get(p0).get(A_K).mul().add();
      c.get(SCRATCH).get(rows).get(kc).get(A_ROW).get(A_K).call(GEMM_FN.packA);
      // gemm(scratch, pb + (p0·nPad + jp0·nr·kc)·4, c + i0·ldc + jp0·nr·4, ⌈rows/mr⌉, jp1 − jp0, kc, ldc, p0 > 0)
      c.get(SCRATCH);
      c.get(PB).get(p0).get(N_PAD).mul().get(JP0).i32(nr).mul().get(kc).mul().add().i32(4).mul().add();
      c.get(C).get(i0).get(LDC).mul().add().get(JP0).i32(nr * 4).mul().add();
      c.get(rows).i32(mr - 1).add().i32(mr).divU();
      c.get(JP1).get(JP0).sub().get(kc).get(LDC).get(p0).eqz().eqz();
      c.call(GEMM_FN.gemm);
    });
  });
  return c;
}

function gemmBatch({ nr }: GemmTile): Code {
  const c = new Code([I32, I32, I32, I32]);
  const [PARAMS, T0, T1, SCRATCH] = [0, 1, 2, 3];
  const t = c.local(I32);
  const nPanels = c.local(I32);
  const field = (name: (typeof GEMM_BATCH_PARAMS)[number]) => c.get(PARAMS).i32Load(4 * GEMM_BATCH_PARAMS.indexOf(name));
  /** base + t·stride of two parameter fields. */
  const at = (base: (typeof GEMM_BATCH_PARAMS)[number], stride: (typeof GEMM_BATCH_PARAMS)[number]) => {
    field(base);
    c.get(t);
    field(stride);
    c.mul().add();
  };
  field('nPad');
  c.i32(nr).divU().set(nPanels);
  forRange(c, t, () => c.get(T0), () => c.get(T1), () => c.i32(1), () => {
    // packB(b + t·bStride, packedB + t·packedBStride, k, n, pStride, jStride, 0, nPanels, nPad)
    at('b', 'bStride');
    at('packedB', 'packedBStride');
    field('k');
    field('n');
    field('pStride');
    field('jStride');
    c.i32(0).get(nPanels);
    field('nPad');
    c.call(GEMM_FN.packB);
    // gemmTask(a + t·aStride, aRowStride, aKStride, packedB + t·packedBStride, c + t·cStride, ldc, k, nPad, 0, m, 0, nPanels, scratch)
    at('a', 'aStride');
    field('aRowStride');
    field('aKStride');
    at('packedB', 'packedBStride');
    at('c', 'cStride');
    field('ldc');
    field('k');
    field('nPad');
    c.i32(0);
    field('m');
    c.i32(0).get(nPanels).get(SCRATCH);
    c.call(GEMM_FN.gemmTask);
  });
  return c;
}

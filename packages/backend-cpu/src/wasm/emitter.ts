/**
 * A small WebAssembly binary emitter: just enough of the format (one imported memory, typed
 * functions with i32/f32/v128 locals, structured control flow, SIMD128 loads, stores and float
 * arithmetic) to generate the CPU backend's kernels from TypeScript, without a toolchain.
 * See docs/design/cpu-wasm.md.
 */

/** Value types, by their binary encoding. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof V128;

/** Unsigned LEB128. */
export function uleb(value: number, out: number[] = []): number[] {
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 (32-bit). */
export function sleb(value: number, out: number[] = []): number[] {
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** A name (ASCII: the emitter's names are identifiers) as a byte vector. */
function name(s: string): number[] {
  const bytes = Array.from(s, (ch) => ch.charCodeAt(0) & 0x7f);
  return [...uleb(bytes.length), ...bytes];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/**
 * The instruction stream of one function body. Methods append one instruction each and return
 * `this`, so code reads top to bottom like the text format. Locals are numbered params first,
 * then the locals declared with `local()`.
 */
export class Code {
  readonly bytes: number[] = [];
  private readonly locals: ValType[] = [];

  constructor(readonly params: readonly ValType[]) {}

  /** Declares a local of `type` and returns its index. */
  local(type: ValType): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  private op(...bytes: number[]): this {
    this.bytes.push(...bytes);
    return this;
  }

  private simd(opcode: number, ...imm: number[]): this {
    return this.op(0xfd, ...uleb(opcode), ...imm);
  }

  get(i: number): this { return this.op(0x20, ...uleb(i)); }
  set(i: number): this { return this.op(0x21, ...uleb(i)); }
  tee(i: number): this { return this.op(0x22, ...uleb(i)); }
  i32(v: number): this { return this.op(0x41, ...sleb(v)); }
  add(): this { return this.op(0x6a); }
  sub(): this { return this.op(0x6b); }
  mul(): this { return this.op(0x6c); }
  and(): this { return this.op(0x71); }
  or(): this { return this.op(0x72); }
  divU(): this { return this.op(0x6e); }
  shrU(): this { return this.op(0x76); }
  eqz(): this { return this.op(0x45); }
  ltU(): this { return this.op(0x49); }
  gtU(): this { return this.op(0x4b); }
  geU(): this { return this.op(0x4f); }
  /** `select`: of the two values pushed before an i32 condition, the first if it is non-zero, else the second. */
  select(): this { return this.op(0x1b); }
  /** `call` of the function with index `index` (functions are numbered in module order). */
  call(index: number): this { return this.op(0x10, ...uleb(index)); }
  /** f32.load at address (popped) + offset. */
  f32Load(offset: number): this { return this.op(0x2a, 2, ...uleb(offset)); }
  /** f32.store of the top f32 at address + offset. */
  f32Store(offset: number): this { return this.op(0x38, 2, ...uleb(offset)); }
  /** i32.load at address (popped) + offset. */
  i32Load(offset: number): this { return this.op(0x28, 2, ...uleb(offset)); }
  /** i32.store of the top i32 at address + offset. */
  i32Store(offset: number): this { return this.op(0x36, 2, ...uleb(offset)); }
  /** f32.const. */
  f32(v: number): this {
    const bytes = new Uint8Array(new Float32Array([v]).buffer);
    return this.op(0x43, ...bytes);
  }
  /** `block` with no result. */
  block(): this { return this.op(0x02, 0x40); }
  /** `loop` with no result. */
  loop(): this { return this.op(0x03, 0x40); }
  /** `if` (pops an i32) with no result, or with one value of `result` type. */
  if(result?: ValType): this { return this.op(0x04, result ?? 0x40); }
  else(): this { return this.op(0x05); }
  end(): this { return this.op(0x0b); }
  br(depth: number): this { return this.op(0x0c, ...uleb(depth)); }
  brIf(depth: number): this { return this.op(0x0d, ...uleb(depth)); }

  /** `local[i] += delta` for an i32 local. */
  inc(i: number, delta: number): this { return this.get(i).i32(delta).add().set(i); }

  /** v128.load at address (popped) + offset, 16-byte aligned hint. */
  v128Load(offset: number): this { return this.simd(0x00, 4, ...uleb(offset)); }
  /** v128.load at address (popped) + offset, no alignment hint (the address may be any). */
  v128LoadUnaligned(offset: number): this { return this.simd(0x00, 0, ...uleb(offset)); }
  /** v128.load32_splat: one f32 at address + offset broadcast to four lanes. */
  load32Splat(offset: number): this { return this.simd(0x09, 2, ...uleb(offset)); }
  /** v128.store of the top vector at address + offset. */
  v128Store(offset: number): this { return this.simd(0x0b, 4, ...uleb(offset)); }
  /** v128.const of sixteen zero bytes. */
  v128Zero(): this { return this.simd(0x0c, ...new Array<number>(16).fill(0)); }
  f32x4Add(): this { return this.simd(0xe4); }
  f32x4Mul(): this { return this.simd(0xe6); }

  // Further SIMD128 instructions, for the elementwise kernels (wasm/elementwise*.ts, math*.ts).
  /** v128.const holding `v` (a float32) in all four lanes. */
  f32x4Const(v: number): this {
    const bytes = new Uint8Array(new Float32Array([v, v, v, v]).buffer);
    return this.simd(0x0c, ...bytes);
  }
  /** v128.const holding the int32 `v` in all four lanes. */
  i32x4Const(v: number): this {
    const bytes = new Uint8Array(new Int32Array([v, v, v, v]).buffer);
    return this.simd(0x0c, ...bytes);
  }
  f32x4Sub(): this { return this.simd(0xe5); }
  f32x4Div(): this { return this.simd(0xe7); }
  f32x4Min(): this { return this.simd(0xe8); }
  f32x4Max(): this { return this.simd(0xe9); }
  f32x4Abs(): this { return this.simd(0xe0); }
  f32x4Neg(): this { return this.simd(0xe1); }
  f32x4Sqrt(): this { return this.simd(0xe3); }
  f32x4Ceil(): this { return this.simd(0x67); }
  f32x4Floor(): this { return this.simd(0x68); }
  f32x4Trunc(): this { return this.simd(0x69); }
  /** Round to nearest, ties to even. */
  f32x4Nearest(): this { return this.simd(0x6a); }
  f32x4Eq(): this { return this.simd(0x41); }
  f32x4Ne(): this { return this.simd(0x42); }
  f32x4Lt(): this { return this.simd(0x43); }
  f32x4Gt(): this { return this.simd(0x44); }
  f32x4Le(): this { return this.simd(0x45); }
  f32x4Ge(): this { return this.simd(0x46); }
  v128Not(): this { return this.simd(0x4d); }
  v128And(): this { return this.simd(0x4e); }
  /** a & ~b. */
  v128AndNot(): this { return this.simd(0x4f); }
  v128Or(): this { return this.simd(0x50); }
  v128Xor(): this { return this.simd(0x51); }
  /** Pops a, b, mask: bits of a where mask is 1, of b where it is 0. */
  v128Bitselect(): this { return this.simd(0x52); }
  i32x4Add(): this { return this.simd(0xae); }
  i32x4Sub(): this { return this.simd(0xb1); }
  i32x4Eq(): this { return this.simd(0x37); }
  i32x4GtS(): this { return this.simd(0x3b); }
  i32x4MinS(): this { return this.simd(0xb6); }
  i32x4MaxS(): this { return this.simd(0xb8); }
  /** Shift each lane left by the popped i32. */
  i32x4Shl(): this { return this.simd(0xab); }
  /** Arithmetic shift right by the popped i32. */
  i32x4ShrS(): this { return this.simd(0xac); }
  /** Logical shift right by the popped i32. */
  i32x4ShrU(): this { return this.simd(0xad); }
  i32x4TruncSatF32x4S(): this { return this.simd(0xf8); }
  f32x4ConvertI32x4S(): this { return this.simd(0xfa); }
  /** The low two float32 lanes widened to float64. */
  f64x2PromoteLowF32x4(): this { return this.simd(0x5f); }
  /** Two float64 lanes narrowed into the low float32 lanes; the high two are zero. */
  f32x4DemoteF64x2Zero(): this { return this.simd(0x5e); }
  f64x2Sqrt(): this { return this.simd(0xef); }
  f64x2Div(): this { return this.simd(0xf3); }
  /** v128.const of two float64 lanes holding `v`. */
  f64x2Const(v: number): this {
    const bytes = new Uint8Array(new Float64Array([v, v]).buffer);
    return this.simd(0x0c, ...bytes);
  }
  /** i8x16.shuffle with 16 lane indices (0–15 from the first operand, 16–31 from the second). */
  i8x16Shuffle(lanes: readonly number[]): this { return this.simd(0x0d, ...lanes); }
  /**
   * f32x4.relaxed_madd (relaxed SIMD): a·b + c of the three popped vectors (pushed a, b, c), fused
   * or not as the engine chooses. Only in modules for engines that validate it.
   */
  f32x4RelaxedMadd(): this { return this.simd(0x105); }

  /** The encoded body: local declarations, instructions, final `end`. */
  encode(): number[] {
    const groups: number[][] = [];
    for (const t of this.locals) groups.push([...uleb(1), t]);
    const body = [...vec(groups), ...this.bytes, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

/** One exported function of a module: its signature and body. */
export interface FunctionDef {
  name: string;
  code: Code;
  results?: ValType[];
}

/** The imported memory's type beyond its minimum: shared memories need a maximum (threads). */
export interface MemoryType {
  shared: boolean;
  /** Maximum size in 64 KiB pages (required when shared). */
  maxPages?: number;
}

/**
 * A module importing its memory as `env.memory` (at least `minPages` 64 KiB pages; shared and
 * bounded when `memory` says so) and exporting `functions` by name.
 */
export function encodeModule(functions: readonly FunctionDef[], minPages = 1, memory?: MemoryType): Uint8Array {
  const limits = memory?.maxPages !== undefined
    ? [memory.shared ? 0x03 : 0x01, ...uleb(minPages), ...uleb(memory.maxPages)]
    : [0x00, ...uleb(minPages)];
  if (memory?.shared && memory.maxPages === undefined) throw new Error('encodeModule: a shared memory needs maxPages');
  const section = (id: number, payload: number[]) => [id, ...uleb(payload.length), ...payload];
  const types = functions.map((f) => [0x60, ...vec(f.code.params.map((p) => [p])), ...vec((f.results ?? []).map((r) => [r]))]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, ...limits]])),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(functions.map((f) => f.code.encode()))),
  ];
  return new Uint8Array(bytes);
}

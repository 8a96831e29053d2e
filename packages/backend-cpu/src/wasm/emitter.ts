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
  shrU(): this { return this.op(0x76); }
  eqz(): this { return this.op(0x45); }
  ltU(): this { return this.op(0x49); }
  /** `block` with no result. */
  block(): this { return this.op(0x02, 0x40); }
  /** `loop` with no result. */
  loop(): this { return this.op(0x03, 0x40); }
  /** `if` with no result (pops an i32). */
  if(): this { return this.op(0x04, 0x40); }
  else(): this { return this.op(0x05); }
  end(): this { return this.op(0x0b); }
  br(depth: number): this { return this.op(0x0c, ...uleb(depth)); }
  brIf(depth: number): this { return this.op(0x0d, ...uleb(depth)); }

  /** `local[i] += delta` for an i32 local. */
  inc(i: number, delta: number): this { return this.get(i).i32(delta).add().set(i); }

  /** v128.load at address (popped) + offset, 16-byte aligned hint. */
  v128Load(offset: number): this { return this.simd(0x00, 4, ...uleb(offset)); }
  /** v128.load32_splat: one f32 at address + offset broadcast to four lanes. */
  load32Splat(offset: number): this { return this.simd(0x09, 2, ...uleb(offset)); }
  /** v128.store of the top vector at address + offset. */
  v128Store(offset: number): this { return this.simd(0x0b, 4, ...uleb(offset)); }
  /** v128.const of sixteen zero bytes. */
  v128Zero(): this { return this.simd(0x0c, ...new Array<number>(16).fill(0)); }
  f32x4Add(): this { return this.simd(0xe4); }
  f32x4Mul(): this { return this.simd(0xe6); }

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

/**
 * A module importing its memory as `env.memory` (at least `minPages` 64 KiB pages) and
 * exporting `functions` by name.
 */
export function encodeModule(functions: readonly FunctionDef[], minPages = 1): Uint8Array {
  const section = (id: number, payload: number[]) => [id, ...uleb(payload.length), ...payload];
  const types = functions.map((f) => [0x60, ...vec(f.code.params.map((p) => [p])), ...vec((f.results ?? []).map((r) => [r]))]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(minPages)]])),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(functions.map((f) => f.code.encode()))),
  ];
  return new Uint8Array(bytes);
}

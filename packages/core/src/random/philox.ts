/**
 * Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy as 1, 2, 3",
 * SC 2011) and the exact mapping from its 32-bit words to Kiln's random floats. This is the
 * reference every backend reproduces: see docs/design/random.md for the specification.
 *
 * A random key is `[seed, stream]`. Block `b` of a key is philox4x32(counter = (b mod 2³²,
 * ⌊b / 2³²⌋, 0, 0), key = (seed, stream)) and yields 4 words; word `w` of the key's stream is
 * lane `w mod 4` of block `⌊w / 4⌋`. Element i of a tensor depends only on the key and i.
 */

export const PHILOX_M0 = 0xd2511f53;
export const PHILOX_M1 = 0xcd9e8d57;
export const PHILOX_W0 = 0x9e3779b9;
export const PHILOX_W1 = 0xbb67ae85;

/** The dtypes random ops produce. */
export type RandomFloatDType = 'float32' | 'float64';

/** A key as the random ops take it: `[seed, stream]`, each read as a uint32 (an int32 -1 is 0xffffffff). */
export type RandomKeyWords = ArrayLike<number>;

const TWO_POW_M24 = 2 ** -24;
const TWO_POW_M53 = 2 ** -53;
const TWO_POW_26 = 2 ** 26;
const TWO_PI = 2 * Math.PI;

/** High 32 bits of the 64-bit product of two uint32, from 16-bit halves (what WGSL must do too). */
function mulhi32(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const lolo = aLo * bLo;
  const hilo = aHi * bLo;
  const lohi = aLo * bHi;
  const carry = ((lolo >>> 16) + (hilo & 0xffff) + (lohi & 0xffff)) >>> 16;
  return (aHi * bHi + (hilo >>> 16) + (lohi >>> 16) + carry) >>> 0;
}

/**
 * Writes philox4x32 of `rounds` rounds for counter (c0, c1, c2, c3) and key (k0, k1) into
 * out[offset..offset+4). All arguments are uint32 values.
 */
function philoxInto(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, rounds: number, out: Uint32Array, offset: number): void {
  for (let r = 0; r < rounds; r++) {
    if (r > 0) {
      k0 = (k0 + PHILOX_W0) >>> 0;
      k1 = (k1 + PHILOX_W1) >>> 0;
    }
    const hi0 = mulhi32(PHILOX_M0, c0);
    const lo0 = Math.imul(PHILOX_M0, c0) >>> 0;
    const hi1 = mulhi32(PHILOX_M1, c2);
    const lo1 = Math.imul(PHILOX_M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[offset] = c0;
  out[offset + 1] = c1;
  out[offset + 2] = c2;
  out[offset + 3] = c3;
}

/**
 * The Philox4x32 bijection: four counter words and two key words (uint32) to four words.
 *
 * @example
 * ```ts
 * philox4x32([0, 0, 0, 0], [0, 0]); // Uint32Array [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
 * ```
 */
export function philox4x32(counter: ArrayLike<number>, key: ArrayLike<number>, rounds = 10): Uint32Array {
  const out = new Uint32Array(4);
  philoxInto(counter[0] >>> 0, counter[1] >>> 0, counter[2] >>> 0, counter[3] >>> 0, key[0] >>> 0, key[1] >>> 0, rounds, out, 0);
  return out;
}

/**
 * The first `count` words of the stream of `key`: word w is lane w mod 4 of block ⌊w/4⌋.
 *
 * @example
 * ```ts
 * philoxWords([0, 0], 4); // the block for counter (0, 0, 0, 0): 0x6627e8d5 0xe169c58d …
 * ```
 */
export function philoxWords(key: RandomKeyWords, count: number): Uint32Array {
  const blocks = Math.ceil(count / 4);
  const all = new Uint32Array(blocks * 4);
  const k0 = key[0] >>> 0;
  const k1 = key[1] >>> 0;
  for (let b = 0; b < blocks; b++) philoxInto(b >>> 0, Math.floor(b / 2 ** 32) >>> 0, 0, 0, k0, k1, 10, all, 4 * b);
  return count === all.length ? all : all.slice(0, count);
}

/** A float32 in [0, 1) from the high 24 bits of a word: exact in float32. */
export function wordToUnitFloat32(w: number): number {
  return (w >>> 8) * TWO_POW_M24;
}

/** A float64 in [0, 1) from 53 bits: the high 27 bits of `a` then the high 26 bits of `b`. */
export function wordsToUnitFloat64(a: number, b: number): number {
  return ((a >>> 5) * TWO_POW_26 + (b >>> 6)) * TWO_POW_M53;
}

/**
 * `size` uniform samples in [0, 1): float32 element i from word i; float64 element i from
 * words 2i and 2i+1.
 *
 * @example
 * ```ts
 * philoxUniform([42, 0], 3, 'float32'); // Float32Array of 3 values in [0, 1)
 * ```
 */
export function philoxUniform(key: RandomKeyWords, size: number, dtype: RandomFloatDType): Float32Array | Float64Array {
  if (dtype === 'float32') {
    const words = philoxWords(key, size);
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = wordToUnitFloat32(words[i]);
    return out;
  }
  const words = philoxWords(key, 2 * size);
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) out[i] = wordsToUnitFloat64(words[2 * i], words[2 * i + 1]);
  return out;
}

/**
 * `size` standard normal samples by Box–Muller on pairs: elements 2j and 2j+1 are
 * r·cos(2πu₂) and r·sin(2πu₂) with r = √(−2 ln u₁), u₁ ∈ (0, 1] (so log(0) never happens) and
 * u₂ ∈ [0, 1). float32 pair j takes u₁, u₂ from words 2j, 2j+1 (24 bits each); float64 pair j
 * takes them from words 4j..4j+3 (53 bits each). Computed in float64, rounded once to the dtype.
 *
 * @example
 * ```ts
 * philoxNormal([42, 0], 4, 'float64'); // Float64Array of 4 N(0, 1) samples
 * ```
 */
export function philoxNormal(key: RandomKeyWords, size: number, dtype: RandomFloatDType): Float32Array | Float64Array {
  const pairs = Math.ceil(size / 2);
  const out = dtype === 'float32' ? new Float32Array(size) : new Float64Array(size);
  const words = philoxWords(key, (dtype === 'float32' ? 2 : 4) * pairs);
  for (let j = 0; j < pairs; j++) {
    let u1: number;
    let u2: number;
    if (dtype === 'float32') {
      u1 = ((words[2 * j] >>> 8) + 1) * TWO_POW_M24;
      u2 = wordToUnitFloat32(words[2 * j + 1]);
    } else {
      u1 = wordsToUnitFloat64(words[4 * j], words[4 * j + 1]) + TWO_POW_M53;
      u2 = wordsToUnitFloat64(words[4 * j + 2], words[4 * j + 3]);
    }
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = TWO_PI * u2;
    out[2 * j] = r * Math.cos(theta);
    if (2 * j + 1 < size) out[2 * j + 1] = r * Math.sin(theta);
  }
  return out;
}

import type { DType, TypedArray } from '@kiln/core';
import { dtypeShortName, philoxNormal, sizeOf } from '@kiln/core';
import type { HostTensor } from '@kiln/serializer';
import { UsageError } from './args.js';

/** A user input as the signature declares it, with symbolic dimensions already sized. */
export interface InputSpec {
  readonly name: string;
  readonly dtype: DType;
  /** Fixed dimensions, or undefined where the dimension is symbolic and no size was given. */
  readonly shape: readonly (number | undefined)[];
}

const ARRAY: Record<DType, new (n: number) => TypedArray> = { float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array };

/** Flattens nested JSON arrays to their shape and elements; throws a UsageError for ragged or non-numeric data. */
function flattenJson(value: unknown, where: string): { shape: number[]; values: (number | boolean)[] } {
  const shape: number[] = [];
  for (let v: unknown = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  const values: (number | boolean)[] = [];
  const walk = (v: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number' && typeof v !== 'boolean') throw new UsageError(`${where}: element ${path || '(scalar)'} is ${JSON.stringify(v)}; expected numbers or booleans`);
      values.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) throw new UsageError(`${where}: ragged array at ${path || 'the top'}: expected ${shape[depth]} elements on axis ${depth}`);
    v.forEach((x, i) => walk(x, depth + 1, `${path}[${i}]`));
  };
  walk(value, 0, '');
  return { shape, values };
}

function fixedShape(spec: InputSpec, what: string): number[] {
  const missing = spec.shape.indexOf(undefined);
  if (missing >= 0) throw new UsageError(`--input ${spec.name}=${what}: axis ${missing} is symbolic; give its size with --size`);
  return spec.shape as number[];
}

/** Deterministic standard-normal values (Philox, seed 0, one stream per input) for `random`. */
function randomValues(n: number, stream: number): number[] {
  return Array.from(philoxNormal([0, stream], n, 'float64'));
}

/**
 * The tensor for one `--input name=value`: a JSON array (nested to the input's rank, or flat
 * with the declared shape), `@file.json`, or `zeros`, `ones`, `random`.
 *
 * @example
 * ```ts
 * parseInput({ name: 'x', dtype: 'float32', shape: [2, 2] }, '[[1, 2], [3, 4]]', readText);
 * ```
 */
export function parseInput(spec: InputSpec, text: string, readText: (path: string) => string, stream = 0): HostTensor {
  const where = `--input ${spec.name}`;
  let shape: number[];
  let values: readonly (number | boolean)[];
  if (text === 'zeros' || text === 'ones' || text === 'random') {
    shape = fixedShape(spec, text);
    const n = sizeOf(shape);
    values = text === 'random' ? randomValues(n, stream) : new Array<number>(n).fill(text === 'ones' ? 1 : 0);
  } else {
    const source = text.startsWith('@') ? readText(text.slice(1)) : text;
    let json: unknown;
    try {
      json = JSON.parse(source);
    } catch (e) {
      throw new UsageError(`${where}: not JSON (${e instanceof Error ? e.message : String(e)}); pass an array such as [[1, 2], [3, 4]], @file.json, zeros, ones or random`);
    }
    ({ shape, values } = flattenJson(json, where));
    const declared = spec.shape;
    const fits = (s: readonly number[]) => s.length === declared.length && s.every((d, a) => declared[a] === undefined || declared[a] === d);
    if (!fits(shape)) {
      if (shape.length === 1 && !declared.includes(undefined) && values.length === sizeOf(declared as number[])) shape = [...(declared as number[])];
      else throw new UsageError(`${where}: got shape [${shape.join(',')}], the model takes [${declared.map((d) => d ?? '?').join(',')}]`);
    }
  }
  const data = new ARRAY[spec.dtype](values.length);
  values.forEach((v, i) => {
    const x = Number(v);
    if (spec.dtype === 'int32' && !Number.isInteger(x)) throw new UsageError(`${where}: element ${i} is ${v}, but the input is int32`);
    data[i] = spec.dtype === 'bool' ? (x !== 0 ? 1 : 0) : x;
  });
  return { dtype: spec.dtype, shape, data };
}

/** Nested arrays of `data` in `shape` (booleans for bool), at most `limit` elements (then `…`). */
function nested(t: HostTensor, limit: number): string {
  const float = t.dtype === 'float32' || t.dtype === 'float64';
  // Six significant digits, as NumPy prints: enough to compare by eye; --json has every digit.
  const show = (i: number) => (t.dtype === 'bool' ? String(t.data[i] !== 0) : float ? String(Number(t.data[i].toPrecision(6))) : String(t.data[i]));
  let budget = limit;
  const build = (axis: number, offset: number): string => {
    if (axis === t.shape.length) return budget-- > 0 ? show(offset) : '…';
    const stride = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const parts: string[] = [];
    for (let i = 0; i < t.shape[axis]; i++) {
      if (budget <= 0) {
        parts.push('…');
        break;
      }
      parts.push(build(axis + 1, offset + i * stride));
    }
    return `[${parts.join(', ')}]`;
  };
  return build(0, 0);
}

/**
 * The text `kiln run` prints for its results: one `name: dtype[shape]` line and the values
 * each (the first `limit` elements), or JSON.
 *
 * @example
 * ```ts
 * formatResults(['y'], [{ dtype: 'float32', shape: [2], data: Float32Array.of(1, 0.5) }]); // 'y: f32[2]\n[1, 0.5]'
 * ```
 */
export function formatResults(names: readonly string[], results: readonly HostTensor[], options: { readonly json?: boolean; readonly limit?: number } = {}): string {
  if (options.json) {
    const plain = (t: HostTensor) => ({ dtype: t.dtype, shape: t.shape, data: Array.from(t.data as ArrayLike<number>, (x) => (t.dtype === 'bool' ? x !== 0 : x)) });
    return JSON.stringify(Object.fromEntries(names.map((n, i) => [n, plain(results[i])])), null, 2);
  }
  const limit = options.limit ?? 64;
  return names.map((n, i) => `${n}: ${dtypeShortName(results[i].dtype)}[${results[i].shape.join(',')}]\n${nested(results[i], limit)}`).join('\n');
}

import type { TensorType } from '@kiln/core';
import { ArgumentError, AxisError, shapeToString } from '@kiln/core';
import { Tensor } from '@kiln/eager';
import type { Spec } from './tree.js';
import { flatten } from './tree.js';

/** Validated `static` and `dynamic` options. */
export interface SignatureOptions {
  readonly static: ReadonlySet<number>;
  /** Argument index → the axes declared dynamic (possibly negative). */
  readonly dynamic: ReadonlyMap<number, readonly number[]>;
}

/** A dynamic dimension of one call: which argument and axis, and which flattened tensor that is. */
export interface DynamicDim {
  readonly arg: number;
  readonly axis: number;
  readonly tensor: number;
}

/**
 * A size symbol: the declared dynamic dimensions that had the same size (≥ 2) in this call. Equal
 * sizes share a symbol ("duck sizing"), so `x: [n, 4]` and `labels: [n]` vary together.
 */
export interface SizeSymbol {
  readonly size: number;
  readonly dims: readonly DynamicDim[];
}

/** One call's arguments reduced to what the cache compares. */
export interface Signature {
  readonly spec: Spec;
  /** The spec with each dynamic dimension of size ≥ 2 written as -1, for retrace messages. */
  readonly maskedSpec: Spec;
  /** The argument tensors (not static ones), in the order the graph takes them. */
  readonly tensors: readonly Tensor[];
  readonly types: readonly TensorType[];
  /** Tensors inside static arguments: constants in the graph. */
  readonly staticTensors: readonly Tensor[];
  readonly symbols: readonly SizeSymbol[];
  /** The cache key: the spec with each symbol's dimensions written as `$k`. */
  readonly key: string;
}

/** Checks `static` and `dynamic` as given to `compile` (typed errors naming the bad entry). */
export function signatureOptions(options: { static?: readonly number[]; dynamic?: Readonly<Record<number, readonly number[]>> }): SignatureOptions {
  const isIndex = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0;
  const statics = options.static ?? [];
  if (!Array.isArray(statics) || !statics.every(isIndex)) {
    throw new ArgumentError(`compile: static must be an array of argument indices (integers ≥ 0), got ${JSON.stringify(options.static)}`);
  }
  const dynamic = new Map<number, number[]>();
  const given = options.dynamic ?? {};
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw new ArgumentError(`compile: dynamic must map argument indices to arrays of axes, e.g. { 0: [0] }, got ${JSON.stringify(options.dynamic)}`);
  }
  for (const [k, axes] of Object.entries(given)) {
    const arg = Number(k);
    if (!isIndex(arg)) throw new ArgumentError(`compile: dynamic: '${k}' is not an argument index (an integer ≥ 0)`);
    if (!Array.isArray(axes) || axes.length === 0 || !axes.every((a) => Number.isInteger(a))) {
      throw new ArgumentError(`compile: dynamic: arg ${arg} must list its dynamic axes as integers, e.g. { ${arg}: [0] }, got ${JSON.stringify(axes)}`);
    }
    if (statics.includes(arg)) throw new ArgumentError(`compile: arg ${arg} is both static and dynamic; a static argument's shape and value are fixed`);
    dynamic.set(arg, [...axes]);
  }
  return { static: new Set(statics), dynamic };
}

/** The signature of one call (see {@link Signature}). */
export function signatureOf(args: readonly unknown[], options: SignatureOptions): Signature {
  const tensors: Tensor[] = [];
  const staticTensors: Tensor[] = [];
  const firstTensor: number[] = [];
  const items = args.map((a, i) => {
    firstTensor.push(tensors.length);
    if (!options.static.has(i)) return flatten(a, `args[${i}]`, tensors).spec;
    return staticSpec(a, staticTensors);
  });
  for (const i of options.static) {
    if (i >= args.length) throw new ArgumentError(`compile: static names arg ${i}, but the function was called with ${args.length} argument(s)`);
  }
  const spec: Spec = { kind: 'array', items };
  const dims: DynamicDim[] = [];
  for (const [arg, axes] of options.dynamic) {
    const item = items[arg];
    if (item === undefined) throw new ArgumentError(`compile: dynamic names arg ${arg}, but the function was called with ${args.length} argument(s)`);
    if (item.kind !== 'tensor') throw new ArgumentError(`compile: dynamic names arg ${arg}, but it is ${item.kind === 'value' ? JSON.stringify(item.value) : `a${item.kind === 'array' ? 'n array' : 'n ' + item.kind}`}, not a tensor`);
    const rank = item.shape.length;
    for (const a of axes) {
      if (a < -rank || a >= rank) throw new AxisError(`compile: dynamic axis ${a} of arg ${arg} is out of range for its shape ${shapeToString(item.shape)} (rank ${rank})`);
      const axis = a < 0 ? a + rank : a;
      if (!dims.some((d) => d.arg === arg && d.axis === axis)) dims.push({ arg, axis, tensor: firstTensor[arg] });
    }
  }
  const symbols: { size: number; dims: DynamicDim[] }[] = [];
  const symbolOf = new Map<string, number>();
  for (const d of dims) {
    const size = tensors[d.tensor].shape[d.axis];
    if (size < 2) continue; // sizes 0 and 1 are specialized: broadcasting treats them differently
    let s = symbols.findIndex((x) => x.size === size);
    if (s < 0) s = symbols.push({ size, dims: [] }) - 1;
    symbols[s].dims.push(d);
    symbolOf.set(`${d.tensor}:${d.axis}`, s);
  }
  const types = tensors.map((t) => ({ dtype: t.dtype, shape: [...t.shape] }));
  const keyTypes = types.map((t, i) => ({ dtype: t.dtype, shape: t.shape.map((n, axis) => (symbolOf.has(`${i}:${axis}`) ? `$${symbolOf.get(`${i}:${axis}`)}` : n)) }));
  const key = `${JSON.stringify(withoutShapes(spec))}|${JSON.stringify(keyTypes)}`;
  const maskedSpec: Spec = {
    kind: 'array',
    items: items.map((item, arg) => (item.kind === 'tensor' && dims.some((d) => d.arg === arg) ? { ...item, shape: item.shape.map((n, axis) => (symbolOf.has(`${firstTensor[arg]}:${axis}`) ? -1 : n)) } : item)),
  };
  return { spec, maskedSpec, tensors, types, staticTensors, symbols, key };
}

/** The spec with tensor shapes left out (they go into the key separately). */
function withoutShapes(spec: Spec): unknown {
  switch (spec.kind) {
    case 'tensor': return { kind: 'tensor' };
    case 'array': return { kind: 'array', items: spec.items.map(withoutShapes) };
    case 'object': return { kind: 'object', entries: spec.entries.map(([k, v]) => [k, withoutShapes(v)]) };
    case 'static': return { kind: 'static', key: spec.key };
    case 'value': return spec;
  }
}

/** `types` with each symbol's dimensions set to `sizes[k]`. */
export function typesAt(types: readonly TensorType[], symbols: readonly SizeSymbol[], sizes: readonly number[]): TensorType[] {
  const out = types.map((t) => ({ dtype: t.dtype, shape: [...t.shape] }));
  symbols.forEach((s, k) => {
    for (const d of s.dims) out[d.tensor].shape[d.axis] = sizes[k];
  });
  return out;
}

// Identities for static objects compared by identity (functions, class instances).
const identities = new WeakMap<object, number>();
let nextIdentity = 1;

/**
 * The spec of a static argument: tensors by value (dtype, shape and a 64-bit hash of the data),
 * numbers, strings, booleans, arrays and plain objects by value, anything else by identity.
 */
function staticSpec(value: unknown, staticTensors: Tensor[]): Spec {
  const keyOf = (v: unknown): { key: string; display: string } => {
    if (v instanceof Tensor) {
      staticTensors.push(v);
      const data = v.bufferFor('compile (a static tensor argument)') && v.dataSync();
      const type = `${v.dtype}${shapeToString(v.shape)}`;
      const values = Array.from(data as ArrayLike<number>);
      const shown = v.size > 8 ? `tensor #${hashData(data).slice(0, 8)}` : v.rank === 0 ? String(values[0]) : JSON.stringify(values);
      return { key: `T(${type},${hashData(data)})`, display: `${type} ${shown}` };
    }
    if (v === null || v === undefined || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') {
      const text = typeof v === 'number' && Object.is(v, -0) ? '-0' : (JSON.stringify(v) ?? 'undefined');
      return { key: text, display: text };
    }
    if (Array.isArray(v)) {
      const parts = v.map(keyOf);
      return { key: `[${parts.map((p) => p.key).join(',')}]`, display: `[${parts.map((p) => p.display).join(', ')}]` };
    }
    if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const parts = Object.keys(v).sort().map((k) => [k, keyOf((v as Record<string, unknown>)[k])] as const);
      return { key: `{${parts.map(([k, p]) => `${JSON.stringify(k)}:${p.key}`).join(',')}}`, display: `{${parts.map(([k, p]) => `${k}: ${p.display}`).join(', ')}}` };
    }
    const obj = v as object;
    let id = identities.get(obj);
    if (id === undefined) identities.set(obj, (id = nextIdentity++));
    const name = typeof v === 'function' ? `function ${(v as { name?: string }).name || '(anonymous)'}` : (obj.constructor?.name ?? 'object');
    return { key: `#${id}`, display: `${name} #${id} (compared by identity)` };
  };
  const { key, display } = keyOf(value);
  return { kind: 'static', key, display, value };
}

/** Two 32-bit FNV-1a hashes of the bytes (different offsets), as 16 hex digits. */
function hashData(data: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }): string {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ bytes.length;
  for (let i = 0; i < bytes.length; i++) {
    h1 = Math.imul(h1 ^ bytes[i], 0x01000193);
    h2 = Math.imul(h2 ^ bytes[i], 0x5bd1e995) ^ (h2 >>> 15);
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

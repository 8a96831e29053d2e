import type { DType } from '../dtype.js';
import { checkDType } from '../dtype.js';
import { ArgumentError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import type { Shape } from '../shape.js';
import type { Ops } from './surface.js';

/** The static type of a value: dtype and shape. */
export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
}

/** Attribute values are plain data so every graph serialises: no functions, no host objects. */
export type AttrValue = number | boolean | string | null | readonly number[];
export type Attrs = { readonly [key: string]: AttrValue };

/** The kinds of attribute an op can declare; `?` allows null. */
export type AttrKind = 'int' | 'float' | 'bool' | 'string' | 'dtype' | 'ints' | 'floats' | 'int?' | 'float?';
export type AttrSchema<A> = { readonly [K in keyof A]-?: AttrKind };

/** What a gradient rule receives. */
export interface VjpArgs<V, A extends Attrs = Attrs> {
  readonly inputs: readonly V[];
  readonly outputs: readonly V[];
  readonly attrs: A;
  /** One per output; null where no gradient flows into that output. At least one is non-null. */
  readonly cotangents: readonly (V | null)[];
  /** Which inputs need a gradient; a rule may return null for the others and skip their work. */
  readonly needsGrad: readonly boolean[];
  readonly typeOf: (value: V) => TensorType;
}

/**
 * A gradient rule (vector-Jacobian product): given the op's inputs, outputs, attrs and the
 * cotangents of its outputs, returns one cotangent per input, of that input's shape and dtype
 * (null where the input gets no gradient). Written with ops, so it runs on every backend,
 * traces, and can itself be differentiated (grad of grad).
 *
 * @example
 * ```ts
 * // d/dx exp(x) = exp(x): reuse the output.
 * EXP.vjp = (ops, { outputs: [y], cotangents: [g] }) => [ops.mul(g!, y)];
 * ```
 */
export type VjpRule<A extends Attrs = Attrs> = <V>(ops: Ops<V>, args: VjpArgs<V, A>) => (V | null)[];

interface OpDefBase<A extends Attrs> {
  readonly name: string;
  /** Input names for messages; a trailing `...name` marks a variadic op (concat). */
  readonly inputs: readonly string[];
  readonly attrs: AttrSchema<A>;
  /** One line of documentation. */
  readonly doc: string;
  vjp?: VjpRule<A>;
}

/** A primitive: has a shape rule, a dtype rule, and a kernel on every backend. */
export interface PrimitiveDef<A extends Attrs = Attrs> extends OpDefBase<A> {
  readonly kind: 'primitive';
  /** Output shapes; throws ShapeError/AxisError naming the op, argument and shapes. */
  readonly shape: (inputs: readonly TensorType[], attrs: A) => Shape[];
  /** Output dtypes; throws DTypeError naming the op, argument and dtype. */
  readonly dtype: (inputs: readonly TensorType[], attrs: A) => DType[];
  /** False for ops with no gradient (comparisons, argmax, integer outputs). */
  readonly differentiable: boolean;
  /**
   * For ops whose nodes carry sub-graphs (fused kernels): the output types from the inputs,
   * attrs and bodies, checking the bodies' rules. `shape`/`dtype` cannot see bodies.
   */
  readonly bodyTypes?: (inputs: readonly TensorType[], attrs: A, bodies: readonly Graph[]) => TensorType[];
}

/**
 * A composite: written with other ops, so it needs no kernel and no gradient. Its types are
 * found by expanding it over types. A backend may still register a fused kernel under its name.
 */
export interface CompositeDef<A extends Attrs = Attrs> extends OpDefBase<A> {
  readonly kind: 'composite';
  /** `typeOf` gives an input's type, for expansions that depend on shapes (mean's element count). */
  readonly expand: <V>(ops: Ops<V>, inputs: readonly V[], attrs: A, typeOf: (value: V) => TensorType) => V[];
}

export type OpDef<A extends Attrs = Attrs> = PrimitiveDef<A> | CompositeDef<A>;

/** Checks attrs against an op's schema: every declared key present with a value of its kind, no others. */
export function checkAttrs(op: OpDef, attrs: Attrs): void {
  const schema = op.attrs as Record<string, AttrKind>;
  for (const key of Object.keys(attrs)) {
    if (!(key in schema)) {
      const valid = Object.keys(schema);
      throw new ArgumentError(`${op.name}: unknown attribute '${key}'; ${valid.length ? `valid attributes are ${valid.join(', ')}` : 'it takes none'}`);
    }
  }
  for (const [key, kind] of Object.entries(schema)) {
    const value = attrs[key];
    if (!attrMatches(kind, value)) {
      throw new ArgumentError(`${op.name}: attribute '${key}' must be ${describeKind(kind)}, got ${JSON.stringify(value)}`);
    }
  }
}

function attrMatches(kind: AttrKind, v: AttrValue | undefined): boolean {
  switch (kind) {
    case 'int': return Number.isInteger(v);
    case 'int?': return v === null || Number.isInteger(v);
    case 'float': return typeof v === 'number';
    case 'float?': return v === null || typeof v === 'number';
    case 'bool': return typeof v === 'boolean';
    case 'string': return typeof v === 'string';
    case 'dtype': try { checkDType(v); return true; } catch { return false; }
    case 'ints': return Array.isArray(v) && v.every((x) => Number.isInteger(x));
    case 'floats': return Array.isArray(v) && v.every((x) => typeof x === 'number');
  }
}

function describeKind(kind: AttrKind): string {
  const base: Record<AttrKind, string> = {
    int: 'an integer', 'int?': 'an integer or null', float: 'a number', 'float?': 'a number or null', bool: 'a boolean',
    string: 'a string', dtype: 'a dtype name', ints: 'an array of integers', floats: 'an array of numbers',
  };
  return base[kind];
}


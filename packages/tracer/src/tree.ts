import type { DType } from '@kiln/core';
import { ArgumentError, shapeToString } from '@kiln/core';
import { Tensor } from '@kiln/eager';

/** The structure of a call's arguments or results, with tensors reduced to their type. */
export type Spec =
  | { readonly kind: 'tensor'; readonly dtype: DType; readonly shape: readonly number[] }
  | { readonly kind: 'value'; readonly value: number | string | boolean | null | undefined }
  | { readonly kind: 'array'; readonly items: readonly Spec[] }
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, Spec])[] }
  /** A static argument: passed to the function as is; `key` compares it (tensors by value). */
  | { readonly kind: 'static'; readonly key: string; readonly display: string; readonly value: unknown };

/**
 * Splits a value into its tensors (in a fixed order) and a spec of everything else. Tensors,
 * numbers, strings, booleans, null/undefined, arrays and plain objects are allowed; anything
 * else (functions, class instances) throws, naming where it was found.
 */
export function flatten(value: unknown, path: string, tensors: Tensor[] = []): { spec: Spec; tensors: Tensor[] } {
  const visit = (v: unknown, at: string): Spec => {
    if (v instanceof Tensor) {
      tensors.push(v);
      return { kind: 'tensor', dtype: v.dtype, shape: [...v.shape] };
    }
    if (v === null || v === undefined || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return { kind: 'value', value: v };
    if (Array.isArray(v)) return { kind: 'array', items: v.map((x, i) => visit(x, `${at}[${i}]`)) };
    if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      return { kind: 'object', entries: Object.keys(v).sort().map((k) => [k, visit((v as Record<string, unknown>)[k], `${at}.${k}`)] as const) };
    }
    const what = typeof v === 'function' ? 'a function' : typeof v === 'object' ? `an instance of ${(v as object).constructor?.name ?? 'a class'}` : `a ${typeof v}`;
    throw new ArgumentError(`compile: ${at} is ${what}; a compiled function takes and returns tensors, numbers, strings, booleans, and arrays or plain objects of them. Close over other values (models, optimizers) instead of passing them.`);
  };
  return { spec: visit(value, path), tensors };
}

/** Rebuilds a value from a spec, taking tensors in order from `tensors`. */
export function unflatten(spec: Spec, tensors: readonly Tensor[]): unknown {
  let next = 0;
  const build = (s: Spec): unknown => {
    switch (s.kind) {
      case 'tensor': return tensors[next++];
      case 'value': return s.value;
      case 'array': return s.items.map(build);
      case 'object': return Object.fromEntries(s.entries.map(([k, v]) => [k, build(v)]));
      case 'static': return s.value;
    }
  };
  return build(spec);
}

/** A stable string for a spec: the cache key (static arguments by their key). */
export function specKey(spec: Spec): string {
  return JSON.stringify(spec, function (this: { kind?: string }, k: string, v: unknown) {
    return this.kind === 'static' && (k === 'value' || k === 'display') ? undefined : v;
  });
}

/**
 * Human-readable differences between two argument specs, for retrace explanations:
 * `arg 0: shape [32,64] → [33,64]`.
 */
export function describeChanges(before: Spec, after: Spec, at: string, out: string[] = []): string[] {
  if (before.kind !== after.kind) {
    out.push(`${at}: ${describe(before)} → ${describe(after)}`);
  } else if (before.kind === 'tensor' && after.kind === 'tensor') {
    if (before.dtype !== after.dtype) out.push(`${at}: dtype ${before.dtype} → ${after.dtype}`);
    if (shapeToString(before.shape) !== shapeToString(after.shape)) out.push(`${at}: shape ${shapeToString(before.shape)} → ${shapeToString(after.shape)}`);
  } else if (before.kind === 'static' && after.kind === 'static') {
    if (before.key !== after.key) out.push(`${at}: static ${before.display} → ${after.display}`);
  } else if (before.kind === 'value' && after.kind === 'value') {
    if (before.value !== after.value) out.push(`${at}: value ${JSON.stringify(before.value)} → ${JSON.stringify(after.value)} (non-tensor arguments are part of the cache key)`);
  } else if (before.kind === 'array' && after.kind === 'array') {
    if (before.items.length !== after.items.length) out.push(`${at}: length ${before.items.length} → ${after.items.length}`);
    else before.items.forEach((b, i) => describeChanges(b, after.items[i], `${at}[${i}]`, out));
  } else if (before.kind === 'object' && after.kind === 'object') {
    const keys = (s: typeof before) => s.entries.map(([k]) => k).join(',');
    if (keys(before) !== keys(after)) out.push(`${at}: keys {${keys(before)}} → {${keys(after)}}`);
    else before.entries.forEach(([k, b], i) => describeChanges(b, after.entries[i][1], `${at}.${k}`, out));
  }
  return out;
}

function describe(s: Spec): string {
  switch (s.kind) {
    case 'tensor': return `tensor ${s.dtype}${shapeToString(s.shape)}`;
    case 'value': return JSON.stringify(s.value) ?? 'undefined';
    case 'array': return `array of ${s.items.length}`;
    case 'object': return 'object';
    case 'static': return s.display;
  }
}

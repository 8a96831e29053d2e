import type { DType } from '@kiln/core';
import { ArgumentError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { keep, tidy, zeros } from '@kiln/eager';
import { Parameter } from './parameter.js';

/*
 * Helpers shared by the layers: argument checks with messages that name the layer and the
 * argument, and parameter creation that gives the module ownership of its tensors.
 */

/**
 * A parameter of `shape` (zeros; the caller initialises it in place), owned by its module: kept
 * out of every enclosing tidy() scope, freed by `module.dispose()`.
 */
export function newParameter(shape: readonly number[], dtype: DType = 'float32'): Parameter {
  return keep(tidy(() => new Parameter(zeros(shape, dtype))));
}

/** A non-learnable tensor owned by a module (a buffer), kept out of enclosing tidy() scopes. */
export function newBuffer(make: () => Tensor): Tensor {
  return keep(tidy(make));
}

export function positiveInt(where: string, arg: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1) throw new ArgumentError(`${where}: ${arg} must be a positive integer, got ${JSON.stringify(v)}`);
  return v as number;
}

export function nonNegativeInt(where: string, arg: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 0) throw new ArgumentError(`${where}: ${arg} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return v as number;
}

export function probability(where: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
    throw new ArgumentError(`${where}: ${arg} must be a probability between 0 and 1, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function nonNegativeNumber(where: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw new ArgumentError(`${where}: ${arg} must be a finite non-negative number, got ${JSON.stringify(v)}`);
  return v;
}

export function boolean(where: string, arg: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new ArgumentError(`${where}: ${arg} must be a boolean, got ${JSON.stringify(v)}`);
  return v;
}

/** Throws for keys of `options` that `valid` does not list (a typo would otherwise be ignored silently). */
export function checkOptions<T extends object>(where: string, options: T | undefined, valid: readonly string[]): Partial<T> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) throw new ArgumentError(`${where}: options must be an object, got ${JSON.stringify(options)}`);
  for (const key of Object.keys(options)) {
    if (!valid.includes(key)) throw new ArgumentError(`${where}: unknown option '${key}'; valid options are ${valid.join(', ')}`);
  }
  return options;
}

/** An integer or [h, w] pair as [h, w] (for constructor arguments and their repr). */
export function pairOf(where: string, arg: string, v: unknown, min: number): [number, number] {
  const p = Number.isInteger(v) ? [v as number, v as number] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= min)) {
    const what = min === 0 ? 'non-negative' : 'positive';
    throw new ArgumentError(`${where}: ${arg} must be a ${what} integer or a pair [height, width] of them, got ${JSON.stringify(v)}`);
  }
  return [p[0], p[1]];
}

/** `[a, b]` for reprs. */
export const showPair = (p: readonly number[]): string => `[${p.join(', ')}]`;

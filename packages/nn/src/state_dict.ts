import { ArgumentError, shapeToString } from '@kiln/core';
import { Tensor } from '@kiln/eager';

/** Parameters and buffers by dotted name ('layer1.weight'), as `Module.stateDict()` returns them. */
export type StateDict = Record<string, Tensor>;

export interface LoadStateDictOptions {
  /** Require the keys to match the module's exactly (default true). Shapes and dtypes are always checked. */
  strict?: boolean;
}

export interface LoadStateDictResult {
  /** The module's keys that the dict lacks (left unchanged). */
  readonly missingKeys: readonly string[];
  /** The dict's keys that the module does not have (ignored). */
  readonly unexpectedKeys: readonly string[];
}

/** One entry that cannot be loaded: its key and why. */
export interface StateDictMismatch {
  readonly key: string;
  readonly problem: string;
}

/**
 * `loadStateDict` found problems; the message lists all of them, and the fields give them
 * as data. Nothing was loaded.
 *
 * @example
 * ```ts
 * try { model.loadStateDict(dict); }
 * catch (e) { if (e instanceof StateDictError) console.log(e.missingKeys, e.mismatches); }
 * ```
 */
export class StateDictError extends ArgumentError {
  constructor(
    message: string,
    readonly missingKeys: readonly string[],
    readonly unexpectedKeys: readonly string[],
    readonly mismatches: readonly StateDictMismatch[],
  ) {
    super(message);
  }
}

const quote = (keys: readonly string[]) => keys.map((k) => `'${k}'`).join(', ');

/**
 * Checks `dict` against the module's live tensors (`entries`) and, if every entry fits, assigns
 * them. Shared by `Module.loadStateDict`.
 */
export function loadState(
  moduleName: string,
  entries: readonly [string, Tensor][],
  dict: StateDict | ReadonlyMap<string, Tensor>,
  options: LoadStateDictOptions,
): LoadStateDictResult {
  if (dict === null || typeof dict !== 'object') throw new ArgumentError(`loadStateDict: dict must be an object or a Map of tensors by name, got ${dict === null ? 'null' : typeof dict}`);
  const strict = options.strict ?? true;
  if (typeof strict !== 'boolean') throw new ArgumentError(`loadStateDict: strict must be a boolean, got ${JSON.stringify(strict)}`);
  const source = new Map<string, unknown>(dict instanceof Map ? dict : Object.entries(dict));
  const expected = new Set(entries.map(([k]) => k));
  const missingKeys = entries.map(([k]) => k).filter((k, i, all) => !source.has(k) && all.indexOf(k) === i);
  const unexpectedKeys = [...source.keys()].filter((k) => !expected.has(k));
  const mismatches: StateDictMismatch[] = [];
  const loads: [Tensor, Tensor][] = [];
  for (const [key, target] of entries) {
    if (!source.has(key)) continue;
    const value = source.get(key);
    if (!(value instanceof Tensor)) {
      mismatches.push({ key, problem: `is ${value === null ? 'null' : typeof value}, not a tensor` });
    } else if (value.isDisposed) {
      mismatches.push({ key, problem: 'is a disposed tensor' });
    } else if (value.shape.length !== target.shape.length || value.shape.some((d, i) => d !== target.shape[i])) {
      mismatches.push({ key, problem: `has shape ${shapeToString(value.shape)} in the dict but ${shapeToString(target.shape)} in the module` });
    } else if (value.dtype !== target.dtype) {
      mismatches.push({ key, problem: `has dtype ${value.dtype} in the dict but ${target.dtype} in the module; cast it first (value.cast('${target.dtype}'))` });
    } else {
      loads.push([target, value]);
    }
  }
  const keyProblems = strict && (missingKeys.length > 0 || unexpectedKeys.length > 0);
  if (keyProblems || mismatches.length > 0) {
    const lines: string[] = [];
    if (strict && missingKeys.length) lines.push(`missing keys: ${quote(missingKeys)}`);
    if (strict && unexpectedKeys.length) lines.push(`unexpected keys: ${quote(unexpectedKeys)}`);
    for (const { key, problem } of mismatches) lines.push(`'${key}' ${problem}`);
    const hint = keyProblems ? '\nPass { strict: false } to load the matching keys and skip the others.' : '';
    throw new StateDictError(
      `loadStateDict: cannot load the state dict into ${moduleName} (nothing was loaded):\n  ${lines.join('\n  ')}${hint}`,
      missingKeys,
      unexpectedKeys,
      mismatches,
    );
  }
  for (const [target, value] of loads) if (target !== value) target.assign(value);
  return { missingKeys, unexpectedKeys };
}

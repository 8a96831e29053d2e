import type { AttrValue } from '@kiln/core';
import { ArgumentError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { getRngState, setRngState, Tensor as TensorClass, tensor } from '@kiln/eager';
import type { HostTensor, Metadata } from '@kiln/serializer';
import { FormatError, readTensors, writeTensors } from '@kiln/serializer';
import type { Module } from './module.js';
import type { BaseOptions, Optimizer, OptimizerStateDict, ParamState } from './optim/optimizer.js';
import type { LoadStateDictResult } from './state_dict.js';

/**
 * Checkpoints: a module's `stateDict()`, an optimizer's state and options, and the global
 * random generator's position, in one weights-only `.kiln` file (the format models use, without
 * a graph). Tensors are stored bit for bit, so training resumed from a checkpoint continues
 * exactly as if it had not stopped.
 *
 * Names in the file: `module/<key>` for the module's tensors, `optimizer/state/<i>/<name>` for
 * optimizer state (i counts parameters through the groups, as `stateDict()` does); metadata
 * `optimizer/name`, `optimizer/group/<g>/<option>`, `optimizer/group/<g>/params`,
 * `optimizer/state/<i>/<name>` (numbers), `rng/seed`, `rng/stream`, and `user/<key>`.
 */

/** What a checkpoint holds; every part is optional. */
export interface CheckpointParts {
  readonly module?: Module;
  readonly optimizer?: Optimizer<BaseOptions>;
  /** Save (or restore) the global random generator's state. Default true. */
  readonly rng?: boolean;
}

export interface SaveCheckpointOptions extends CheckpointParts {
  /** Your own key/values (epoch, step, loss…), given back by `loadCheckpoint`. */
  readonly metadata?: Metadata;
}

export interface LoadCheckpointOptions extends CheckpointParts {
  /** Passed to `module.loadStateDict` (default true: the keys must match exactly). */
  readonly strict?: boolean;
}

export interface LoadCheckpointResult {
  /** What `saveCheckpoint` was given as `metadata`. */
  readonly metadata: Metadata;
  /** The module's `loadStateDict` result, when a module was loaded. */
  readonly module?: LoadStateDictResult;
}

const host = (t: Tensor): HostTensor => ({ dtype: t.dtype, shape: [...t.shape], data: t.dataSync() });

/**
 * Saves a module's state, an optimizer's state and the generator's position as `.kiln` bytes.
 *
 * @example
 * ```ts
 * const bytes = saveCheckpoint({ module: model, optimizer: opt, metadata: { epoch } });
 * writeFileSync('ckpt.kiln', bytes);
 * // later, with a model and optimizer built the same way:
 * const { metadata } = loadCheckpoint(readFileSync('ckpt.kiln'), { module: model, optimizer: opt });
 * ```
 */
export function saveCheckpoint(options: SaveCheckpointOptions): Uint8Array {
  if (options === null || typeof options !== 'object') throw new ArgumentError('saveCheckpoint: expected { module?, optimizer?, rng?, metadata? }');
  const tensors = new Map<string, HostTensor>();
  const metadata: Record<string, AttrValue> = {};
  if (options.module) {
    // stateDict()'s tensors are new objects sharing the module's data: read them, then let them go.
    for (const [key, t] of Object.entries(options.module.stateDict())) {
      tensors.set(`module/${key}`, host(t));
      t.dispose();
    }
  }
  if (options.optimizer) {
    const dict = options.optimizer.stateDict();
    metadata['optimizer/name'] = options.optimizer.name;
    dict.paramGroups.forEach((group, g) => {
      for (const [option, value] of Object.entries(group)) {
        if (value === undefined) continue;
        if (option === 'params') metadata[`optimizer/group/${g}/params`] = [...(value as readonly number[])];
        else metadata[`optimizer/group/${g}/${option}`] = optionValue(value, `optimizer group ${g} option '${option}'`);
      }
    });
    for (const [index, state] of Object.entries(dict.state)) {
      for (const [name, value] of Object.entries(state as ParamState)) {
        const key = `optimizer/state/${index}/${name}`;
        if (value instanceof TensorClass) tensors.set(key, host(value));
        else metadata[key] = value;
      }
    }
  }
  if (options.rng ?? true) {
    const { seed, stream } = getRngState();
    metadata['rng/seed'] = seed;
    metadata['rng/stream'] = stream;
  }
  for (const [key, value] of Object.entries(options.metadata ?? {})) metadata[`user/${key}`] = value;
  return writeTensors(tensors, { metadata, producer: { name: '@kiln/nn', version: '0.1.0' } });
}

function optionValue(value: unknown, where: string): AttrValue {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  if (Array.isArray(value) && value.every((x) => typeof x === 'number')) return [...value];
  throw new ArgumentError(`saveCheckpoint: ${where} is ${typeof value}; checkpoints store numbers, booleans and number pairs`);
}

/**
 * Restores what {@link saveCheckpoint} saved into a module and optimizer built the same way
 * (and the generator's position). The file is validated as any `.kiln` file (a damaged one is
 * a FormatError); a checkpoint that does not fit the module or optimizer is the error their
 * `loadStateDict` gives, and nothing of that part is changed.
 *
 * @example
 * ```ts
 * const model = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 2));
 * const opt = new Adam(model.parameters(), { lr: 1e-3 });
 * const { metadata } = loadCheckpoint(bytes, { module: model, optimizer: opt });
 * metadata.epoch; // as saved
 * ```
 */
export function loadCheckpoint(bytes: Uint8Array, options: LoadCheckpointOptions = {}): LoadCheckpointResult {
  const file = readTensors(bytes);
  const tensors = new Map<string, Tensor>();
  for (const [name, t] of file.tensors) tensors.set(name, tensor(t.data, { dtype: t.dtype, shape: t.shape }));
  const meta = file.metadata;
  try {
    let module: LoadStateDictResult | undefined;
    if (options.module) {
      const dict: Record<string, Tensor> = {};
      for (const [name, t] of tensors) if (name.startsWith('module/')) dict[name.slice('module/'.length)] = t;
      module = options.module.loadStateDict(dict, { strict: options.strict ?? true });
    }
    if (options.optimizer) options.optimizer.loadStateDict(optimizerDict(options.optimizer, tensors, meta));
    if (options.rng ?? true) {
      const seed = meta['rng/seed'];
      const stream = meta['rng/stream'];
      if (typeof seed !== 'number' || typeof stream !== 'number') throw new ArgumentError('loadCheckpoint: the checkpoint has no generator state (saved with rng: false); pass rng: false');
      setRngState({ seed, stream });
    }
    const metadata: Record<string, AttrValue> = {};
    for (const [key, value] of Object.entries(meta)) if (key.startsWith('user/')) metadata[key.slice('user/'.length)] = value;
    return { metadata, ...(module ? { module } : {}) };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

function optimizerDict(optimizer: Optimizer<BaseOptions>, tensors: ReadonlyMap<string, Tensor>, meta: Metadata): OptimizerStateDict<BaseOptions> {
  const saved = meta['optimizer/name'];
  if (saved === undefined) throw new ArgumentError('loadCheckpoint: the checkpoint has no optimizer state');
  if (saved !== optimizer.name) throw new ArgumentError(`loadCheckpoint: the checkpoint holds ${String(saved)} state, not ${optimizer.name} state`);
  const groups: Record<string, AttrValue>[] = [];
  const state: Record<number, Record<string, Tensor | number>> = {};
  const entry = (i: string) => (state[Number(i)] ??= {});
  for (const [key, value] of Object.entries(meta)) {
    const group = /^optimizer\/group\/(\d+)\/(.+)$/.exec(key);
    if (group) (groups[Number(group[1])] ??= {})[group[2]] = value;
    const s = /^optimizer\/state\/(\d+)\/(.+)$/.exec(key);
    if (s) {
      if (typeof value !== 'number') throw new FormatError(`loadCheckpoint: '${key}' is ${JSON.stringify(value)}, not a number`);
      entry(s[1])[s[2]] = value;
    }
  }
  for (const [key, t] of tensors) {
    const s = /^optimizer\/state\/(\d+)\/(.+)$/.exec(key);
    if (s) entry(s[1])[s[2]] = t;
  }
  if (groups.length === 0 || groups.some((g) => g === undefined)) throw new FormatError('loadCheckpoint: the checkpoint\'s optimizer parameter groups are incomplete');
  return { state, paramGroups: groups as unknown as OptimizerStateDict<BaseOptions>['paramGroups'] };
}

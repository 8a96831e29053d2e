import { ArgumentError } from '@kiln/core';
import { currentInterpreter, keep, Tensor } from '@kiln/eager';
import { Parameter } from './parameter.js';
import type { LoadStateDictOptions, LoadStateDictResult, StateDict } from './state_dict.js';
import { loadState } from './state_dict.js';

/** Options of the `named*` listings. */
export interface NamedOptions {
  /** Prepended, with a dot, to every name (default ''). */
  prefix?: string;
  /** Include the parameters/buffers of descendants, not only this module's own (default true). */
  recurse?: boolean;
}

/** Options of `registerBuffer`. */
export interface BufferOptions {
  /** Whether the buffer is part of `stateDict()` (default true). */
  persistent?: boolean;
}

const join = (prefix: string, name: string) => (prefix ? `${prefix}.${name}` : name);

/**
 * Base class of every layer and model, as PyTorch's `nn.Module`.
 *
 * **Registration.** A module's parameters and sub-modules are its own enumerable properties
 * that hold a `Parameter` or a `Module`, found in property order (the order fields are declared
 * or first assigned, as PyTorch's `__setattr__` registration; integer-like names come first in
 * ascending order, a JavaScript rule). Non-learnable state (running statistics) is declared with
 * `registerBuffer`. Plain tensors, arrays and maps of modules are not registered: use
 * `ModuleList`/`Sequential` for lists of modules.
 *
 * **Calling.** Run a module with `module.forward(...)`. JavaScript objects cannot be called like
 * functions, and `forward` keeps each layer's own argument and result types, so Kiln has no
 * separate `call`: `forward` is the call.
 *
 * **Ownership.** Built-in layers keep their parameters and buffers out of enclosing `tidy()`
 * scopes; `dispose()` frees them all.
 *
 * @example
 * ```ts
 * class MLP extends Module {
 *   fc1 = new Linear(4, 16);
 *   fc2 = new Linear(16, 2);
 *   forward(x: Tensor): Tensor {
 *     return this.fc2.forward(relu(this.fc1.forward(x)));
 *   }
 * }
 * const model = new MLP();
 * model.namedParameters().map(([name]) => name); // ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
 * ```
 */
let nextModuleId = 1;

export abstract class Module implements Disposable {
  #training = true;
  readonly #id = nextModuleId++;
  /**
   * True in training mode (the default); `eval()` sets it to false here and in every descendant.
   * A compiled function that read it (Dropout, BatchNorm) traces again when it changes.
   */
  get training(): boolean {
    currentInterpreter().guard?.(`${this.constructor.name} (module #${this.#id}).training`, () => this.#training);
    return this.#training;
  }

  set training(mode: boolean) {
    this.#training = mode;
  }
  /** Names of the buffers, and whether each is persistent (in the state dict). */
  readonly #buffers = new Map<string, boolean>();

  /** The computation. Subclasses declare their own arguments and result. */
  abstract forward(...args: never[]): unknown;

  /** Extra text inside the parentheses of `toString()` (the constructor options), as PyTorch's `extra_repr`. */
  extraRepr(): string {
    return '';
  }

  /** Own properties, in property order. */
  #own(): [string, unknown][] {
    const self = this as unknown as Record<string, unknown>;
    return Object.keys(self).map((k) => [k, self[k]]);
  }

  /** This module's own parameters (not its children's), null ones skipped. */
  #ownParameters(): [string, Parameter][] {
    return this.#own().filter((e): e is [string, Parameter] => e[1] instanceof Parameter);
  }

  /** This module's own buffers that hold a tensor; `persistentOnly` for the state dict. */
  #ownBuffers(persistentOnly: boolean): [string, Tensor][] {
    return this.#own().filter((e): e is [string, Tensor] => {
      const persistent = this.#buffers.get(e[0]);
      return persistent !== undefined && (persistent || !persistentOnly) && e[1] instanceof Tensor;
    });
  }

  /**
   * Declares a non-learnable tensor (running statistics, a fixed mask) as state of this module:
   * sets the property `name` and lists it in `buffers()` and, if persistent, `stateDict()`. The
   * module takes ownership: the tensor leaves enclosing tidy() scopes and `dispose()` frees it.
   * `null` declares the name without a tensor (as PyTorch's `register_buffer(name, None)`).
   *
   * @example
   * ```ts
   * this.runningMean = this.registerBuffer('runningMean', zeros([channels]));
   * ```
   */
  registerBuffer<T extends Tensor | null>(name: string, tensor: T, options: BufferOptions = {}): T {
    if (typeof name !== 'string' || name === '' || name.includes('.')) {
      throw new ArgumentError(`registerBuffer: name must be a non-empty string without '.', got ${JSON.stringify(name)}`);
    }
    if (tensor !== null && !(tensor instanceof Tensor)) {
      throw new ArgumentError(`registerBuffer: '${name}' must be a tensor or null, got ${typeof tensor}`);
    }
    if (tensor instanceof Parameter) {
      throw new ArgumentError(`registerBuffer: '${name}' is a Parameter; buffers hold non-learnable state. Assign parameters as properties (this.${name} = param) instead`);
    }
    const self = this as unknown as Record<string, unknown>;
    const existing = self[name];
    if (!this.#buffers.has(name) && (existing instanceof Parameter || existing instanceof Module || name === 'training')) {
      throw new ArgumentError(`registerBuffer: '${name}' is already a ${existing instanceof Parameter ? 'parameter' : existing instanceof Module ? 'sub-module' : 'property'} of ${this.constructor.name}; choose another name`);
    }
    if (tensor) keep(tensor);
    self[name] = tensor;
    this.#buffers.set(name, options.persistent ?? true);
    return tensor;
  }

  /** The direct sub-modules with their property names, each module once. */
  namedChildren(): [string, Module][] {
    const seen = new Set<Module>();
    return this.#own().filter((e): e is [string, Module] => e[1] instanceof Module && !seen.has(e[1]) && !!seen.add(e[1]));
  }

  /** The direct sub-modules. */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every descendant, depth-first, each once, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (m: Module, name: string) => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([name, m]);
      for (const [k, child] of m.namedChildren()) visit(child, join(name, k));
    };
    visit(this, prefix);
    return out;
  }

  /** This module and every descendant, depth-first, each once. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  #named<T>(own: (m: Module) => [string, T][], options: NamedOptions): [string, T][] {
    const { prefix = '', recurse = true } = options;
    const modules: [string, Module][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    const seen = new Set<T>();
    const out: [string, T][] = [];
    for (const [moduleName, m] of modules) {
      for (const [k, v] of own(m)) {
        if (seen.has(v)) continue; // a shared parameter is listed once, under its first name
        seen.add(v);
        out.push([join(moduleName, k), v]);
      }
    }
    return out;
  }

  /**
   * Every parameter with its dotted name ('layer1.weight'), in registration order; a parameter
   * shared by two modules is listed once.
   */
  namedParameters(options: NamedOptions = {}): [string, Parameter][] {
    return this.#named((m) => m.#ownParameters(), options);
  }

  /** Every parameter (what an optimizer takes), each once. @example `new SGD(model.parameters(), { lr: 0.1 })` */
  parameters(options: Omit<NamedOptions, 'prefix'> = {}): Parameter[] {
    return this.namedParameters(options).map(([, p]) => p);
  }

  /** Every buffer (persistent or not) with its dotted name. */
  namedBuffers(options: NamedOptions = {}): [string, Tensor][] {
    return this.#named((m) => m.#ownBuffers(false), options);
  }

  /** Every buffer, each once. */
  buffers(options: Omit<NamedOptions, 'prefix'> = {}): Tensor[] {
    return this.namedBuffers(options).map(([, b]) => b);
  }

  /** Sets training mode (true) or evaluation mode (false) here and in every descendant. Returns this. */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new ArgumentError(`train: mode must be a boolean, got ${JSON.stringify(mode)}`);
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: dropout is the identity and batch norm uses its running statistics. Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Sets `requiresGrad` on every parameter (false freezes them). Returns this. */
  requireGrad(flag = true): this {
    for (const p of this.parameters()) p.requiresGrad = flag;
    return this;
  }

  /** Clears the `.grad` of every parameter (to null, as PyTorch's default `set_to_none`). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Calls `fn` on every descendant and then on this module (custom initialisation). Returns this. */
  apply(fn: (module: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /** Every parameter and persistent buffer by dotted name, the live tensors (not copies). */
  #stateEntries(prefix: string, out: [string, Tensor][], path: Module[]): void {
    if (path.includes(this)) throw new ArgumentError(`stateDict: module '${prefix}' contains itself; a module graph with cycles has no state dict`);
    for (const [k, p] of this.#ownParameters()) out.push([join(prefix, k), p]);
    for (const [k, b] of this.#ownBuffers(true)) out.push([join(prefix, k), b]);
    for (const [k, child] of this.#own()) if (child instanceof Module) child.#stateEntries(join(prefix, k), out, [...path, this]);
  }

  /**
   * Parameters and persistent buffers by dotted name, in registration order (each module's
   * parameters, then its buffers, then its children's). The tensors share the data they hold now
   * (no copy) and do not require grad; a later `assign` (an optimizer step, `loadStateDict`) gives
   * the parameter new data and leaves the dict's tensor as it was.
   *
   * @example
   * ```ts
   * const saved = model.stateDict();   // { 'fc1.weight': …, 'fc1.bias': …, … }
   * other.loadStateDict(saved);
   * ```
   */
  stateDict(): StateDict {
    const entries: [string, Tensor][] = [];
    this.#stateEntries('', entries, []);
    const dict: StateDict = {};
    for (const [name, t] of entries) dict[name] = t.detach();
    return dict;
  }

  /**
   * Loads parameters and buffers from `dict` (a `stateDict()` of the same architecture), in place
   * (`assign`: the module's tensors keep their identity, so optimizers keep working). Every problem
   * is reported at once in one `StateDictError`: missing and unexpected keys (when `strict`, the
   * default), values that are not tensors, and shape or dtype mismatches (always). Nothing is
   * loaded when it throws. Returns the missing and unexpected keys.
   *
   * @example
   * ```ts
   * model.loadStateDict(saved);                                 // throws on any difference
   * const { missingKeys } = model.loadStateDict(partial, { strict: false });
   * ```
   */
  loadStateDict(dict: StateDict | ReadonlyMap<string, Tensor>, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const entries: [string, Tensor][] = [];
    this.#stateEntries('', entries, []);
    return loadState(this.constructor.name, entries, dict, options);
  }

  /** Frees every parameter and buffer (and their gradients) of this module and its descendants. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
    for (const b of this.buffers()) b.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * PyTorch's module repr: the class name, `extraRepr()`, and each child on its own line.
   *
   * @example
   * ```ts
   * String(new Sequential(new Linear(4, 2), new ReLU()));
   * // Sequential(
   * //   (0): Linear(inFeatures=4, outFeatures=2, bias=true)
   * //   (1): ReLU()
   * // )
   * ```
   */
  toString(): string {
    const extra = this.extraRepr();
    const extraLines = extra ? extra.split('\n') : [];
    const childLines = this.#own()
      .filter((e): e is [string, Module] => e[1] instanceof Module)
      .map(([k, m]) => `(${k}): ${String(m).split('\n').join('\n  ')}`);
    const lines = [...extraLines, ...childLines];
    let body = '';
    if (extraLines.length === 1 && childLines.length === 0) body = extraLines[0];
    else if (lines.length) body = `\n  ${lines.join('\n  ')}\n`;
    return `${this.constructor.name}(${body})`;
  }
}

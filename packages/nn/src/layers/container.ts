import { ArgumentError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { Module } from '../module.js';

/** A module whose forward takes one tensor and returns one: what Sequential chains. */
export type UnaryModule = Module & { forward(x: Tensor): Tensor };

function checkModule(where: string, m: unknown, i: number | string): Module {
  if (!(m instanceof Module)) throw new ArgumentError(`${where}: item ${i} must be a Module, got ${m === null ? 'null' : typeof m}`);
  return m;
}

/** A container's children in order, repeats included (the same module may sit at two positions). */
function numbered<M extends Module>(self: Module): M[] {
  return Object.values(self).filter((v): v is M => v instanceof Module);
}

/** `i` in -length..last (last = length - 1, or length for an insertion point) as 0..last. */
function normalizeIndex(where: string, i: number, length: number, last = length - 1): number {
  if (!Number.isInteger(i) || i < -length || i > last) {
    throw new ArgumentError(`${where}: index ${i} is out of range for ${length} modules (valid: ${-length}..${last})`);
  }
  return i < 0 ? i + length : i;
}

/**
 * Runs modules in order, each one's output the next one's input (nn.Sequential). Children are
 * named '0', '1', … — or by the keys of an object: `new Sequential({ conv: …, relu: … })`.
 *
 * @example
 * ```ts
 * const model = new Sequential(new Linear(4, 16), new ReLU(), new Linear(16, 2));
 * model.forward(x);
 * model.at(-1); // the last Linear
 * ```
 */
export class Sequential extends Module {
  constructor(...modules: UnaryModule[] | [Record<string, UnaryModule>]) {
    super();
    const self = this as unknown as Record<string, unknown>;
    const first = modules[0];
    if (modules.length === 1 && first !== null && typeof first === 'object' && !(first instanceof Module)) {
      for (const [k, m] of Object.entries(first)) {
        if (k === '' || k.includes('.')) throw new ArgumentError(`Sequential: child names must be non-empty and contain no '.', got '${k}'`);
        self[k] = checkModule('Sequential', m, k);
      }
    } else {
      modules.forEach((m, i) => (self[String(i)] = checkModule('Sequential', m, i)));
    }
  }

  /** Number of modules. */
  get length(): number {
    return numbered(this).length;
  }

  /** The module at position `i` (negative counts from the end). */
  at(i: number): UnaryModule {
    const all = numbered<UnaryModule>(this);
    return all[normalizeIndex('Sequential.at', i, all.length)];
  }

  /** Adds a module at the end, named by its position. Returns this. */
  append(module: UnaryModule): this {
    const n = this.length;
    (this as unknown as Record<string, unknown>)[String(n)] = checkModule('Sequential.append', module, n);
    return this;
  }

  [Symbol.iterator](): Iterator<UnaryModule> {
    return numbered<UnaryModule>(this)[Symbol.iterator]();
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of numbered<UnaryModule>(this)) y = m.forward(y);
    return y;
  }
}

/**
 * A list of modules, registered so their parameters are found (nn.ModuleList). It has no
 * forward of its own: iterate over it in the owning module's forward.
 *
 * @example
 * ```ts
 * class Stack extends Module {
 *   layers = new ModuleList([new Linear(8, 8), new Linear(8, 8)]);
 *   forward(x: Tensor): Tensor {
 *     for (const layer of this.layers) x = (layer as Linear).forward(x);
 *     return x;
 *   }
 * }
 * ```
 */
export class ModuleList<M extends Module = Module> extends Module {
  constructor(modules: Iterable<M> = []) {
    super();
    this.extend(modules);
  }

  /** Number of modules. */
  get length(): number {
    return numbered(this).length;
  }

  /** The module at position `i` (negative counts from the end). */
  at(i: number): M {
    const all = numbered<M>(this);
    return all[normalizeIndex('ModuleList.at', i, all.length)];
  }

  /** Adds a module at the end. Returns this. */
  append(module: M): this {
    return this.#set([...numbered<M>(this), checkModule('ModuleList.append', module, this.length) as M]);
  }

  /** Adds modules at the end. Returns this. */
  extend(modules: Iterable<M>): this {
    const all = numbered<M>(this);
    let i = all.length;
    for (const m of modules) all.push(checkModule('ModuleList', m, i++) as M);
    return this.#set(all);
  }

  /** Inserts a module before position `index` (negative counts from the end). Returns this. */
  insert(index: number, module: M): this {
    const all = numbered<M>(this);
    all.splice(normalizeIndex('ModuleList.insert', index, all.length, all.length), 0, checkModule('ModuleList.insert', module, index) as M);
    return this.#set(all);
  }

  /** Renumbers the children '0'… in the order given. */
  #set(modules: M[]): this {
    const self = this as unknown as Record<string, unknown>;
    for (const k of Object.keys(self)) if (/^\d+$/.test(k)) delete self[k];
    modules.forEach((m, i) => (self[String(i)] = m));
    return this;
  }

  [Symbol.iterator](): Iterator<M> {
    return numbered<M>(this)[Symbol.iterator]();
  }

  forward(): never {
    throw new ArgumentError('ModuleList has no forward(); iterate over it (for (const m of list)) in the forward of the module that owns it');
  }
}

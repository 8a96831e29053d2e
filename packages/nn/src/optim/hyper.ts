import type { DType } from '@kiln/core';
import { ArgumentError, DTypeError, TraceError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { currentInterpreter, eagerInterpreter, keep, noGrad, tensor } from '@kiln/eager';

type Group = Record<string, unknown>;


/**
 * The hyperparameters of an optimizer's parameter groups, kept compile-safe.
 *
 * A compiled training step runs a graph recorded once; a JavaScript number read while tracing
 * (`mul(grad, group.lr)`) would be fixed in that graph, so a scheduler changing `lr` later would
 * silently not apply. So every numeric option of a group is mirrored by a float64 scalar tensor
 * (float32 on a backend without float64),
 * which the step reads (`hp`) and `compile()` captures as a graph input read fresh on each
 * call. The group's option becomes an accessor: setting it (`group.lr = 0.01`, as schedulers
 * and `loadStateDict` do) validates it and assigns the new value to the tensor, eagerly.
 * Options that decide which ops run (booleans, `weightDecay ≠ 0`) are read through
 * `structural`, which registers a guard: `compile()` traces again, saying why, when they change.
 */
export class HyperparameterStore {
  private readonly values = new WeakMap<Group, Record<string, unknown>>();
  private readonly tensors = new WeakMap<Group, Map<string, Tensor>>();
  private readonly all: Tensor[] = [];
  /** Casts made during the current step, by group, name and dtype (freed with the step's tidy). */
  private cache = new Map<string, Tensor>();
  private readonly groupIds = new WeakMap<Group, number>();
  /**
   * The dtype of the hyperparameter tensors and of the optimizer's scalar state (the step
   * count): float64, or float32 on a backend without float64 (WebGPU), where no parameter can
   * be float64 either.
   */
  dtype: 'float64' | 'float32' = 'float64';

  constructor(
    private readonly optimizer: string,
    private readonly names: readonly string[],
    /** Checks a group after a change (throws on a bad value) and creates any state it needs. */
    private readonly changed: (group: Group, where: string) => void,
  ) {}

  /** Turns the group's options into accessors backed by this store (see the class comment). */
  bind(group: Group, index: number): void {
    const values: Record<string, unknown> = {};
    this.values.set(group, values);
    this.tensors.set(group, new Map());
    this.groupIds.set(group, index);
    for (const name of this.names) {
      values[name] = group[name];
      this.sync(group, name);
      Object.defineProperty(group, name, {
        enumerable: true,
        configurable: true,
        get: () => values[name],
        set: (v: unknown) => {
          if (currentInterpreter() !== eagerInterpreter) {
            throw new TraceError(
              `${this.optimizer}: ${name} of parameter group ${index} was set inside a compiled function; the new value would be fixed in the graph. ` +
                'Change hyperparameters (scheduler.step()) outside the compiled function: the step reads them as tensors, fresh on every call.',
            );
          }
          const old = values[name];
          values[name] = v;
          try {
            this.changed({ ...group }, `parameter group ${index}`);
          } catch (e) {
            values[name] = old;
            throw e;
          }
          this.sync(group, name);
        },
      });
    }
  }

  /** Sets several options at once (a loaded state dict, already validated as a whole). */
  setAll(group: Group, options: Readonly<Record<string, unknown>>): void {
    const values = this.values.get(group)!;
    for (const [name, v] of Object.entries(options)) {
      if (this.names.includes(name)) {
        values[name] = v;
        this.sync(group, name);
      } else group[name] = v; // initialLr
    }
  }

  /** Writes option `name`'s value into its tensors (one per number: `lr`, `betas[0]`, `betas[1]`). */
  private sync(group: Group, name: string): void {
    const v = this.values.get(group)![name];
    const numbers: [string, number][] = typeof v === 'number' ? [[name, v]] : Array.isArray(v) && v.every((x) => typeof x === 'number') ? v.map((x, i) => [`${name}[${i}]`, x as number]) : [];
    const map = this.tensors.get(group)!;
    noGrad(() => {
      for (const [key, x] of numbers) {
        const t = map.get(key);
        if (t) t.assign(tensor(x, t.dtype));
        else {
          const made = keep(this.scalar(x));
          map.set(key, made);
          this.all.push(made);
        }
      }
    });
  }

  /** A scalar tensor of {@link dtype} on the current backend (float64 falls back to float32 where the backend has none). */
  scalar(x: number): Tensor {
    if (this.dtype === 'float64') {
      try {
        return tensor(x, 'float64');
      } catch (e) {
        if (!(e instanceof DTypeError)) throw e;
        this.dtype = 'float32';
      }
    }
    return tensor(x, this.dtype);
  }

  /** Forgets the casts of the previous step (call at the start of each step, inside its tidy). */
  startStep(): void {
    this.cache = new Map();
  }

  /** Option `name` of `group` as a scalar tensor of `dtype` (see the class comment). */
  read(group: Group, name: string, dtype: DType): Tensor {
    const t = this.tensors.get(group)?.get(name);
    if (!t) {
      throw new ArgumentError(`${this.optimizer}: no numeric hyperparameter '${name}'; numeric options are ${[...(this.tensors.get(group)?.keys() ?? [])].join(', ')}`);
    }
    if (dtype === t.dtype) return t;
    const key = `${this.groupIds.get(group)}:${name}:${dtype}`;
    let cast = this.cache.get(key);
    if (!cast) this.cache.set(key, (cast = t.cast(dtype)));
    return cast;
  }

  /** `make()` once per step for (group, key): derived scalars such as `1 - beta1`. */
  derived(index: number, key: string, make: () => Tensor): Tensor {
    const k = `${index}:=${key}`;
    let t = this.cache.get(k);
    if (!t) this.cache.set(k, (t = make()));
    return t;
  }

  /** Reads a value that decides which ops the step records, registering it as a compile guard. */
  structural<T>(index: number, what: string, read: () => T): T {
    currentInterpreter().guard?.(`${this.optimizer} parameter group ${index}: ${what}`, read);
    return read();
  }

  dispose(): void {
    for (const t of this.all.splice(0)) t.dispose();
  }
}

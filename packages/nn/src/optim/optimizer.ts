import type { Tensor } from '@kiln/eager';
import { Tensor as TensorClass, add, enableGrad, keep, noGrad, tensor, tidy, zerosLike } from '@kiln/eager';
import type { DType } from '@kiln/core';
import { ArgumentError, ShapeError, shapeToString } from '@kiln/core';
import { Parameter } from '../parameter.js';
import { HyperparameterStore } from './hyper.js';

/** A hyperparameter value: a number, a flag, or a pair (Adam's betas). */
export type Hyperparameter = number | boolean | readonly [number, number];

/** Every optimizer's options have a learning rate, which schedulers change. */
export interface BaseOptions {
  lr: number;
}

/** A parameter group as given to a constructor: its parameters and option overrides. */
export type ParamGroupSpec<O> = { params: Iterable<Parameter> } & Partial<O>;

/**
 * A parameter group as the optimizer holds it: parameters and every option (mutable, like
 * PyTorch's dicts). Setting a numeric option (`group.lr = 0.01`, as schedulers do) also updates
 * the scalar tensor the step reads, so a compiled training step sees the new value.
 */
export type ParamGroup<O> = O & {
  readonly params: readonly Parameter[];
  /** The learning rate a scheduler started from (set by the first scheduler, as PyTorch's `initial_lr`). */
  initialLr?: number;
};

/** What the optimizer keeps per parameter: state tensors (its own, param-shaped) and counters. */
export type ParamState = Record<string, Tensor | number>;

/**
 * An optimizer's state as plain data, like PyTorch's `optimizer.state_dict()`: per-parameter
 * state keyed by the parameter's position (counting through the groups in order) and each
 * group's options with its parameters' positions. Tensors are the optimizer's own (not copies).
 */
export interface OptimizerStateDict<O = Record<string, Hyperparameter>> {
  readonly state: Readonly<Record<number, Readonly<ParamState>>>;
  readonly paramGroups: readonly (Readonly<O> & { readonly params: readonly number[]; readonly initialLr?: number })[];
}

/** The parameters argument: parameters, or parameter groups with per-group options. */
export type ParamsArg<O> = Iterable<Parameter> | Iterable<ParamGroupSpec<O>>;

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (x instanceof TensorClass) return `a plain Tensor (${x.dtype}[${x.shape.join(',')}])`;
  if (typeof x === 'object') return `a ${(x as object).constructor?.name ?? 'object'}`;
  return `a ${typeof x}`;
}

/**
 * The base of every optimizer: parameter groups, per-parameter state, `step()`, `zeroGrad()`
 * and state dicts. A subclass gives its name, its defaults, and `update`, which computes a
 * parameter's new value from its gradient with ops (run under noGrad in a tidy scope, so its
 * temporaries are freed and nothing is recorded).
 *
 * @example
 * ```ts
 * class SignSGD extends Optimizer<{ lr: number }> {
 *   protected readonly stateKeys = [];
 *   constructor(params: Iterable<Parameter>, options: Partial<{ lr: number }> = {}) {
 *     super('SignSGD', params, { lr: 0.01 }, options);
 *   }
 *   protected check(): void {}
 *   protected update(p: Parameter, grad: Tensor, group: ParamGroup<{ lr: number }>): Tensor {
 *     return sub(p, mul(sign(grad), this.hp(group, 'lr', p.dtype))); // a tensor: compile-safe
 *   }
 * }
 * ```
 */
export abstract class Optimizer<O extends BaseOptions> {
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state; tensors in it are kept out of tidy scopes and freed by `dispose()`. */
  protected readonly state = new Map<Parameter, ParamState>();

  /** Every option with its value for groups that do not override it. */
  readonly defaults: O;
  private readonly optionNames: readonly string[];
  /** Each group's numeric options as float64 scalar tensors (what `update` reads). */
  private readonly hyper: HyperparameterStore;

  /** `defaults` lists every option (with its default value); `options` are the user's overrides. */
  protected constructor(
    readonly name: string,
    params: ParamsArg<O>,
    defaults: O,
    options: Partial<O> | undefined,
  ) {
    this.optionNames = Object.keys(defaults as object);
    this.hyper = new HyperparameterStore(name, this.optionNames, (group, where) => {
      this.validate(group, where);
      this.createState(); // a structural change (momentum 0 → 0.9) may need new state entries
    });
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw new ArgumentError(`${name}: options must be an object such as { lr: 0.01 }, got ${describe(options)}`);
    }
    this.defaults = { ...defaults, ...options };
    this.validate(this.defaults as unknown as Record<string, unknown>, 'options');
    if (params === null || typeof params !== 'object' || !(Symbol.iterator in params)) {
      throw new ArgumentError(`${name}: params must be an iterable of Parameters (e.g. model.parameters()) or of parameter groups, got ${describe(params)}`);
    }
    const items = [...(params as Iterable<unknown>)];
    if (items.length === 0) throw new ArgumentError(`${name}: got an empty parameter list; pass model.parameters() of a model that has parameters`);
    const isGroup = (x: unknown): x is ParamGroupSpec<O> => x !== null && typeof x === 'object' && !(x instanceof TensorClass) && 'params' in x;
    const specs: ParamGroupSpec<O>[] = isGroup(items[0]) ? (items as ParamGroupSpec<O>[]) : [{ params: items as Parameter[] } as unknown as ParamGroupSpec<O>];
    const seen = new Set<Parameter>();
    specs.forEach((spec, g) => {
      if (!isGroup(spec)) throw new ArgumentError(`${name}: parameter group ${g} must be an object { params, ...options }, got ${describe(spec)}`);
      const { params: groupParams, ...overrides } = spec;
      const list = [...groupParams];
      list.forEach((p, i) => {
        const where = specs.length > 1 || isGroup(items[0]) ? `group ${g}, item ${i}` : `item ${i}`;
        if (!(p instanceof Parameter)) {
          throw new ArgumentError(`${name}: parameters must be nn Parameters (from module.parameters(), or new Parameter(tensor)); ${where} is ${describe(p)}`);
        }
        if (seen.has(p)) throw new ArgumentError(`${name}: a parameter appears twice (${where}); each parameter may be in one group only`);
        seen.add(p);
      });
      const group = { ...this.defaults, ...overrides, params: list } as ParamGroup<O>;
      this.validate(group as unknown as Record<string, unknown>, `parameter group ${g}`);
      this.hyper.bind(group as unknown as Record<string, unknown>, g);
      this.paramGroups.push(group);
    });
  }

  /** Checks option values (unknown names and out-of-range values throw an ArgumentError). */
  protected validate(options: Readonly<Record<string, unknown>>, where: string): void {
    for (const key of Object.keys(options)) {
      if (key !== 'params' && key !== 'initialLr' && !this.optionNames.includes(key)) {
        throw new ArgumentError(`${this.name}: unknown option '${key}' in ${where}; valid options are ${this.optionNames.join(', ')}`);
      }
    }
    const lr = options.lr;
    if (typeof lr !== 'number' || !(lr >= 0)) throw new ArgumentError(`${this.name}: lr must be a number ≥ 0, got ${JSON.stringify(lr)} in ${where}`);
    this.check(options as unknown as Readonly<O>, where);
  }

  /** Subclasses check their own options here. */
  protected abstract check(options: Readonly<O>, where: string): void;

  /** Names of the state entries this optimizer keeps, for loadStateDict's checks. */
  protected abstract readonly stateKeys: readonly string[];

  /**
   * Creates a parameter's missing state tensors (zeros, a zero step count) before any step, so
   * that a step traced by `compile()` only updates tensors made outside it. Called at
   * construction, after `loadStateDict`, and when an option changes.
   */
  protected initState(_param: Parameter, _group: ParamGroup<O>, _state: ParamState): void {}

  /** Runs `initState` for every parameter; subclasses call it at the end of their constructor. */
  protected createState(): void {
    tidy(() =>
      noGrad(() => {
        for (const group of this.paramGroups) {
          for (const p of group.params) {
            let state = this.state.get(p);
            if (!state) this.state.set(p, (state = {}));
            this.initState(p, group, state);
          }
        }
      }),
    );
  }

  /** Computes the new value of `param` from `grad`; may update `state` (use {@link setState}). */
  protected abstract update(param: Parameter, grad: Tensor, group: ParamGroup<O>, state: ParamState): Tensor;

  /**
   * A numeric option of `group` as a scalar tensor of `dtype` (default float64; float32 on a backend without float64): read fresh by
   * a compiled step on every call, where a JavaScript number would be fixed at trace time.
   * `name` is an option (`'lr'`) or an element of a pair (`'betas[0]'`). Cached within a step.
   */
  protected hp(group: ParamGroup<O>, name: string, dtype: DType = this.hyper.dtype): Tensor {
    return this.hyper.read(group as unknown as Record<string, unknown>, name, dtype);
  }

  /** A scalar derived from hyperparameters (`1 - beta1` in float64, cast), made once per group and step. */
  protected derived(group: ParamGroup<O>, key: string, make: () => Tensor): Tensor {
    return this.hyper.derived(this.paramGroups.indexOf(group), key, make);
  }

  /**
   * Reads a JavaScript value that decides which ops a step records (`weightDecay ≠ 0`,
   * `nesterov`): a compiled step depends on it, so it is registered as a guard and the step is
   * traced again, with that reason, when it changes.
   */
  protected structural<T>(group: ParamGroup<O>, what: string, read: () => T): T {
    return this.hyper.structural(this.paramGroups.indexOf(group), what, read);
  }

  /**
   * Updates every parameter that has a gradient, in place (`param.assign`). Parameters whose
   * `.grad` is null are skipped. With a `closure` (which recomputes the loss and calls
   * backward), it is called first and its loss returned, as PyTorch's `step(closure)`.
   */
  step(closure?: () => Tensor): Tensor | undefined {
    const loss = closure ? enableGrad(closure) : undefined;
    tidy(() =>
      noGrad(() => {
        this.hyper.startStep();
        for (const group of this.paramGroups) {
          for (const p of group.params) {
            if (p.grad === null) continue;
            let state = this.state.get(p);
            if (!state) this.state.set(p, (state = {}));
            p.assign(this.update(p, p.grad, group, state));
          }
        }
      }),
    );
    return loss;
  }

  /** Stores `value` as state entry `key` (in place if it exists; the tensor object stays the same). */
  protected setState(state: ParamState, key: string, value: Tensor): Tensor {
    const old = state[key];
    if (old instanceof TensorClass) return old.assign(value);
    // A new tensor object sharing value's data: value may be the gradient, which zeroGrad frees.
    const mine = keep(value.detach());
    state[key] = mine;
    return mine;
  }

  /**
   * Counts a step in the state entry 'step': a float64 scalar tensor (PyTorch also keeps a
   * tensor), so a compiled step reads the count instead of baking a number in. Returns it.
   */
  protected countStep(state: ParamState): Tensor {
    const old = state.step;
    const next = old instanceof TensorClass ? add(old, 1) : this.hyper.scalar((old ?? 0) + 1);
    return this.setState(state, 'step', next);
  }

  /** Creates the step count (see {@link initState}): `start`, 0 unless loaded state says otherwise. */
  protected zeroStep(state: ParamState, start = 0): void {
    if (state.step === undefined) this.setState(state, 'step', this.hyper.scalar(start));
  }

  /** A state entry, created as zeros of the parameter's shape the first time. */
  protected zerosState(state: ParamState, key: string, param: Parameter): Tensor {
    const t = state[key];
    if (t instanceof TensorClass) return t;
    return this.setState(state, key, zerosLike(param));
  }

  /**
   * Clears the gradients of all parameters. `setToNone` (default true, PyTorch 2's default)
   * disposes them; false fills them with zeros instead.
   */
  zeroGrad(setToNone = true): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (setToNone || p.grad === null) p.zeroGrad();
        else p.grad.assign(tidy(() => zerosLike(p.grad!)));
      }
    }
  }

  /** The optimizer's state and options as plain data (see {@link OptimizerStateDict}). */
  stateDict(): OptimizerStateDict<O> {
    const state: Record<number, ParamState> = {};
    let index = 0;
    const paramGroups = this.paramGroups.map((group) => {
      const { params, ...options } = group;
      const positions = params.map((p) => {
        const s = this.state.get(p);
        if (s) state[index] = { ...s };
        return index++;
      });
      return { ...(options as unknown as O), params: positions };
    });
    return { state, paramGroups };
  }

  /**
   * Restores state and options saved by {@link stateDict} (of an optimizer of the same kind over
   * parameters of the same shapes, in the same groups). State tensors are copied and cast to
   * their parameter's dtype; mismatches throw a typed error naming the group or parameter.
   */
  loadStateDict(dict: OptimizerStateDict<O>): void {
    const where = `${this.name}.loadStateDict`;
    if (!dict || !Array.isArray(dict.paramGroups) || typeof dict.state !== 'object') {
      throw new ArgumentError(`${where}: expected { state, paramGroups } as stateDict() returns, got ${describe(dict)}`);
    }
    if (dict.paramGroups.length !== this.paramGroups.length) {
      throw new ArgumentError(`${where}: the state dict has ${dict.paramGroups.length} parameter groups but the optimizer has ${this.paramGroups.length}`);
    }
    const byIndex = new Map<number, Parameter>();
    dict.paramGroups.forEach((saved, g) => {
      const params = this.paramGroups[g].params;
      if (!Array.isArray(saved.params) || saved.params.length !== params.length) {
        throw new ArgumentError(`${where}: parameter group ${g} has ${saved.params?.length ?? 0} parameters in the state dict but ${params.length} in the optimizer`);
      }
      saved.params.forEach((index: number, i: number) => byIndex.set(index, params[i]));
      const { params: _ignored, ...options } = saved;
      this.validate({ ...options, params: [] }, `the state dict's parameter group ${g}`);
    });
    const loaded = new Map<Parameter, ParamState>();
    for (const [key, entry] of Object.entries(dict.state)) {
      const param = byIndex.get(Number(key));
      if (!param) throw new ArgumentError(`${where}: the state dict has state for parameter ${key}, which no parameter group lists`);
      const s: ParamState = {};
      for (const [name, value] of Object.entries(entry)) {
        if (!this.stateKeys.includes(name)) {
          throw new ArgumentError(`${where}: unknown state '${name}' for parameter ${key}; ${this.name} keeps ${this.stateKeys.join(', ')}`);
        }
        if (value instanceof TensorClass) {
          const want = name === 'step' ? [] : param.shape;
          if (value.shape.length !== want.length || value.shape.some((d, i) => d !== want[i])) {
            const whose = name === 'step' ? 'it must be a scalar' : `the parameter has shape ${shapeToString(param.shape)}`;
            throw new ShapeError(`${where}: state '${name}' of parameter ${key} has shape ${shapeToString(value.shape)} but ${whose}`);
          }
          s[name] = keep(tidy(() => add(value.cast(name === 'step' ? this.hyper.dtype : param.dtype), 0)));
        } else if (typeof value === 'number') {
          s[name] = value;
        } else {
          throw new ArgumentError(`${where}: state '${name}' of parameter ${key} must be a Tensor or a number, got ${describe(value)}`);
        }
      }
      loaded.set(param, s);
    }
    dict.paramGroups.forEach((saved, g) => {
      const { params: _ignored, ...options } = saved;
      this.hyper.setAll(this.paramGroups[g] as unknown as Record<string, unknown>, options);
    });
    // Tensors of the same type are updated in place, so a compiled step that reads them keeps working.
    for (const [p, s] of this.state) {
      const next = loaded.get(p) ?? {};
      for (const [name, old] of Object.entries(s)) {
        const value = next[name];
        if (old instanceof TensorClass && value instanceof TensorClass && old.dtype === value.dtype && old.shape.length === value.shape.length && old.shape.every((d, i) => d === value.shape[i])) {
          noGrad(() => old.assign(value));
          value.dispose();
          next[name] = old;
        } else if (old instanceof TensorClass) old.dispose();
      }
      this.state.delete(p);
    }
    for (const [p, s] of loaded) this.state.set(p, s);
    this.createState();
  }

  private disposeState(): void {
    for (const s of this.state.values()) for (const v of Object.values(s)) if (v instanceof TensorClass) v.dispose();
    this.state.clear();
  }

  /** Frees the optimizer's state tensors and hyperparameter tensors (not the parameters). */
  dispose(): void {
    this.disposeState();
    this.hyper.dispose();
  }
}

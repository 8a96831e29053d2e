import { ArgumentError } from '@kiln/core';

/** What a scheduler needs of an optimizer: its parameter groups' learning rates. */
export interface Schedulable {
  readonly paramGroups: readonly { lr: number; initialLr?: number }[];
}

/** A scheduler's progress as plain data, for checkpoints. */
export interface SchedulerStateDict {
  readonly lastEpoch: number;
  readonly baseLrs: readonly number[];
  readonly children?: readonly SchedulerStateDict[];
}

/**
 * The base of the learning-rate schedulers: each sets every group's `lr` to a closed-form
 * function of the step count (`lastEpoch`) and the group's initial learning rate, so the
 * schedule is the one PyTorch's scheduler of the same name produces. Construction applies
 * step 0; call `step()` after each `optimizer.step()` (per epoch or per batch, as you choose).
 *
 * @example
 * ```ts
 * // A custom schedule: halve the learning rate every 10 steps, at least 1e-4.
 * class Halving extends LRScheduler {
 *   constructor(optimizer: Schedulable) { super('Halving', optimizer); this.step(); }
 *   protected lrAt(epoch: number, base: number): number { return Math.max(1e-4, base * 0.5 ** Math.floor(epoch / 10)); }
 * }
 * ```
 */
export abstract class LRScheduler {
  /** The learning rates the schedule scales: each group's `initialLr`, set on first use. */
  readonly baseLrs: number[];
  /** How many times `step()` has run since construction (0 right after it). */
  lastEpoch = -1;
  private lastLrs: number[] = [];

  protected constructor(
    readonly name: string,
    readonly optimizer: Schedulable,
  ) {
    if (!optimizer || !Array.isArray(optimizer.paramGroups)) {
      throw new ArgumentError(`${name}: the first argument must be an optimizer (with paramGroups), got ${optimizer === null ? 'null' : typeof optimizer}`);
    }
    for (const g of optimizer.paramGroups) if (g.initialLr === undefined) g.initialLr = g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
  }

  /** The learning rate at step `epoch` for a group that started at `baseLr`. */
  protected abstract lrAt(epoch: number, baseLr: number): number;

  /** Advances the schedule by one step and sets the groups' learning rates. */
  step(): void {
    this.stepTo(this.lastEpoch + 1);
  }

  /** Sets the schedule to step `epoch` (used by SequentialLR to restart a scheduler at 0). */
  stepTo(epoch: number): void {
    this.lastEpoch = epoch;
    this.lastLrs = this.baseLrs.map((base) => this.lrAt(epoch, base));
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = this.lastLrs[i]));
  }

  /** The learning rates the last step set, one per parameter group. */
  getLastLr(): number[] {
    return [...this.lastLrs];
  }

  stateDict(): SchedulerStateDict {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs] };
  }

  /** Restores the progress saved by stateDict (the optimizer's own state dict restores its lr). */
  loadStateDict(dict: SchedulerStateDict): void {
    if (!dict || !Number.isInteger(dict.lastEpoch) || !Array.isArray(dict.baseLrs) || dict.baseLrs.length !== this.baseLrs.length) {
      throw new ArgumentError(`${this.name}.loadStateDict: expected { lastEpoch, baseLrs } with ${this.baseLrs.length} learning rates, as stateDict() returns`);
    }
    this.lastEpoch = dict.lastEpoch;
    this.baseLrs.splice(0, this.baseLrs.length, ...dict.baseLrs);
    this.lastLrs = this.baseLrs.map((base) => this.lrAt(this.lastEpoch, base));
  }
}

function checkPositiveInteger(name: string, arg: string, v: unknown): void {
  if (!Number.isInteger(v) || (v as number) < 1) throw new ArgumentError(`${name}: ${arg} must be a positive integer, got ${JSON.stringify(v)}`);
}

/**
 * Multiplies the learning rate by `gamma` every `stepSize` steps, as `torch.optim.lr_scheduler.StepLR`:
 * `lr = base · gamma^floor(step / stepSize)`.
 *
 * @example
 * ```ts
 * const sched = new StepLR(opt, { stepSize: 30, gamma: 0.1 }); // 0.1 → 0.01 at step 30
 * ```
 */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Schedulable, options: { stepSize: number; gamma?: number }) {
    super('StepLR', optimizer);
    checkPositiveInteger('StepLR', 'stepSize', options?.stepSize);
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
    if (typeof this.gamma !== 'number' || !(this.gamma >= 0)) throw new ArgumentError(`StepLR: gamma must be a number ≥ 0, got ${JSON.stringify(options.gamma)}`);
    this.step();
  }

  protected lrAt(epoch: number, base: number): number {
    return base * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/**
 * Cosine annealing from the initial learning rate down to `etaMin` over `tMax` steps, as
 * `torch.optim.lr_scheduler.CosineAnnealingLR` (without restarts; past `tMax` the cosine
 * continues, rising again, as PyTorch's does): `lr = etaMin + (base - etaMin)·(1 + cos(π·step/tMax))/2`.
 *
 * @example
 * ```ts
 * const sched = new CosineAnnealingLR(opt, { tMax: 100, etaMin: 1e-5 });
 * ```
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: Schedulable, options: { tMax: number; etaMin?: number }) {
    super('CosineAnnealingLR', optimizer);
    checkPositiveInteger('CosineAnnealingLR', 'tMax', options?.tMax);
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
    if (typeof this.etaMin !== 'number' || !(this.etaMin >= 0)) throw new ArgumentError(`CosineAnnealingLR: etaMin must be a number ≥ 0, got ${JSON.stringify(options.etaMin)}`);
    this.step();
  }

  protected lrAt(epoch: number, base: number): number {
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

/**
 * Linear warm-up: scales the learning rate from `startFactor·base` to `endFactor·base` over
 * `totalIters` steps, then holds it, as `torch.optim.lr_scheduler.LinearLR` (same defaults:
 * startFactor 1/3, endFactor 1, totalIters 5). Follow it with another schedule with
 * {@link SequentialLR}.
 *
 * @example
 * ```ts
 * const warmup = new LinearWarmup(opt, { startFactor: 0.01, totalIters: 100 });
 * ```
 */
export class LinearWarmup extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;

  constructor(optimizer: Schedulable, options: { startFactor?: number; endFactor?: number; totalIters?: number } = {}) {
    super('LinearWarmup', optimizer);
    this.startFactor = options.startFactor ?? 1 / 3;
    this.endFactor = options.endFactor ?? 1;
    this.totalIters = options.totalIters ?? 5;
    if (typeof this.startFactor !== 'number' || !(this.startFactor > 0 && this.startFactor <= 1)) {
      throw new ArgumentError(`LinearWarmup: startFactor must be in (0, 1], got ${JSON.stringify(options.startFactor)}`);
    }
    if (typeof this.endFactor !== 'number' || !(this.endFactor >= 0 && this.endFactor <= 1)) {
      throw new ArgumentError(`LinearWarmup: endFactor must be in [0, 1], got ${JSON.stringify(options.endFactor)}`);
    }
    checkPositiveInteger('LinearWarmup', 'totalIters', this.totalIters);
    this.step();
  }

  protected lrAt(epoch: number, base: number): number {
    const progress = Math.min(epoch, this.totalIters) / this.totalIters;
    return base * (this.startFactor + (this.endFactor - this.startFactor) * progress);
  }
}

/**
 * Runs schedulers one after another, switching at the `milestones` (step counts), as
 * `torch.optim.lr_scheduler.SequentialLR`: at a milestone the next scheduler restarts from its
 * step 0. The usual recipe is a linear warm-up then cosine decay.
 *
 * @example
 * ```ts
 * const warmup = new LinearWarmup(opt, { startFactor: 0.1, totalIters: 5 });
 * const cosine = new CosineAnnealingLR(opt, { tMax: 95 });
 * const sched = new SequentialLR(opt, { schedulers: [warmup, cosine], milestones: [5] });
 * for (let epoch = 0; epoch < 100; epoch++) { train(); sched.step(); }
 * ```
 */
export class SequentialLR extends LRScheduler {
  readonly schedulers: readonly LRScheduler[];
  readonly milestones: readonly number[];

  constructor(optimizer: Schedulable, options: { schedulers: readonly LRScheduler[]; milestones: readonly number[] }) {
    super('SequentialLR', optimizer);
    const { schedulers, milestones } = options ?? {};
    if (!Array.isArray(schedulers) || schedulers.length === 0 || !schedulers.every((s) => s instanceof LRScheduler)) {
      throw new ArgumentError('SequentialLR: schedulers must be a non-empty array of schedulers');
    }
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) throw new ArgumentError(`SequentialLR: scheduler ${i} (${s.name}) schedules a different optimizer; all must schedule the one given`);
    });
    const increasing = Array.isArray(milestones) && milestones.every((m, i) => Number.isInteger(m) && m > 0 && (i === 0 || m > milestones[i - 1]));
    if (!increasing || milestones.length !== schedulers.length - 1) {
      throw new ArgumentError(`SequentialLR: milestones must be ${schedulers.length - 1} increasing positive integers (one fewer than the schedulers), got ${JSON.stringify(milestones)}`);
    }
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    // As PyTorch: back to the initial learning rates, then only the first scheduler's step 0.
    optimizer.paramGroups.forEach((g) => (g.lr = g.initialLr!));
    this.stepTo(0);
  }

  protected lrAt(): number {
    throw new Error('internal: SequentialLR delegates to its schedulers');
  }

  /** Advances one step (`epoch = lastEpoch + 1`) or restarts the whole sequence (`epoch = 0`). */
  override stepTo(epoch: number): void {
    if (epoch === 0) {
      this.schedulers[0].stepTo(0);
      for (const s of this.schedulers.slice(1)) s.lastEpoch = -1;
    } else if (epoch === this.lastEpoch + 1) {
      const idx = this.milestones.filter((m) => m <= epoch).length; // bisect_right
      const current = this.schedulers[idx];
      if (idx > 0 && this.milestones[idx - 1] === epoch) current.stepTo(0);
      else current.step();
    } else {
      throw new ArgumentError(`SequentialLR: can only advance one step (to ${this.lastEpoch + 1}) or restart at 0, not jump to ${epoch}`);
    }
    this.lastEpoch = epoch;
  }

  override getLastLr(): number[] {
    const idx = this.milestones.filter((m) => m <= this.lastEpoch).length;
    return this.schedulers[idx].getLastLr();
  }

  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), children: this.schedulers.map((s) => s.stateDict()) };
  }

  override loadStateDict(dict: SchedulerStateDict): void {
    if (!Array.isArray(dict?.children) || dict.children.length !== this.schedulers.length) {
      throw new ArgumentError(`SequentialLR.loadStateDict: expected the state of ${this.schedulers.length} schedulers, as stateDict() returns`);
    }
    this.lastEpoch = dict.lastEpoch;
    dict.children.forEach((c, i) => this.schedulers[i].loadStateDict(c));
  }
}

/**
 * Typed errors. Every error Kiln throws on bad input is a `KilnError` subclass whose message
 * names the op and argument involved, the shapes or dtypes seen, and what would be valid.
 *
 * @example
 * ```ts
 * try { add(ones([2, 3]), ones([4])); }
 * catch (e) { if (e instanceof ShapeError) console.log(e.message); }
 * // add: cannot broadcast shapes [2,3] (a) and [4] (b): dimension 1 is 3 vs 4 ...
 * ```
 */
export class KilnError extends Error {
  override get name(): string {
    return this.constructor.name;
  }
}

/** Shapes that do not fit an op: broadcasting, reshape sizes, matmul inner dimensions, ranks. */
export class ShapeError extends KilnError {}

/** A dtype an op cannot take, mismatched dtypes, or an unknown dtype name. */
export class DTypeError extends KilnError {}

/** An axis outside `[-rank, rank)` or repeated. */
export class AxisError extends ShapeError {}

/** An attribute or argument whose value is invalid (a negative size, a zero step, ragged nested arrays…). */
export class ArgumentError extends KilnError {}

/** An op name that is not defined. */
export class UnknownOpError extends KilnError {}

/** A backend has no kernel for an op, or a kernel was registered twice. */
export class KernelError extends KilnError {}

/** A tensor used after `dispose()`. */
export class DisposedError extends KilnError {}

/** A graph that breaks the IR's invariants (found by `verifyGraph`). */
export class VerifyError extends KilnError {}

/** Misuse of tracing: reading the value of a traced tensor, leaking a tracer… */
export class TraceError extends KilnError {}

/** Anomaly detection found NaN or ±Inf: names the op that produced it (see setAnomalyDetection). */
export class AnomalyError extends KilnError {}

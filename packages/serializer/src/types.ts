import type { AttrValue, DType, Graph, Node, TypedArray, Value } from '@kiln/core';

/**
 * What a graph input is fed with: an argument of `run()` (`input`), a weight stored in the
 * file (`parameter`), other stored state such as running statistics or optimizer state
 * (`buffer`), the random generator state int32[2] = [seed, stream] (`rng`), or the stored
 * gradient of a parameter (`gradient`, in training steps).
 */
export type InputRole = 'input' | 'parameter' | 'buffer' | 'rng' | 'gradient';

/**
 * What a graph output is: a result (`output`), the new value of a stored input
 * (`stateUpdate`), or the new gradient of a parameter (`gradient`).
 */
export type OutputRole = 'output' | 'stateUpdate' | 'gradient';

export interface SignatureInput {
  readonly name: string;
  readonly role: InputRole;
  /** For `gradient` inputs: the index of the parameter input it is the gradient of. */
  readonly target?: number;
}

export interface SignatureOutput {
  readonly name: string;
  readonly role: OutputRole;
  /** For `stateUpdate` and `gradient` outputs: the index of the input it updates. */
  readonly target?: number;
}

/**
 * The explicit signature of a saved graph: one entry per graph input and output, in order.
 * The types are the graph's.
 *
 * @example
 * ```ts
 * const signature: Signature = {
 *   inputs: [{ name: 'x', role: 'input' }, { name: 'fc.weight', role: 'parameter' }],
 *   outputs: [{ name: 'y', role: 'output' }],
 *   rngKeysPerRun: 0,
 * };
 * ```
 */
export interface Signature {
  readonly inputs: readonly SignatureInput[];
  readonly outputs: readonly SignatureOutput[];
  /** Random keys the graph draws per run: the `rng` input's stream advances by this much. */
  readonly rngKeysPerRun: number;
}

/**
 * A tensor on the host: dtype, shape and row-major data (bool as 0/1 bytes).
 *
 * @example
 * ```ts
 * const x: HostTensor = { dtype: 'float32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) };
 * ```
 */
export interface HostTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TypedArray;
}

/** A symbolic dimension: a name and the sizes it may take, inclusive (`max` absent: no bound). */
export interface SymbolDef {
  readonly name: string;
  readonly min: number;
  readonly max?: number;
}

/** `coefficient` times the product of the sizes of `symbols` (indices; repeated: a power; none: a constant). */
export interface SizeTerm {
  readonly coefficient: number;
  readonly symbols: readonly number[];
}

/**
 * The sum of the terms — a polynomial in the symbols' sizes — or its reciprocal: how a
 * dimension or a number in an attribute depends on the symbolic dimensions.
 *
 * @example
 * ```ts
 * const twiceBatch: SizeExpr = { terms: [{ coefficient: 2, symbols: [0] }] };                 // 2·batch
 * const area: SizeExpr = { terms: [{ coefficient: 1, symbols: [0, 1] }] };                    // h·w
 * const inverse: SizeExpr = { terms: [{ coefficient: 1, symbols: [0] }], reciprocal: true };  // 1/batch
 * ```
 */
export interface SizeExpr {
  readonly terms: readonly SizeTerm[];
  readonly reciprocal?: boolean;
}

/**
 * Which numbers of a graph depend on symbolic dimensions. The graph itself holds every
 * number at `sizes`; `dims` and `attrs` say how they change for other sizes (null: fixed).
 * Every symbol must appear alone (`{ terms: [{ coefficient: 1, symbols: [k] }] }`) as some dimension of a user input,
 * so the sizes can be read off the inputs a caller passes.
 *
 * @example
 * ```ts
 * // x: f32[batch, 4] → y: f32[batch, 2], traced at batch 8.
 * const symbolic: SymbolicShapes = {
 *   symbols: [{ name: 'batch', min: 1 }], sizes: [8],
 *   dims: new Map([[x, [{ terms: [{ coefficient: 1, symbols: [0] }] }, null]]]),
 *   attrs: new Map(),
 * };
 * ```
 */
export interface SymbolicShapes {
  readonly symbols: readonly SymbolDef[];
  /** Each symbol's size in the graph as given. */
  readonly sizes: readonly number[];
  /** By value (of the main graph or a sub-graph): one entry per axis. Unlisted values are fixed. */
  readonly dims: ReadonlyMap<Value, readonly (SizeExpr | null)[]>;
  /** By node: attribute key → one entry per number (one for a scalar attribute). */
  readonly attrs: ReadonlyMap<Node, Readonly<Record<string, readonly (SizeExpr | null)[]>>>;
}

/** Who wrote a file. */
export interface Producer {
  readonly name: string;
  readonly version: string;
}

/** Typed key/values stored with a model or checkpoint (the attribute value kinds). */
export type Metadata = Readonly<Record<string, AttrValue>>;

/**
 * Everything `writeModel` stores: a graph, its signature, the data of its stored inputs
 * (`weights[i]` for every `parameter`, `buffer` and `gradient` input i), and optionally
 * symbolic dimensions, the producer and metadata.
 */
export interface ModelContent {
  readonly graph: Graph;
  readonly signature: Signature;
  readonly weights: readonly (TypedArray | undefined)[];
  readonly symbolic?: SymbolicShapes;
  readonly producer?: Producer;
  readonly metadata?: Metadata;
}

/** A file's schema version. */
export interface SchemaVersion {
  readonly major: number;
  readonly minor: number;
}

/** What `readModel` returns: the content, with the file's version and producer. */
export interface ModelFile extends ModelContent {
  readonly version: SchemaVersion;
  readonly producer: Producer;
  readonly metadata: Metadata;
  /** Names of the stored tensors, one per graph input (undefined for `input` and `rng`). */
  readonly weightNames: readonly (string | undefined)[];
  /** How many stored tensors are views into the file's bytes (the rest were copied: unaligned bytes). */
  readonly zeroCopyTensors: number;
}

/** A weights-only file (a checkpoint): named tensors and metadata. */
export interface TensorsFile {
  readonly version: SchemaVersion;
  readonly producer: Producer;
  readonly tensors: ReadonlyMap<string, HostTensor>;
  readonly metadata: Metadata;
  /** How many tensors are views into the file's bytes. */
  readonly zeroCopyTensors: number;
}

/** Limits the reader enforces, so that a hostile file cannot make it allocate or work without bound. */
export interface ReadOptions {
  /** Most bytes any one value of the graph may take (checked on every value's type). Default 4 GiB. */
  readonly maxValueBytes?: number;
  /** Most nodes the graph may hold, counting a sub-graph once per node that uses it. Default 10 million. */
  readonly maxNodes?: number;
}

import { KilnError } from '@kiln/core';

/**
 * A `.kiln` file (or bytes claimed to be one) that cannot be read: truncated, corrupted, made
 * by an incompatible version, or describing an invalid model. The message says what is wrong
 * and where (the byte offset, the table and field, the graph and node).
 *
 * @example
 * ```ts
 * try { readModel(bytes); }
 * catch (e) { if (e instanceof FormatError) console.error(`not loadable: ${e.message}`); }
 * ```
 */
export class FormatError extends KilnError {}

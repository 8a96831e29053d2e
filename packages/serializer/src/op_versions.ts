import { getOp, hasOp } from '@kiln/core';

/**
 * The version of each op's semantics this Kiln implements, recorded in a file's op table. An
 * op's version goes up when the meaning of its inputs, attributes or outputs changes in a way
 * an older reader would run wrongly; a reader refuses files whose op versions are newer than
 * its own (see docs/format.md, "Op versions"). Ops not listed are at version 1.
 */
const OP_VERSIONS: Readonly<Record<string, number>> = Object.freeze({});

/**
 * The version of `op` this Kiln reads and writes. Throws an UnknownOpError for unknown ops.
 *
 * @example
 * ```ts
 * opVersion('matmul'); // 1
 * ```
 */
export function opVersion(op: string): number {
  getOp(op);
  return Object.hasOwn(OP_VERSIONS, op) ? OP_VERSIONS[op] : 1;
}

/**
 * Whether this Kiln can run `op` at `version` (every version from 1 to its own).
 *
 * @example
 * ```ts
 * supportsOpVersion('relu', 1); // true
 * supportsOpVersion('relu', 2); // false: a file that needs it is refused
 * ```
 */
export function supportsOpVersion(op: string, version: number): boolean {
  return hasOp(op) && Number.isInteger(version) && version >= 1 && version <= opVersion(op);
}

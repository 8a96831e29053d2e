import { UnknownOpError } from '../errors.js';
import { binaryDefs } from './binary.js';
import { controlDefs } from './control.js';
import { creationDefs } from './creation.js';
import { fusedDefs } from './fused.js';
import { nnDefs } from './nn.js';
import type { OpDef } from './op.js';
import { reduceDefs } from './reduce.js';
import { shapingDefs } from './shaping.js';
import { unaryDefs } from './unary.js';

const ALL: readonly OpDef[] = [...unaryDefs, ...binaryDefs, ...reduceDefs, ...shapingDefs, ...nnDefs, ...creationDefs, ...fusedDefs, ...controlDefs];

const TABLE: ReadonlyMap<string, OpDef> = (() => {
  const map = new Map<string, OpDef>();
  for (const op of ALL) {
    if (map.has(op.name)) throw new Error(`op '${op.name}' is defined twice`);
    map.set(op.name, op);
  }
  return map;
})();

/** Every op, primitives and composites, in table order. */
export function listOps(): readonly OpDef[] {
  return ALL;
}

export function hasOp(name: string): boolean {
  return TABLE.has(name);
}

/**
 * Looks an op up by name, or throws an UnknownOpError suggesting close names.
 *
 * @example
 * ```ts
 * getOp('matmul').kind; // 'primitive'
 * getOp('matmull');     // UnknownOpError: unknown op 'matmull'. Did you mean 'matmul'? …
 * ```
 */
export function getOp(name: string): OpDef {
  const op = TABLE.get(name);
  if (op) return op;
  const near = [...TABLE.keys()].filter((k) => editDistance(k.toLowerCase(), String(name).toLowerCase()) <= 2);
  const hint = near.length ? ` Did you mean ${near.map((n) => `'${n}'`).join(' or ')}?` : '';
  throw new UnknownOpError(`unknown op '${name}'.${hint} Known ops: ${[...TABLE.keys()].sort().join(', ')}`);
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

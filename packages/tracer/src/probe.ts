import { TraceError } from '@kiln/core';
import type { Entry } from './entry.js';
import type { Spec } from './tree.js';

/** The spec with tensor shapes left out: results may change shape with a dynamic size. */
function structure(spec: Spec): string {
  return JSON.stringify(spec, function (this: { kind?: string }, k: string, v: unknown) {
    return (this.kind === 'tensor' && k === 'shape') || (this.kind === 'static' && k === 'value') ? undefined : v;
  });
}

/**
 * Checks that traces of the same function at different sizes of its dynamic dimensions did the
 * same things besides the graph: read the same outside tensors, assigned and differentiated the
 * same ones, drew as many random keys, depended on the same guarded values and returned the
 * same structure. Throws a TraceError naming the first difference.
 */
export function sameBehaviour(entries: readonly Entry[], at: readonly string[]): void {
  const [first, ...rest] = entries;
  const same = <T>(what: string, get: (e: Entry) => T, eq: (a: T, b: T) => boolean = (a, b) => a === b) => {
    rest.forEach((e, i) => {
      if (!eq(get(first), get(e))) {
        throw new TraceError(`compile: dynamic dimensions: the function ${what} at ${at[0]} and at ${at[i + 1]}; it must do the same at every size to share one graph (keep that dimension out of dynamic)`);
      }
    });
  };
  const sameList = <T>(a: readonly T[], b: readonly T[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  same('returns a different structure (or different non-tensor values)', (e) => structure(e.outSpec));
  same('reads different tensors from its closure', (e) => e.captured.map((c) => c.gradOf ?? c.tensor), sameList);
  same('assigns different tensors', (e) => e.updates, sameList);
  same('changes different gradients', (e) => [...e.gradUpdates, null, ...e.gradClears], sameList);
  same('draws a different number of random keys', (e) => e.randomKeys);
  same('depends on different JavaScript values', (e) => e.guards.map((g) => `${g.what}=${g.key}`).join('\n'));
}

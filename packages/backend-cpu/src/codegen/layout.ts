import type { Shape } from '@kiln/core';

/**
 * The loop structure of a fused kernel: its domain with size-1 dimensions dropped and adjacent
 * dimensions merged wherever every operand broadcasts along both or along neither, so a plain
 * `x + y` over [64, 1024] is one loop of 65,536 and a bias add over rows is two. Each operand
 * (an input, an output or a reduction's accumulator, all contiguous row-major) gets one stride
 * per merged dimension: 0 where it is broadcast.
 */
export interface Layout {
  /** Sizes of the merged dimensions (at least one; `[1]` for a one-element domain). */
  readonly dims: readonly number[];
  /** Per operand, its stride along each merged dimension (0: broadcast). */
  readonly strides: readonly (readonly number[])[];
}

/**
 * Merges the dimensions of `domain` for operands of the given shapes (each broadcasts to it).
 *
 * @example
 * ```ts
 * collapse([4, 8, 16], [[4, 8, 16], [16]]); // { dims: [32, 16], strides: [[16, 1], [0, 1]] }
 * ```
 */
export function collapse(domain: Shape, operands: readonly Shape[]): Layout {
  const rank = domain.length;
  // broadcast[p][d]: operand p repeats along domain dimension d.
  const broadcast = operands.map((shape) => domain.map((size, d) => {
    const j = d - (rank - shape.length);
    return j < 0 || (shape[j] === 1 && size !== 1);
  }));
  const groups: { size: number; pattern: boolean[] }[] = [];
  for (let d = 0; d < rank; d++) {
    if (domain[d] === 1) continue;
    const pattern = broadcast.map((b) => b[d]);
    const last = groups[groups.length - 1];
    if (last && domain[d] !== 0 && last.size !== 0 && last.pattern.every((b, p) => b === pattern[p])) last.size *= domain[d];
    else groups.push({ size: domain[d], pattern });
  }
  if (groups.length === 0) groups.push({ size: 1, pattern: operands.map(() => true) });
  const dims = groups.map((g) => g.size);
  const strides = operands.map((_, p) => {
    const s = new Array<number>(groups.length).fill(0);
    let step = 1;
    for (let g = groups.length - 1; g >= 0; g--) {
      if (groups[g].pattern[p]) continue;
      s[g] = step;
      step *= groups[g].size;
    }
    return s;
  });
  return { dims, strides };
}

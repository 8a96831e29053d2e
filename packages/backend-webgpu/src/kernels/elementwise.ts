import type { Shape } from '@kiln/core';
import type { KernelContext } from '../kernel.js';
import type { GpuTensor } from '../storage.js';

/** Per-axis strides of `shape` read at `outShape`'s indices (0 on broadcast axes), right-aligned. */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const rank = outShape.length;
  const strides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const axis = rank - shape.length + i;
    strides[axis] = shape[i] === 1 && outShape[axis] !== 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * One generated kernel for any elementwise op with broadcasting: `expr` computes the output
 * from `a0, a1, …` (the inputs' WGSL values). Inputs of the output's shape are read at
 * `index`, one-element inputs at 0, others through broadcast strides passed as parameters (the
 * rank is baked into the source, shapes are not, so one pipeline serves every shape of a rank).
 */
export function elementwise(ctx: KernelContext, op: string, inputs: readonly GpuTensor[], out: GpuTensor, expr: string, helpers?: string): void {
  const rank = out.shape.length;
  const params: number[] = [...out.shape];
  const reads: string[] = [];
  const strided: number[] = [];
  inputs.forEach((t, i) => {
    if (sameShape(t.shape, out.shape)) reads.push(`  let a${i} = in${i}[index];`);
    else if (t.storage.size === 1) reads.push(`  let a${i} = in${i}[0];`);
    else {
      reads.push(`  let a${i} = in${i}[o${i}];`);
      strided.push(i);
      params.push(...broadcastStrides(t.shape, out.shape));
    }
  });
  const body: string[] = [];
  if (strided.length > 0) {
    body.push(...strided.map((i) => `  var o${i} = 0u;`));
    body.push('  var rem = index;');
    body.push(`  for (var d = 0u; d < ${rank}u; d++) {`);
    body.push(`    let ax = ${rank}u - d - 1u;`);
    body.push('    let c = rem % param(1u + ax);');
    body.push('    rem = rem / param(1u + ax);');
    strided.forEach((i, j) => body.push(`    o${i} += c * param(${1 + rank * (j + 1)}u + ax);`));
    body.push('  }');
  }
  body.push(...reads);
  body.push(`  out0[index] = ${expr};`);
  ctx.launch({ op, body: body.join('\n'), helpers, inputs, outputs: [out], params, threads: out.storage.size });
}

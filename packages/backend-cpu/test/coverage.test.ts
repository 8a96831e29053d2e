import { readdirSync } from 'node:fs';
import { createOps, isControlOp, listOps, typeInterpreter } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { cpu } from './helpers/cpu_ops.js';
import { loadGolden } from './helpers/golden.js';

// Random ops cannot match PyTorch's generator; they are checked by Philox known-answer vectors
// and statistics in random.test.ts instead.
const NOT_GOLDEN = new Set(['rand', 'randn', 'randint', 'uniform', 'normal', 'randomUniform', 'randomNormal']);

describe('coverage', () => {
  const groups = readdirSync(new URL('./golden/', import.meta.url)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
  const tested = new Set(groups.flatMap((g) => loadGolden(g).map((c) => c.op)));

  it('every public op has golden cases against PyTorch', () => {
    const surface = Object.keys(createOps(typeInterpreter));
    expect(surface.filter((name) => !tested.has(name) && !NOT_GOLDEN.has(name))).toEqual([]);
  });

  it('the CPU backend has a kernel for every primitive (control flow is run by the runtime)', () => {
    const missing = listOps().filter((op) => op.kind === 'primitive' && !isControlOp(op.name) && !cpu.hasKernel(op.name)).map((op) => op.name);
    expect(missing).toEqual([]);
  });
});

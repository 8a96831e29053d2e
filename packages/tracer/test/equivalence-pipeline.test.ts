/**
 * Regressions found by the random programs of equivalence.test.ts, minimized: traced graphs that
 * the optimization pipeline (fusion) once compiled wrongly. Each runs the whole pipeline,
 * verified after every pass, and compares the optimized graph's outputs with the traced graph's
 * bit for bit, and the compiled function with eager.
 */
import type { Tensor } from '@kiln/eager';
import { abs, add, broadcastTo, matmul, mul, neg, sum, tensor, tril } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/index.js';
import { expectSameTensors } from './equivalence-compare.js';
import { expectPipelinePreserves } from './equivalence-pipeline.js';

function check(f: (...xs: Tensor[]) => Tensor[], inputs: Tensor[]): string[] {
  const compiled = compile(f);
  expectSameTensors(compiled(...inputs), f(...inputs));
  return expectPipelinePreserves(compiled.explain(...inputs).tracedGraph, inputs);
}

describe('optimization pipeline regressions', () => {
  it('a fused group whose iteration domain is empty still computes its non-empty outputs', () => {
    // neg(b) is a scalar output; fused with add(neg(b), a) over a's empty domain it was never written.
    const f = (a: Tensor, b: Tensor) => {
      const nb = neg(b);
      return [nb, add(nb, a)];
    };
    check(f, [tensor(new Float32Array(0), 'float32'), tensor(-0.75, 'float32')]);
  });

  it('merging two groups never puts a reduction and a reader of its result in one fused body', () => {
    // s = sum(broadcastTo(-a)) and |−a| share a group; mul(s, 2) reads the reduction, so it is
    // its own group; the add that reads both merged them, leaving mul reading s inside one body.
    const f = (a: Tensor) => {
      const n = neg(a);
      const s = sum(broadcastTo(n, [1]));
      const t = mul(s, 2);
      return [add(t, abs(n))];
    };
    const changed = check(f, [tensor(1.5, 'float32')]);
    expect(changed).toContain('fuse-elementwise');
  });

  it('a matmul whose only reader is a reduction fuses it as an epilogue over the product', () => {
    // The epilogue had no elementwise op, so its domain came out as [] instead of the product's shape.
    const f = (a: Tensor, b: Tensor) => [sum(matmul(a, b))];
    const changed = check(f, [tensor([[1, 2, 3], [4, 5, 6]], 'float32'), tensor([[1, -1], [0.5, 2], [-3, 1]], 'float32')]);
    expect(changed).toContain('fuse-matmul-epilogue');
  });

  it('a chain that reads only constants (after simplification) is not fused into a node without inputs', () => {
    // tril(x, -1) of a 1×1 matrix is where(false, x, 0): simplified to broadcastTo(0) after
    // constant folding ran, whose sum made a fusedElementwise with no inputs.
    const f = (x: Tensor) => [add(sum(x), sum(tril(x, -1)))];
    check(f, [tensor([[2.5]], 'float32')]);
  });
});

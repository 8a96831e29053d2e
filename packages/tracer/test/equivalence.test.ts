/**
 * Property-based equivalence: random programs over the op table (unary, binary, reduction,
 * shape, indexing and nn ops on random shapes and dtypes), run eagerly and compiled. Values
 * must match (exactly where no op rounded), the cached graph must give the right answer for
 * new data, and gradients taken with valueAndGrad inside the compiled function must match
 * eager's. Each traced graph also goes through the runtime's whole optimization pipeline,
 * verified after every pass, and must compute the same bits.
 */
import type { DType } from '@kiln/core';
import { verifyGraph } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { memory, tensor, tidy, valueAndGrad } from '@kiln/eager';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/index.js';
import { expectSameTensors, firstDifference } from './equivalence-compare.js';
import { expectPipelinePreserves } from './equivalence-pipeline.js';
import type { InputSpec, Mode, Program } from './equivalence-programs.js';
import { catalogueNames, makeInput, programLoss, runProgram } from './equivalence-programs.js';

const dim = fc.oneof({ arbitrary: fc.integer({ min: 1, max: 4 }), weight: 8 }, { arbitrary: fc.constant(0), weight: 1 });

function inputArb(dtypes: readonly DType[], dims: fc.Arbitrary<number>): fc.Arbitrary<InputSpec> {
  return fc.record({ shape: fc.array(dims, { maxLength: 3 }), dtype: fc.constantFrom(...dtypes), seed: fc.nat(1_000_000) });
}

function programArb(mode: Mode, maxSteps = 10): fc.Arbitrary<Program> {
  const dtypes: DType[] = mode === 'values' ? ['float32', 'float32', 'float64', 'int32', 'bool'] : ['float32', 'float32', 'float64'];
  return fc.record({
    inputs: fc.array(inputArb(dtypes, mode === 'values' ? dim : fc.integer({ min: 1, max: 4 })), { minLength: 1, maxLength: 3 }),
    steps: fc.array(fc.array(fc.nat(10_000), { minLength: 8, maxLength: 8 }), { minLength: 1, maxLength: maxSteps }),
  });
}

/** Names of the optimization passes that changed some program's graph (see the last test). */
const passesThatChanged = new Set<string>();

/** Runs a program eagerly and compiled on two data sets of one signature, comparing every value. */
function checkValues(program: Program, special: boolean): void {
  tidy(() => {
    const compiled = compile((...xs: Tensor[]) => runProgram(program, xs, 'values').values);
    for (const salt of [0, 1]) {
      const inputs = program.inputs.map((s) => makeInput(s, salt, special));
      const eager = runProgram(program, inputs, 'values');
      expectSameTensors(compiled(...inputs), eager.values, eager.exact);
    }
    expect(compiled.stats).toEqual({ traces: 1, hits: 1, misses: 1 });
    const inputs = program.inputs.map((s) => makeInput(s, 0, special));
    verifyGraph(compiled.graph(...inputs));
    for (const pass of expectPipelinePreserves(compiled.explain(...inputs).tracedGraph, inputs)) passesThatChanged.add(pass);
  });
}

/** The value and the gradient with respect to every input, eager vs valueAndGrad inside compile. */
function checkGradients(program: Program): void {
  tidy(() => {
    const argnums = program.inputs.map((_, i) => i);
    const f = (...xs: Tensor[]) => valueAndGrad((...ys: Tensor[]) => programLoss(program, ys), argnums)(...xs);
    const compiled = compile(f);
    for (const salt of [0, 1]) {
      const inputs = program.inputs.map((s) => makeInput(s, salt));
      const [value, grads] = f(...inputs);
      const [cValue, cGrads] = compiled(...inputs);
      expectSameTensors([cValue], [value], [], 'loss');
      expectSameTensors(cGrads, grads, [], 'gradient');
    }
    expect(compiled.stats.traces).toBe(1);
    const inputs = program.inputs.map((s) => makeInput(s));
    verifyGraph(compiled.graph(...inputs));
    for (const pass of expectPipelinePreserves(compiled.explain(...inputs).tracedGraph, inputs)) passesThatChanged.add(pass);
  });
}

describe('the comparison', () => {
  it('catches a wrong value, NaN, a changed dtype or shape; tolerates float rounding only where values are inexact', () => {
    const want = tensor([1, 2, Number.NaN, Number.POSITIVE_INFINITY], 'float32');
    expect(firstDifference(tensor([1, 2, Number.NaN, Number.POSITIVE_INFINITY], 'float32'), want, true)).toBeUndefined();
    expect(firstDifference(tensor([1, 2.00001, Number.NaN, Number.POSITIVE_INFINITY], 'float32'), want, false)).toBeUndefined();
    expect(firstDifference(tensor([1, 2.00001, Number.NaN, Number.POSITIVE_INFINITY], 'float32'), want, true)).toMatch(/^element 1: 2\.0000/);
    expect(firstDifference(tensor([1, 2.01, Number.NaN, Number.POSITIVE_INFINITY], 'float32'), want, false)).toMatch(/^element 1: 2\.00999/);
    expect(firstDifference(tensor([1, 2, 0, Number.POSITIVE_INFINITY], 'float32'), want, false)).toBe('element 2: 0, eager NaN');
    expect(firstDifference(tensor([1, 2, Number.NaN, 1e38], 'float32'), want, false)).toMatch(/^element 3: 9\.99.*e\+37, eager Infinity/);
    expect(firstDifference(tensor([1, 2, Number.NaN, Number.POSITIVE_INFINITY], 'float64'), want, false)).toBe('dtype float64, eager float32');
    expect(firstDifference(tensor([[1, 2], [Number.NaN, Number.POSITIVE_INFINITY]], 'float32'), want, false)).toBe('shape [2,2], eager [4]');
    expect(firstDifference(tensor([3, 4], 'int32'), tensor([3, 5], 'int32'), false)).toBe('element 1: 4, eager 5 (exact comparison)');
  });
});

describe('random programs: compiled equals eager', () => {
  it('the generator reaches every op of the catalogue (values and gradient programs)', () => {
    for (const mode of ['values', 'grad'] as const) {
      const used = new Set<string>();
      for (const p of fc.sample(programArb(mode, 20), { numRuns: 300, seed: 1 })) {
        tidy(() => runProgram(p, p.inputs.map((s) => makeInput(s)), mode, used));
      }
      expect(catalogueNames(mode).filter((n) => !used.has(n)), mode).toEqual([]);
    }
  });

  it('values, on random shapes and dtypes, for two data sets of each signature', () => {
    fc.assert(fc.property(programArb('values'), (p) => checkValues(p, false)), { numRuns: 200 });
  }, 60_000);

  it('values with NaN, ±Infinity and ±0 in the float inputs', () => {
    fc.assert(fc.property(programArb('values'), (p) => checkValues(p, true)), { numRuns: 80 });
  }, 60_000);

  it('gradients: valueAndGrad inside the compiled function equals eager valueAndGrad', () => {
    fc.assert(fc.property(programArb('grad'), (p) => checkGradients(p)), { numRuns: 100 });
  }, 60_000);

  it('exercised every pass of the optimization pipeline, each verified and bit-exact', () => {
    expect([...passesThatChanged].sort()).toEqual(expect.arrayContaining(['cse', 'dce', 'fold-constants', 'fuse-elementwise', 'simplify']));
  });

  it('leaves no tensors behind', () => {
    const p = fc.sample(programArb('grad'), { numRuns: 1, seed: 3 })[0];
    checkGradients(p);
    const before = memory().numTensors;
    checkGradients(p);
    expect(memory().numTensors).toBe(before);
  });
});

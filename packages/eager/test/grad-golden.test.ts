import { createOps, getOp, listOps, typeInterpreter } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import type { GradCase } from './helpers/grad_golden.js';
import { gradCaseOutcome, loadGradGolden, missingVjps, runGradCase } from './helpers/grad_golden.js';

// Gradients of every differentiable op against PyTorch (scripts/golden/gen_grad.py). Cases whose
// gradient would pass through a primitive without a vjp rule yet are todo, not failures.

/** Public ops with no gradient: comparisons, logical ops, isNaN, arg-reductions and maxPool2dIndices (int32 results), oneHot, creation and random ops. */
const NON_DIFFERENTIABLE = new Set([
  'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'logicalNot', 'isNaN', 'argmax', 'argmin', 'oneHot', 'maxPool2dIndices',
  'full', 'zeros', 'ones', 'arange', 'linspace', 'eye', 'zerosLike', 'onesLike', 'fullLike',
  'rand', 'randn', 'randint', 'uniform', 'normal', 'randomUniform', 'randomNormal',
]);

const surface = Object.keys(createOps(typeInterpreter));
const differentiable = surface.filter((name) => !NON_DIFFERENTIABLE.has(name));
const cases = loadGradGolden();
const missing = new Map<GradCase, string[]>(cases.map((c) => [c, missingVjps(c)]));

describe('gradients match PyTorch', () => {
  for (const c of cases) {
    const title = `${c.op}: ${c.name}`;
    const absent = missing.get(c)!;
    if (absent.length > 0) it.todo(`${title} (waiting for the vjp of ${absent.join(', ')})`);
    else {
      it(title, () => {
        const error = gradCaseOutcome(c);
        if (error) throw error;
      });
    }
  }
});

describe('grad golden coverage', () => {
  it('every differentiable public op has golden gradients, and every case names one', () => {
    const tested = new Set(cases.map((c) => c.op));
    expect(differentiable.filter((name) => !tested.has(name))).toEqual([]);
    expect([...tested].filter((name) => !differentiable.includes(name))).toEqual([]);
  });

  it('every differentiable op has a passing case or is waiting for a vjp rule', () => {
    const unaccounted = differentiable.filter((name) => {
      const own = cases.filter((c) => c.op === name);
      return !own.some((c) => missing.get(c)!.length > 0 || gradCaseOutcome(c) === null);
    });
    expect(unaccounted).toEqual([]);
  });

  it('the non-differentiable list holds public ops, and no differentiable primitive', () => {
    expect([...NON_DIFFERENTIABLE].filter((name) => !surface.includes(name))).toEqual([]);
    const primitives = listOps().filter((op) => op.kind === 'primitive' && NON_DIFFERENTIABLE.has(op.name));
    expect(primitives.filter((op) => op.kind === 'primitive' && op.differentiable).map((op) => op.name)).toEqual([]);
    const blocked = listOps().filter((op) => op.kind === 'primitive' && !op.differentiable && surface.includes(op.name));
    expect(blocked.filter((op) => !NON_DIFFERENTIABLE.has(op.name)).map((op) => op.name)).toEqual([]);
  });
});

describe('the grad golden runner', () => {
  const mulCase = cases.find((c) => c.op === 'mul' && missing.get(c)!.length === 0)!;

  it('fails on a wrong gradient and on a wrong forward value', () => {
    const wrongGrad = structuredClone(mulCase);
    wrongGrad.grads[1].data[0] = (wrongGrad.grads[1].data[0] as number) + 1e-3;
    expect(() => runGradCase(wrongGrad)).toThrowError(/gradient of input 1: mismatches/);
    const wrongValue = structuredClone(mulCase);
    wrongValue.outputs[0].data[2] = (wrongValue.outputs[0].data[2] as number) * 1.01;
    expect(() => runGradCase(wrongValue)).toThrowError(/output 0: mismatches/);
  });

  it('marks a case todo when a primitive on its gradient path has no vjp rule', () => {
    const expCase = cases.find((c) => c.op === 'exp')!;
    expect(missingVjps(expCase)).toEqual([]);
    const exp = getOp('exp');
    const rule = exp.vjp;
    exp.vjp = undefined;
    try {
      expect(missingVjps(expCase)).toEqual(['exp']);
      // The index input of gather is not differentiated, and comparisons on the path are not differentiable.
      expect(missingVjps(cases.find((c) => c.op === 'gelu')!)).toEqual([]);
    } finally {
      exp.vjp = rule;
    }
  });
});

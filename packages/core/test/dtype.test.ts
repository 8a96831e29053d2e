import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { broadcastShapes, checkDType, DTYPES, normalizeAxes, normalizeAxis, promoteTypes, promoteWithScalar, ShapeError, AxisError, DTypeError } from '../src/index.js';

describe('dtype promotion', () => {
  it('follows PyTorch for tensor pairs', () => {
    const table: Record<string, string> = {
      'bool,bool': 'bool', 'bool,int32': 'int32', 'bool,float32': 'float32', 'int32,float32': 'float32',
      'int32,float64': 'float64', 'float32,float64': 'float64', 'int32,int32': 'int32',
    };
    for (const [pair, want] of Object.entries(table)) {
      const [a, b] = pair.split(',') as [never, never];
      expect(promoteTypes(a, b)).toBe(want);
      expect(promoteTypes(b, a)).toBe(want);
    }
  });

  it('treats JavaScript numbers as weak scalars', () => {
    expect(promoteWithScalar('int32', 2)).toBe('int32');
    expect(promoteWithScalar('int32', 2.5)).toBe('float32');
    expect(promoteWithScalar('float64', 2.5)).toBe('float64');
    expect(promoteWithScalar('bool', 1)).toBe('int32');
    expect(promoteWithScalar('bool', true)).toBe('bool');
  });

  it('is commutative and idempotent (property)', () => {
    const d = fc.constantFrom(...DTYPES);
    fc.assert(fc.property(d, d, (a, b) => promoteTypes(a, b) === promoteTypes(b, a) && promoteTypes(a, a) === a));
  });

  it('names unknown dtypes', () => {
    expect(() => checkDType('int64', 'zeros')).toThrowError(DTypeError);
    expect(() => checkDType('int64', 'zeros')).toThrowError('zeros: unknown dtype "int64"; valid dtypes are bool, int32, float32, float64');
  });
});

describe('broadcasting', () => {
  it('aligns from the right', () => {
    expect(broadcastShapes([[8, 1, 3], [4, 3]], 'add')).toEqual([8, 4, 3]);
    expect(broadcastShapes([[], [2, 0]], 'add')).toEqual([2, 0]);
    expect(() => broadcastShapes([[2, 3], [3, 2]], 'mul', ['a', 'b'])).toThrowError(ShapeError);
  });

  const dims = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 });
  it('matches the NumPy rule on random shapes (property)', () => {
    fc.assert(
      fc.property(dims, dims, (a, b) => {
        const rank = Math.max(a.length, b.length);
        const pa = [...new Array(rank - a.length).fill(1), ...a];
        const pb = [...new Array(rank - b.length).fill(1), ...b];
        const compatible = pa.every((d, i) => d === pb[i] || d === 1 || pb[i] === 1);
        if (!compatible) return expectThrow(() => broadcastShapes([a, b], 'add'));
        const out = broadcastShapes([a, b], 'add');
        return out.every((d, i) => d === (pa[i] === 1 ? pb[i] : pa[i])) && out.length === rank;
      }),
    );
  });

  it('is commutative (property)', () => {
    fc.assert(
      fc.property(dims, dims, (a, b) => {
        let x: number[] | 'err';
        let y: number[] | 'err';
        try { x = broadcastShapes([a, b], 'add'); } catch { x = 'err'; }
        try { y = broadcastShapes([b, a], 'add'); } catch { y = 'err'; }
        return JSON.stringify(x) === JSON.stringify(y);
      }),
    );
  });
});

describe('axes', () => {
  it('normalizes negative axes and rejects out-of-range ones', () => {
    expect(normalizeAxis(-1, 3, 'sum')).toBe(2);
    expect(normalizeAxes([-1, 0], 3, 'sum')).toEqual([0, 2]);
    expect(() => normalizeAxis(3, 3, 'sum')).toThrowError(AxisError);
    expect(() => normalizeAxis(3, 3, 'sum')).toThrowError('sum: axis 3 is out of range for a tensor of rank 3 (valid axes are -3..2)');
    expect(() => normalizeAxes([0, -3], 3, 'sum')).toThrowError(/repeats an axis/);
  });
});

function expectThrow(fn: () => unknown): boolean {
  try { fn(); return false; } catch (e) { return e instanceof ShapeError; }
}

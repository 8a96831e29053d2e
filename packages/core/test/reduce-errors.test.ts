import { describe, expect, it } from 'vitest';
import type { TensorType } from '../src/index.js';
import { ArgumentError, AxisError, DTypeError, ShapeError, createOps, getOp, inferTypes, typeInterpreter } from '../src/index.js';

const ops = createOps(typeInterpreter);
const f32 = (...shape: number[]): TensorType => ({ dtype: 'float32', shape });
const i32 = (...shape: number[]): TensorType => ({ dtype: 'int32', shape });
const bool = (...shape: number[]): TensorType => ({ dtype: 'bool', shape });
/** Calls a surface function with arguments its types forbid (as untyped JavaScript might). */
const call = (name: keyof typeof ops, ...args: unknown[]) => () => (ops[name] as (...a: unknown[]) => unknown)(...args);

describe('reduce ops: types', () => {
  it('reduces the named axes, keeping them as size 1 with keepdims', () => {
    expect(ops.sum(f32(2, 3, 4), 1)).toEqual(f32(2, 4));
    expect(ops.sum(f32(2, 3, 4), [-1, 0], true)).toEqual(f32(1, 3, 1));
    expect(ops.max(f32(2, 3, 4))).toEqual(f32());
    expect(ops.min(f32(2, 3, 4), null, true)).toEqual(f32(1, 1, 1));
    expect(ops.mean({ dtype: 'float64', shape: [5, 2] }, 0)).toEqual({ dtype: 'float64', shape: [2] });
    expect(ops.var(f32(5, 2), 1, 0, true)).toEqual(f32(5, 1));
    expect(ops.logsumexp(f32(5, 2), -1)).toEqual(f32(5));
  });

  it('sums and multiplies bool and int32 in int32 (Kiln has no int64)', () => {
    expect(ops.sum(bool(3))).toEqual(i32());
    expect(ops.prod(i32(3, 2), 0)).toEqual(i32(2));
    expect(ops.cumsum(bool(3), 0)).toEqual(i32(3));
    expect(ops.max(bool(3))).toEqual(bool());
  });

  it('promotes integers to float32 for logsumexp, as PyTorch', () => {
    expect(ops.logsumexp(i32(4))).toEqual(f32());
  });

  it('gives int32 indices from argmax/argmin', () => {
    expect(ops.argmax(f32(2, 3))).toEqual(i32());
    expect(ops.argmax(f32(2, 3), null, true)).toEqual(i32(1, 1));
    expect(ops.argmin(f32(2, 3), -1, true)).toEqual(i32(2, 1));
  });

  it('accepts axis 0 or -1 on a scalar, as PyTorch', () => {
    expect(ops.sum(f32(), 0)).toEqual(f32());
    expect(ops.argmax(f32(), -1, true)).toEqual(i32());
    expect(ops.cumsum(f32(), 0)).toEqual(f32());
  });

  it('reduces nothing for an empty axis list', () => {
    const x = f32(2, 3);
    expect(ops.sum(x, [])).toBe(x);
    expect(ops.var(x, [])).toEqual(f32(2, 3));
  });

  it('allows empty axes where the reduction has an identity', () => {
    expect(ops.sum(f32(0, 3), 0)).toEqual(f32(3));
    expect(ops.mean(f32(0, 3), 0)).toEqual(f32(3));
    expect(ops.logsumexp(f32(0, 3), 0, true)).toEqual(f32(1, 3));
    expect(ops.max(f32(0, 3), 1)).toEqual(f32(0));
  });
});

describe('reduce ops: errors', () => {
  it('rejects an axis out of range', () => {
    expect(() => ops.sum(f32(2, 3), 2)).toThrow(AxisError);
    expect(() => ops.sum(f32(2, 3), 2)).toThrow('sum: axis 2 is out of range for a tensor of rank 2 (valid axes are -2..1)');
    expect(() => ops.argmax(f32(2, 3), -3)).toThrow('argmax: axis -3 is out of range');
    expect(() => ops.cumsum(f32(2, 3), 5)).toThrow('cumsum: axis 5 is out of range');
  });

  it('rejects axes on a scalar other than 0 and -1', () => {
    expect(() => ops.mean(f32(), 1)).toThrow(AxisError);
    expect(() => ops.mean(f32(), 1)).toThrow('mean: axis 1 is out of range for a scalar (rank 0); a scalar accepts only axis 0 or -1, or null');
    expect(() => ops.cumsum(f32(), -2)).toThrow('cumsum: axis -2 is out of range for a scalar');
  });

  it('rejects a repeated axis', () => {
    expect(() => ops.max(f32(2, 3), [1, -1])).toThrow(AxisError);
    expect(() => ops.max(f32(2, 3), [1, -1])).toThrow('max: axis [1,-1] repeats an axis; each axis may appear once');
  });

  it('rejects axes that are not integers', () => {
    expect(call('sum', f32(2, 3), 0.5)).toThrow(ArgumentError);
    expect(call('sum', f32(2, 3), 0.5)).toThrow('sum: axis must be an integer, an array of integers, or null for all axes, got 0.5');
    expect(call('prod', f32(2, 3), '1')).toThrow(ArgumentError);
    expect(call('argmax', f32(2, 3), [0, 1])).toThrow('argmax: axis must be an integer, or null for the flattened tensor, got [0,1]');
    expect(call('cumsum', f32(2, 3), 1.5)).toThrow('cumsum: axis must be an integer, got 1.5');
  });

  it('requires cumsum to name its axis', () => {
    expect(call('cumsum', f32(2, 3))).toThrow(ArgumentError);
    expect(call('cumsum', f32(2, 3))).toThrow('cumsum: axis is required');
  });

  it('rejects keepdims that is not a boolean', () => {
    expect(call('sum', f32(2, 3), 0, 1)).toThrow('sum: keepdims must be a boolean, got 1');
    expect(call('argmin', f32(2, 3), 0, 'yes')).toThrow(ArgumentError);
  });

  it('rejects a non-tensor x', () => {
    expect(call('sum', [1, 2, 3])).toThrow('sum: x must be a tensor, got an array; wrap it with tensor(...)');
    expect(call('logsumexp', 3)).toThrow(ArgumentError);
  });

  it('requires floats for mean and var, suggesting a cast (PyTorch errors too)', () => {
    expect(() => ops.mean(i32(3))).toThrow(DTypeError);
    expect(() => ops.mean(i32(3))).toThrow("mean: x must be float32 or float64, got int32; as in PyTorch, cast integers first, e.g. mean(cast(x, 'float32'))");
    expect(() => ops.var(bool(3))).toThrow("var: x must be float32 or float64, got bool");
  });

  it('rejects bool argmax/argmin, suggesting a cast (PyTorch errors too)', () => {
    expect(() => ops.argmax(bool(3))).toThrow(DTypeError);
    expect(() => ops.argmin(bool(3))).toThrow("argmin: x must be int32, float32 or float64, got bool (as in PyTorch); cast it first, e.g. argmin(cast(x, 'int32'))");
  });

  it('rejects a correction that is not a finite number', () => {
    expect(call('var', f32(3), null, Infinity)).toThrow(ArgumentError);
    expect(call('var', f32(3), null, '1')).toThrow('var: correction must be a finite number (1 for the unbiased variance, 0 for the population variance), got "1"');
  });

  it('rejects max/min/argmax/argmin over an empty axis, naming the axis (PyTorch errors too)', () => {
    expect(() => ops.max(f32(2, 0), -1)).toThrow(ShapeError);
    expect(() => ops.max(f32(2, 0), -1)).toThrow('max: cannot reduce over axis 1 of x with shape [2,0]: it has size 0 and max of no elements is undefined; reduce over non-empty axes only');
    expect(() => ops.min(f32(0, 3))).toThrow('min: cannot reduce over axis 0 of x with shape [0,3]');
    expect(() => ops.argmax(f32(0, 3), 0)).toThrow('argmax: cannot reduce over axis 0 of x with shape [0,3]');
    expect(() => ops.argmin(f32(2, 0))).toThrow('argmin: x of shape [2,0] has no elements, so argmin over all of them is undefined');
  });

  it('rejects non-canonical axes in the primitives themselves (hand-built graphs)', () => {
    expect(() => inferTypes(getOp('sum'), [f32(2, 3)], { axes: [1, 0], keepdims: false })).toThrow(AxisError);
    expect(() => inferTypes(getOp('sum'), [f32(2, 3)], { axes: [-1], keepdims: false })).toThrow(
      'sum: axes [-1] must be sorted, unique and within 0..1 for x of shape [2,3]; the op surface normalizes negative and unsorted axes',
    );
    expect(() => inferTypes(getOp('cumsum'), [f32(2, 3)], { axis: 2 })).toThrow(AxisError);
    expect(() => inferTypes(getOp('argmax'), [f32(2, 3)], { axis: 2, keepdims: false })).toThrow(AxisError);
  });

  it('rejects bad dtypes in the primitives and composites themselves', () => {
    expect(() => inferTypes(getOp('sum'), [bool(3)], { axes: [0], keepdims: false })).toThrow('sum: x must be int32, float32 or float64, got bool');
    expect(() => inferTypes(getOp('mean'), [i32(3)], { axes: [0], keepdims: false })).toThrow('mean: x must be float32 or float64, got int32');
    expect(() => inferTypes(getOp('logsumexp'), [i32(3)], { axes: [0], keepdims: false })).toThrow(DTypeError);
  });
});

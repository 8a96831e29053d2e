import { describe, expect, it } from 'vitest';
import type { DType, TensorType } from '../src/index.js';
import { ArgumentError, AxisError, createOps, DTypeError, getOp, inferTypes, ShapeError, typeInterpreter } from '../src/index.js';

// The op surface over types: every check runs, nothing executes.
const ops = createOps(typeInterpreter);
const t = (shape: number[], dtype: DType = 'float32'): TensorType => ({ shape, dtype });
const x23 = t([2, 3]);
const index = (shape: number[]) => t(shape, 'int32');

/** The error `fn` throws, as `ClassName: message`, so class and wording are asserted together. */
function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
  throw new Error('expected an error, got none');
}

describe('shape op argument errors', () => {
  it('reshape and permute', () => {
    expect(failure(() => ops.reshape(x23, [4, -1]))).toMatchInlineSnapshot(`"ShapeError: reshape: cannot reshape [2,3] (6 elements) to [4,-1]: 6 is not divisible by 4"`);
    expect(failure(() => ops.reshape(x23, [-1, -1]))).toMatchInlineSnapshot(`"ArgumentError: reshape: only one dimension can be -1, got [-1,-1]"`);
    expect(failure(() => ops.permute(x23, [0, 0]))).toMatchInlineSnapshot(`"AxisError: permute: axes [0,0] is not a permutation of 0..1 for a tensor of shape [2,3]"`);
    expect(failure(() => ops.permute(x23, [0, 2]))).toMatchInlineSnapshot(`"AxisError: permute: axes 2 is out of range for a tensor of rank 2 (valid axes are -2..1)"`);
  });

  it('transpose, squeeze, unsqueeze, flatten: axes out of range, repeated or reversed', () => {
    expect(failure(() => ops.transpose(t([3]), -2))).toMatchInlineSnapshot(`"AxisError: transpose: axis0 -2 is out of range for a tensor of rank 1 (valid axes are -1..0)"`);
    expect(failure(() => ops.squeeze(x23, 2))).toMatchInlineSnapshot(`"AxisError: squeeze: axis 2 is out of range for a tensor of rank 2 (valid axes are -2..1)"`);
    expect(failure(() => ops.squeeze(t([1, 3]), [0, -2]))).toMatchInlineSnapshot(`"AxisError: squeeze: axis [0,-2] repeats an axis; each axis may appear once"`);
    expect(failure(() => ops.unsqueeze(x23, 3))).toMatchInlineSnapshot(`"AxisError: unsqueeze: axis 3 is out of range for a tensor of rank 3 (valid axes are -3..2)"`);
    expect(failure(() => ops.unsqueeze(x23, 0.5))).toMatchInlineSnapshot(`"ArgumentError: unsqueeze: axis must be an integer, got 0.5"`);
    expect(failure(() => ops.flatten(t([2, 3, 4]), 2, 1))).toMatchInlineSnapshot(`"AxisError: flatten: startAxis 2 (axis 2) comes after endAxis 1 (axis 1) for a tensor of shape [2,3,4]; startAxis must not come after endAxis"`);
    expect(() => ops.flatten(x23, 0, 2)).toThrow(AxisError);
  });

  it('broadcastTo: incompatible shape, -1 on a new axis, bad entries', () => {
    expect(failure(() => ops.broadcastTo(t([3, 2]), [3, 4]))).toMatchInlineSnapshot(`"ShapeError: broadcastTo: cannot broadcast [3,2] to [3,4]; aligned from the right, each dimension of x must be 1 or equal the target's"`);
    expect(failure(() => ops.broadcastTo(t([3, 1]), [-1, 3, 4]))).toMatchInlineSnapshot(`"ArgumentError: broadcastTo: -1 at position 0 of [-1,3,4] is a new leading dimension of [3,1]; -1 may only keep an existing dimension"`);
    expect(failure(() => ops.broadcastTo(x23, [2, -2]))).toMatchInlineSnapshot(`"ArgumentError: broadcastTo: shape must be an array of integers ≥ -1, got [2,-2]"`);
    expect(() => ops.broadcastTo(t([2, 3]), [3])).toThrow(ShapeError);
  });

  it('concat and stack: empty lists, non-tensors, mismatched shapes, scalars, axes', () => {
    expect(failure(() => ops.concat([]))).toMatchInlineSnapshot(`"ArgumentError: concat: tensors must be a non-empty array of tensors, got an empty array"`);
    expect(failure(() => ops.concat([x23, [1, 2] as unknown as TensorType]))).toMatchInlineSnapshot(`"ArgumentError: concat: tensors[1] must be a tensor, got an array; wrap it with tensor(...)"`);
    expect(failure(() => ops.concat([t([2, 3]), t([2, 4])], 0))).toMatchInlineSnapshot(`"ShapeError: concat: input 1 has shape [2,4] but input 0 has [2,3]; all dimensions except axis 0 must match"`);
    expect(failure(() => ops.concat([t([2, 3]), t([2, 3, 1])], 1))).toMatchInlineSnapshot(`"ShapeError: concat: input 1 has shape [2,3,1] but input 0 has [2,3]; all dimensions except axis 1 must match"`);
    expect(failure(() => ops.concat([t([]), t([])]))).toMatchInlineSnapshot(`"ShapeError: concat: input 0 is a scalar (shape []); scalars cannot be concatenated, use stack to join them along a new axis"`);
    expect(failure(() => ops.concat([x23, x23], 2))).toMatchInlineSnapshot(`"AxisError: concat: axis 2 is out of range for a tensor of rank 2 (valid axes are -2..1)"`);
    expect(failure(() => ops.stack([t([2, 3]), t([3, 2])]))).toMatchInlineSnapshot(`"ShapeError: stack: tensors[1] has shape [3,2] but tensors[0] has [2,3]; all tensors must have the same shape"`);
    expect(failure(() => ops.stack([x23, x23], -4))).toMatchInlineSnapshot(`"AxisError: stack: axis -4 is out of range for a tensor of rank 3 (valid axes are -3..2)"`);
  });

  it('split: bad chunk sizes and sections', () => {
    expect(failure(() => ops.split(x23, 0))).toMatchInlineSnapshot(`"ArgumentError: split: chunk size must be a positive integer, got 0 (0 is allowed only when axis 0 has size 0; shape [2,3])"`);
    expect(failure(() => ops.split(x23, 1.5))).toMatchInlineSnapshot(`"ArgumentError: split: chunk size must be a positive integer, got 1.5 (0 is allowed only when axis 0 has size 0; shape [2,3])"`);
    expect(failure(() => ops.split(x23, [1, 1], 1))).toMatchInlineSnapshot(`"ShapeError: split: sections [1,1] sum to 2 but axis 1 of shape [2,3] has size 3; they must sum to it"`);
    expect(failure(() => ops.split(x23, [3, -1], 1))).toMatchInlineSnapshot(`"ArgumentError: split: sizeOrSections must be a positive integer or an array of non-negative integers, got [3,-1]"`);
    expect(failure(() => ops.split(x23, 1, 2))).toMatchInlineSnapshot(`"AxisError: split: axis 2 is out of range for a tensor of rank 2 (valid axes are -2..1)"`);
  });

  it('slice: too many specs, index out of range, zero step, malformed specs', () => {
    expect(failure(() => ops.slice(x23, [0, 0, 0]))).toMatchInlineSnapshot(`"ArgumentError: slice: got 3 specs for a tensor of shape [2,3]; at most one per axis (2)"`);
    expect(failure(() => ops.slice(x23, [2]))).toMatchInlineSnapshot(`"ArgumentError: slice: index 2 is out of range for axis 0 of size 2 (valid indices are -2..1)"`);
    expect(failure(() => ops.slice(x23, [null, -4]))).toMatchInlineSnapshot(`"ArgumentError: slice: index -4 is out of range for axis 1 of size 3 (valid indices are -3..2)"`);
    expect(failure(() => ops.slice(t([0, 3]), [0]))).toMatchInlineSnapshot(`"ArgumentError: slice: index 0 is out of range for axis 0 of size 0 (the axis is empty)"`);
    expect(failure(() => ops.slice(x23, [[0, 2, 0]]))).toMatchInlineSnapshot(`"ArgumentError: slice: step for axis 0 is 0; a step must be a nonzero integer"`);
    expect(failure(() => ops.slice(x23, [[0, 1, 1, 1] as unknown as [number]]))).toMatchInlineSnapshot(`"ArgumentError: slice: the spec for axis 0 must be null, an integer index or [start, end, step] of integers or nulls, got [0,1,1,1]"`);
    expect(failure(() => ops.slice(x23, [[0.5, 2]]))).toMatchInlineSnapshot(`"ArgumentError: slice: the spec for axis 0 must be null, an integer index or [start, end, step] of integers or nulls, got [0.5,2]"`);
    expect(failure(() => ops.slice(x23, ['1:2' as unknown as number]))).toMatchInlineSnapshot(`"ArgumentError: slice: the spec for axis 0 must be null, an integer index or [start, end, step] of integers or nulls, got "1:2""`);
  });

  it('pad: odd or too long padding, cropping past the axis, bad value', () => {
    expect(failure(() => ops.pad(x23, [1]))).toMatchInlineSnapshot(`"ArgumentError: pad: padding has length 1 for a tensor of shape [2,3]; it needs an even number, at most 4 (a before, after pair per axis, last axis first)"`);
    expect(failure(() => ops.pad(x23, [1, 1, 1, 1, 1, 1]))).toMatchInlineSnapshot(`"ArgumentError: pad: padding has length 6 for a tensor of shape [2,3]; it needs an even number, at most 4 (a before, after pair per axis, last axis first)"`);
    expect(failure(() => ops.pad(x23, [1.5, 0]))).toMatchInlineSnapshot(`"ArgumentError: pad: padding must be an array of integers, got [1.5,0]"`);
    expect(failure(() => ops.pad(x23, [-3, -1]))).toMatchInlineSnapshot(`"ShapeError: pad: padding (-3, -1) on axis 1 of [2,3] gives size -1; negative padding may crop at most the whole axis"`);
    expect(failure(() => ops.pad(x23, [1, 1], '0' as unknown as number))).toMatchInlineSnapshot(`"ArgumentError: pad: value must be a number or boolean, got "0""`);
  });

  it('flip, tril, triu', () => {
    expect(failure(() => ops.flip(x23, [0, -2]))).toMatchInlineSnapshot(`"AxisError: flip: axis [0,-2] repeats an axis; each axis may appear once"`);
    expect(failure(() => ops.flip(x23, 2))).toMatchInlineSnapshot(`"AxisError: flip: axis 2 is out of range for a tensor of rank 2 (valid axes are -2..1)"`);
    expect(failure(() => ops.tril(t([3])))).toMatchInlineSnapshot(`"ShapeError: tril: x must have at least 2 dimensions (the matrix is the last two), got shape [3]"`);
    expect(failure(() => ops.triu(x23, 0.5))).toMatchInlineSnapshot(`"ArgumentError: triu: diagonal must be an integer, got 0.5"`);
  });

  it('index ops: index dtype, ranks and sizes, axes', () => {
    expect(failure(() => ops.gather(x23, 1, t([2, 1])))).toMatchInlineSnapshot(`"DTypeError: gather: index must be int32, got float32; convert it with cast(index, 'int32')"`);
    expect(failure(() => ops.gather(x23, 1, index([2])))).toMatchInlineSnapshot(`"ShapeError: gather: index has shape [2] but x has [2,3]; they must have the same number of dimensions"`);
    expect(failure(() => ops.gather(x23, 1, index([3, 1])))).toMatchInlineSnapshot(`"ShapeError: gather: index has shape [3,1] but x has [2,3]; on every axis except 1, index's size must not exceed x's (axis 0: 3 > 2)"`);
    expect(failure(() => ops.gather(x23, 2, index([2, 1])))).toMatchInlineSnapshot(`"AxisError: gather: axis 2 is out of range for a tensor of rank 2 (valid axes are -2..1)"`);
    expect(failure(() => ops.indexSelect(x23, 0, index([2, 2])))).toMatchInlineSnapshot(`"ShapeError: indexSelect: index must be a vector (or a scalar), got shape [2,2]; flatten it first or use gather"`);
    expect(failure(() => ops.indexSelect(x23, 0, t([2], 'bool')))).toMatchInlineSnapshot(`"DTypeError: indexSelect: index must be int32, got bool; convert it with cast(index, 'int32')"`);
    expect(failure(() => ops.take(x23, t([2], 'float64')))).toMatchInlineSnapshot(`"DTypeError: take: index must be int32, got float64; convert it with cast(index, 'int32')"`);
    expect(failure(() => ops.take(x23, [0, 1] as unknown as TensorType))).toMatchInlineSnapshot(`"ArgumentError: take: index must be a tensor, got an array; wrap it with tensor(...)"`);
    expect(failure(() => ops.scatterAdd(x23, 1, index([2, 2]), t([2, 2], 'float64')))).toMatchInlineSnapshot(`"DTypeError: scatterAdd: src has dtype float64 but x has float32; they must match (cast src with cast(src, 'float32'))"`);
    expect(failure(() => ops.scatterAdd(t([2, 3], 'bool'), 1, index([2, 2]), t([2, 2], 'bool')))).toMatchInlineSnapshot(`"DTypeError: scatterAdd: x must be int32, float32 or float64, got bool"`);
    expect(failure(() => ops.scatterAdd(x23, 1, index([2, 3]), t([2, 2])))).toMatchInlineSnapshot(`"ShapeError: scatterAdd: index has shape [2,3] but src has [2,2]; on every axis, index's size must not exceed src's (axis 1: 3 > 2)"`);
    expect(failure(() => ops.scatterAdd(x23, 1, index([3, 1]), t([3, 1])))).toMatchInlineSnapshot(`"ShapeError: scatterAdd: index has shape [3,1] but x has [2,3]; on every axis except 1, index's size must not exceed x's (axis 0: 3 > 2)"`);
    expect(failure(() => ops.oneHot(t([3]), 4))).toMatchInlineSnapshot(`"DTypeError: oneHot: index must be int32, got float32; convert it with cast(index, 'int32')"`);
    expect(failure(() => ops.oneHot(index([3]), 0))).toMatchInlineSnapshot(`"ArgumentError: oneHot: numClasses must be a positive integer, got 0 (Kiln needs it up front: the output shape cannot depend on index's values)"`);
  });
});

describe('shape primitives check hand-built attrs (graphs that bypass the surface)', () => {
  it('slice, pad and concat reject non-canonical or inconsistent attrs', () => {
    const slice = getOp('slice');
    expect(failure(() => inferTypes(slice, [x23], { starts: [0], ends: [1], steps: [1] }))).toMatchInlineSnapshot(`"ArgumentError: slice: starts, ends and steps need one entry per axis of [2,3] (2), got 1, 1 and 1"`);
    expect(failure(() => inferTypes(slice, [x23], { starts: [0, 3], ends: [1, 5], steps: [1, 1] }))).toMatchInlineSnapshot(`"ShapeError: slice: 3:5:1 reads outside axis 1 of [2,3] (size 3)"`);
    expect(failure(() => inferTypes(slice, [x23], { starts: [0, 0], ends: [1, 1], steps: [1, 0] }))).toMatchInlineSnapshot(`"ArgumentError: slice: step on axis 1 is 0; steps must be nonzero"`);
    expect(failure(() => inferTypes(getOp('pad'), [x23], { before: [0, -2], after: [0, -2], value: 0 }))).toMatchInlineSnapshot(`"ShapeError: pad: padding (-2, -2) on axis 1 of [2,3] gives size -1; negative padding may crop at most the whole axis"`);
    expect(failure(() => inferTypes(getOp('concat'), [x23, t([2, 3], 'int32')], { axis: 0 }))).toMatchInlineSnapshot(`"DTypeError: concat: input 1 has dtype int32 but input 0 has float32; the primitive takes one dtype (the concat function promotes)"`);
    expect(failure(() => inferTypes(getOp('concat'), [x23, x23], { axis: -1 }))).toMatchInlineSnapshot(`"AxisError: concat: axis -1 is out of range for inputs of rank 2 (the primitive takes 0..1)"`);
    expect(failure(() => inferTypes(getOp('broadcastTo'), [x23], { shape: [3, 3] }))).toMatchInlineSnapshot(`"ShapeError: broadcastTo: cannot broadcast [2,3] to [3,3]; aligned from the right, each dimension of x must be 1 or equal the target's"`);
  });

  it('errors are the typed classes', () => {
    expect(() => ops.slice(x23, [[0, 1, 0]])).toThrow(ArgumentError);
    expect(() => ops.concat([t([2, 3]), t([2, 4])])).toThrow(ShapeError);
    expect(() => ops.gather(x23, 0, t([1, 1]))).toThrow(DTypeError);
    expect(() => ops.flip(x23, [1, 1])).toThrow(AxisError);
  });
});

describe('shape op types', () => {
  it('infers the shapes and dtypes PyTorch gives', () => {
    expect(ops.transpose(t([2, 3, 4]))).toEqual(t([2, 4, 3]));
    expect(ops.squeeze(t([1, 3, 1]), [0, 1])).toEqual(t([3, 1]));
    expect(ops.flatten(t([]))).toEqual(t([1]));
    expect(ops.concat([t([2, 1], 'int32'), t([2, 2], 'bool')], -1)).toEqual(t([2, 3], 'int32'));
    expect(ops.stack([t([]), t([], 'float64')])).toEqual(t([2], 'float64'));
    expect(ops.split(t([7, 2]), 3).map((p) => p.shape)).toEqual([[3, 2], [3, 2], [1, 2]]);
    expect(ops.slice(t([5, 4, 3]), [-1, [null, null, -2]])).toEqual(t([2, 3]));
    expect(ops.slice(t([5]), [[10, -10, -3]])).toEqual(t([2])); // Python: range(5)[10:-10:-3] is [4, 1]
    expect(ops.pad(t([2, 3], 'int32'), [1, 1, -1, 0])).toEqual(t([1, 5], 'int32'));
    expect(ops.indexSelect(t([5, 3]), 0, index([]))).toEqual(t([1, 3]));
    expect(ops.take(t([5, 3]), index([2, 2]))).toEqual(t([2, 2]));
  });
});

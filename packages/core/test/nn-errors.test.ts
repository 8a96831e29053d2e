import { describe, expect, it } from 'vitest';
import type { DType, TensorType } from '../src/index.js';
import {
  ArgumentError, AxisError, createOps, DTypeError, getOp, GraphBuilder, inferTypes, printGraph, ShapeError, typeInterpreter, verifyGraph,
} from '../src/index.js';

const ops = createOps(typeInterpreter);
const t = (shape: number[], dtype: DType = 'float32'): TensorType => ({ dtype, shape });

/** Asserts fn throws an instance of `cls` whose message matches `message` (a string must match exactly). */
function expectError(fn: () => unknown, cls: new (...a: never[]) => Error, message: string | RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(cls);
  const text = (error as Error).message;
  if (typeof message === 'string') expect(text).toBe(message);
  else expect(text).toMatch(message);
}

describe('matmul types', () => {
  it.each([
    [[2, 3], [3, 4], [2, 4]],
    [[3], [3], []],
    [[3], [3, 4], [4]],
    [[2, 3], [3], [2]],
    [[3], [5, 3, 4], [5, 4]],
    [[5, 2, 3], [3], [5, 2]],
    [[2, 1, 3, 4], [5, 4, 2], [2, 5, 3, 2]],
  ])('%j @ %j is %j', (a, b, out) => {
    expect(ops.matmul(t(a), t(b))).toEqual(t(out));
  });

  it('promotes dtypes and keeps int32', () => {
    expect(ops.matmul(t([2, 2], 'int32'), t([2, 2], 'int32')).dtype).toBe('int32');
    expect(ops.matmul(t([2, 2], 'int32'), t([2, 2], 'float64')).dtype).toBe('float64');
  });

  it('names both shapes and the inner dimensions when they differ', () => {
    expectError(() => ops.matmul(t([2, 3]), t([4, 5])), ShapeError, 'matmul: inner dimensions differ: a is [2,3], b is [4,5] (3 vs 4)');
    expectError(() => ops.matmul(t([3]), t([4])), ShapeError, 'matmul: inner dimensions differ: a is [3], b is [4] (3 vs 4)');
    expectError(() => ops.matmul(t([2, 3]), t([4])), ShapeError, 'matmul: inner dimensions differ: a is [2,3], b is [4] (3 vs 4)');
  });

  it('rejects batch dimensions that do not broadcast', () => {
    expectError(() => ops.matmul(t([2, 2, 3]), t([3, 3, 4])), ShapeError, /^matmul \(batch dimensions\): cannot broadcast shapes \[2\] \(a\) and \[3\] \(b\)/);
  });

  it('rejects scalars, bool and non-tensors', () => {
    expectError(() => ops.matmul(t([]), t([3])), ShapeError, /^matmul: both operands must be at least 1-D, got a \[\] and b \[3\]/);
    expectError(() => ops.matmul(t([2, 2], 'bool'), t([2, 2], 'bool')), DTypeError, /^matmul: operands must be int32, float32 or float64, got bool/);
    expectError(() => ops.matmul([[1, 2]] as unknown as TensorType, t([2])), ArgumentError, /^matmul: a must be a tensor, got an array/);
  });

  it('keeps the primitive strict: rank ≥ 2 and one dtype', () => {
    const op = getOp('matmul');
    expectError(() => inferTypes(op, [t([3]), t([3, 2])], {}), ShapeError, /^matmul: the primitive needs a of rank ≥ 2, got \[3\]/);
    expectError(() => inferTypes(op, [t([2, 3], 'int32'), t([3, 2])], {}), DTypeError, /^matmul: inputs must have one dtype, got int32 \(a\) and float32 \(b\)/);
  });
});

describe('softmax and logSoftmax', () => {
  it('keep the shape, promote integers to float32 and accept a scalar', () => {
    expect(ops.softmax(t([2, 3], 'int32'))).toEqual(t([2, 3]));
    expect(ops.logSoftmax(t([2, 3], 'float64'), 0)).toEqual(t([2, 3], 'float64'));
    expect(ops.softmax(t([]), 0)).toEqual(t([]));
  });

  it('reject an axis out of range', () => {
    expectError(() => ops.softmax(t([2, 3]), 2), AxisError, 'softmax: axis 2 is out of range for a tensor of rank 2 (valid axes are -2..1)');
    expectError(() => ops.logSoftmax(t([2, 3]), -3), AxisError, /^logSoftmax: axis -3 is out of range/);
    expectError(() => ops.softmax(t([]), 1), AxisError, /^softmax: axis 1 is out of range/);
    expectError(() => ops.softmax(t([2]), 0.5), AxisError, /^softmax: axis 0.5 is out of range/);
  });

  it('record a canonical non-negative axis', () => {
    const b = new GraphBuilder({ keepComposites: true });
    const x = b.input({ dtype: 'float32', shape: [2, 3] }, 'x');
    expect(printGraph(b.build([createOps(b).softmax(x)]))).toMatchInlineSnapshot(`
      "graph(%x: f32[2,3]) {
        %0: f32[2,3] = softmax %x {axis=1}
        return %0
      }"
    `);
  });
});

describe('layerNorm', () => {
  it('accepts optional weight and bias and promotes', () => {
    expect(ops.layerNorm(t([4, 6]), [6])).toEqual(t([4, 6]));
    expect(ops.layerNorm(t([4, 6], 'int32'), [6], null, t([6]))).toEqual(t([4, 6]));
    expect(ops.layerNorm(t([2, 3, 4]), [3, 4], t([3, 4], 'float64'), t([3, 4]))).toEqual(t([2, 3, 4], 'float64'));
  });

  it('records the trailing axes and which affine inputs are present', () => {
    const b = new GraphBuilder({ keepComposites: true });
    const x = b.input({ dtype: 'float32', shape: [2, 3, 4] }, 'x');
    const beta = b.input({ dtype: 'float32', shape: [3, 4] }, 'beta');
    const g = b.build([createOps(b).layerNorm(x, [3, 4], null, beta, 1e-6)]);
    expect(printGraph(g)).toMatchInlineSnapshot(`
      "graph(%x: f32[2,3,4], %beta: f32[3,4]) {
        %0: f32[2,3,4] = layerNorm %x %beta {axes=[1,2], eps=0.000001, hasBias=true, hasWeight=false}
        return %0
      }"
    `);
    verifyGraph(g);
  });

  it('rejects a normalizedShape that x does not end in', () => {
    expectError(() => ops.layerNorm(t([2, 3]), [2]), ShapeError, 'layerNorm: x has shape [2,3] but normalizedShape is [2]; x must end in [..., 2]');
    expectError(() => ops.layerNorm(t([3]), [2, 3]), ShapeError, /^layerNorm: x has shape \[3\] but normalizedShape is \[2,3\]/);
  });

  it('rejects an empty or malformed normalizedShape', () => {
    expectError(() => ops.layerNorm(t([2, 3]), []), ArgumentError, 'layerNorm: normalizedShape must have at least one dimension, got []');
    expectError(() => ops.layerNorm(t([2, 3]), [-3]), ArgumentError, /^layerNorm: normalizedShape must be an array of non-negative integers, got \[-3\]/);
  });

  it('rejects weight or bias of the wrong shape', () => {
    expectError(() => ops.layerNorm(t([2, 3]), [3], t([2])), ShapeError, 'layerNorm: weight has shape [2] but normalizedShape is [3]; they must be equal');
    expectError(() => ops.layerNorm(t([2, 3]), [3], null, t([1, 3])), ShapeError, /^layerNorm: bias has shape \[1,3\]/);
  });

  it('rejects a negative eps and bool input', () => {
    expectError(() => ops.layerNorm(t([2, 3]), [3], null, null, -1), ArgumentError, /^layerNorm: eps must be a non-negative number, got -1/);
    expectError(() => ops.layerNorm(t([2, 3], 'bool'), [3]), DTypeError, /^layerNorm: x must be int32, float32 or float64, got bool/);
  });
});

describe('conv2d', () => {
  it('computes output shapes, batched and unbatched', () => {
    expect(ops.conv2d(t([8, 3, 32, 32]), t([16, 3, 3, 3]), null, { padding: 1 })).toEqual(t([8, 16, 32, 32]));
    expect(ops.conv2d(t([3, 7, 9]), t([4, 3, 3, 3]), t([4]), { stride: [2, 1] })).toEqual(t([4, 3, 7]));
    expect(ops.conv2d(t([1, 4, 9, 9]), t([6, 2, 3, 3]), null, { groups: 2, dilation: 2 })).toEqual(t([1, 6, 5, 5]));
    expect(ops.conv2d(t([1, 2, 5, 5], 'int32'), t([1, 2, 3, 3], 'int32')).dtype).toBe('int32');
  });

  it('records canonical pairs and adds the bias after the primitive', () => {
    const b = new GraphBuilder();
    const x = b.input({ dtype: 'float32', shape: [3, 5, 5] }, 'x');
    const w = b.input({ dtype: 'float32', shape: [2, 3, 3, 3] }, 'w');
    const bias = b.input({ dtype: 'float32', shape: [2] }, 'bias');
    const g = b.build([createOps(b).conv2d(x, w, bias, { padding: 1 })]);
    expect(printGraph(g)).toMatchInlineSnapshot(`
      "graph(%x: f32[3,5,5], %w: f32[2,3,3,3], %bias: f32[2]) {
        %0: f32[1,3,5,5] = reshape %x {shape=[1,3,5,5]}
        %1: f32[1,2,5,5] = conv2d %0 %w {dilation=[1,1], groups=1, padding=[1,1], stride=[1,1]}
        %2: f32[2,5,5] = reshape %1 {shape=[2,5,5]}
        %3: f32[2,1,1] = reshape %bias {shape=[2,1,1]}
        %4: f32[2,5,5] = add %2 %3
        return %4
      }"
    `);
    verifyGraph(g);
  });

  it('rejects inputs of the wrong rank', () => {
    expectError(() => ops.conv2d(t([5, 5]), t([1, 1, 3, 3])), ShapeError, 'conv2d: x must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape [5,5] (rank 2)');
    expectError(() => ops.conv2d(t([1, 1, 1, 5, 5]), t([1, 1, 3, 3])), ShapeError, /^conv2d: x must be 3-D/);
    expectError(() => ops.conv2d(t([1, 1, 5, 5]), t([1, 3, 3])), ShapeError, /^conv2d: weight must be 4-D \(outChannels, inChannels \/ groups, kH, kW\), got shape \[1,3,3\]/);
  });

  it('rejects channel and groups mismatches', () => {
    expectError(() => ops.conv2d(t([1, 3, 5, 5]), t([3, 2, 2, 2]), null, { groups: 3 }), ShapeError,
      'conv2d: x [1,3,5,5] has 3 channels but weight [3,2,2,2] with groups=3 expects 6 (weight.shape[1] · groups)');
    expectError(() => ops.conv2d(t([1, 4, 5, 5]), t([4, 3, 2, 2])), ShapeError, /^conv2d: x \[1,4,5,5\] has 4 channels but weight \[4,3,2,2\] with groups=1 expects 3/);
    expectError(() => ops.conv2d(t([1, 3, 5, 5]), t([2, 1, 2, 2]), null, { groups: 3 }), ShapeError,
      'conv2d: weight [2,1,2,2] has 2 output channels; it needs a positive multiple of groups=3');
    expectError(() => ops.conv2d(t([1, 2, 5, 5]), t([0, 2, 2, 2])), ShapeError, /^conv2d: weight \[0,2,2,2\] has 0 output channels/);
  });

  it('rejects a kernel larger than the padded input', () => {
    expectError(() => ops.conv2d(t([1, 1, 4, 4]), t([1, 1, 5, 2])), ShapeError,
      'conv2d: the kernel (5x2 with dilation [1,1]) is larger than the padded input (4x4: x [1,1,4,4], padding [0,0]); use a smaller kernel or more padding');
    expectError(() => ops.conv2d(t([1, 1, 4, 4]), t([1, 1, 3, 3]), null, { dilation: 2 }), ShapeError, /^conv2d: the kernel \(5x5 with dilation \[2,2\]\)/);
  });

  it('rejects non-positive stride and dilation, negative padding and bad groups', () => {
    expectError(() => ops.conv2d(t([1, 1, 4, 4]), t([1, 1, 2, 2]), null, { stride: 0 }), ArgumentError, 'conv2d: stride must be positive integers, got [0,0]');
    expectError(() => ops.conv2d(t([1, 1, 4, 4]), t([1, 1, 2, 2]), null, { stride: [1, -1] }), ArgumentError, /^conv2d: stride must be positive integers, got \[1,-1\]/);
    expectError(() => ops.conv2d(t([1, 1, 4, 4]), t([1, 1, 2, 2]), null, { padding: -1 }), ArgumentError, /^conv2d: padding must be non-negative integers, got \[-1,-1\]/);
    expectError(() => ops.conv2d(t([1, 1, 4, 4]), t([1, 1, 2, 2]), null, { dilation: 0 }), ArgumentError, /^conv2d: dilation must be positive integers/);
    expectError(() => ops.conv2d(t([1, 1, 4, 4]), t([1, 1, 2, 2]), null, { groups: 0 }), ArgumentError, 'conv2d: groups must be a positive integer, got 0');
    expectError(() => ops.conv2d(t([1, 1, 4, 4]), t([1, 1, 2, 2]), null, { groups: 1.5 }), ArgumentError, /^conv2d: groups must be a positive integer, got 1.5/);
  });

  it('rejects malformed options', () => {
    expectError(() => ops.conv2d(t([1, 1, 4, 4]), t([1, 1, 2, 2]), null, { stride: [1, 2, 3] as unknown as [number, number] }), ArgumentError,
      'conv2d: stride must be an integer or a pair of integers [height, width], got [1,2,3]');
    expectError(() => ops.conv2d(t([1, 1, 4, 4]), t([1, 1, 2, 2]), null, { strides: 2 } as never), ArgumentError,
      "conv2d: unknown option 'strides'; valid options are stride, padding, dilation, groups");
  });

  it('rejects a bias of the wrong shape and bool input', () => {
    expectError(() => ops.conv2d(t([1, 1, 4, 4]), t([2, 1, 2, 2]), t([3])), ShapeError,
      'conv2d: bias has shape [3] but weight [2,1,2,2] has 2 output channels; bias must be [2]');
    expectError(() => ops.conv2d(t([1, 1, 4, 4], 'bool'), t([2, 1, 2, 2], 'bool')), DTypeError, /^conv2d: x and weight must be int32, float32 or float64, got bool/);
  });

  it('keeps the primitive strict: 4-D x and one dtype', () => {
    const attrs = { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 };
    expectError(() => inferTypes(getOp('conv2d'), [t([1, 4, 4]), t([1, 1, 2, 2])], attrs), ShapeError, /^conv2d: x must be 4-D \(N, C, H, W\) in the primitive/);
    expectError(() => inferTypes(getOp('conv2d'), [t([1, 1, 4, 4], 'float64'), t([1, 1, 2, 2])], attrs), DTypeError, /^conv2d: inputs must have one dtype/);
  });
});

describe('maxPool2d and avgPool2d', () => {
  it('compute output shapes like PyTorch', () => {
    expect(ops.maxPool2d(t([1, 3, 32, 32]), 2)).toEqual(t([1, 3, 16, 16]));
    expect(ops.maxPool2d(t([1, 1, 8, 8]), 3, { stride: 2, ceilMode: true })).toEqual(t([1, 1, 4, 4]));
    expect(ops.maxPool2d(t([1, 1, 5, 5]), 2, { stride: 2, padding: 1, ceilMode: true })).toEqual(t([1, 1, 3, 3]));
    expect(ops.maxPool2d(t([2, 9, 9]), 3, { dilation: 2, padding: 1 })).toEqual(t([2, 3, 3]));
    expect(ops.maxPool2d(t([2, 9, 9]), 3, { dilation: 2, padding: 1, stride: 1 })).toEqual(t([2, 7, 7]));
    expect(ops.avgPool2d(t([1, 3, 32, 32]), 3, { stride: 1, padding: 1 })).toEqual(t([1, 3, 32, 32]));
    expect(ops.avgPool2d(t([1, 1, 7, 9], 'int32'), [2, 3])).toEqual(t([1, 1, 3, 3], 'int32'));
  });

  it('record the default stride as the kernel size', () => {
    const b = new GraphBuilder();
    const x = b.input({ dtype: 'float32', shape: [1, 1, 4, 4] }, 'x');
    expect(printGraph(b.build([createOps(b).avgPool2d(x, [2, 1])]))).toMatchInlineSnapshot(`
      "graph(%x: f32[1,1,4,4]) {
        %0: f32[1,1,2,4] = avgPool2d %x {ceilMode=false, countIncludePad=true, kernelSize=[2,1], padding=[0,0], stride=[2,1]}
        return %0
      }"
    `);
  });

  it.each(['maxPool2d', 'avgPool2d'] as const)('%s rejects padding over half the kernel', (op) => {
    expectError(() => ops[op](t([1, 1, 4, 4]), 2, { padding: 2 }), ArgumentError,
      `${op}: padding [2,2] is more than half of kernelSize [2,2]; each padding must be at most half its kernel size`);
  });

  it.each(['maxPool2d', 'avgPool2d'] as const)('%s rejects a window larger than the input', (op) => {
    expectError(() => ops[op](t([1, 1, 2, 2]), 3), ShapeError, new RegExp(`^${op}: the output would be 0x0 for x \\[1,1,2,2\\] with kernelSize \\[3,3\\]`));
    expectError(() => ops[op](t([1, 1, 0, 3]), 1), ShapeError, new RegExp(`^${op}: the output would be 0x3`));
  });

  it.each(['maxPool2d', 'avgPool2d'] as const)('%s rejects bad kernel sizes, strides and ranks', (op) => {
    expectError(() => ops[op](t([1, 1, 4, 4]), 0), ArgumentError, `${op}: kernelSize must be positive integers, got [0,0]`);
    expectError(() => ops[op](t([1, 1, 4, 4]), 2, { stride: 0 }), ArgumentError, `${op}: stride must be positive integers, got [0,0]`);
    expectError(() => ops[op](t([1, 1, 4, 4]), 2, { padding: -1 }), ArgumentError, `${op}: padding must be non-negative integers, got [-1,-1]`);
    expectError(() => ops[op](t([4, 4]), 2), ShapeError, `${op}: x must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape [4,4] (rank 2)`);
    expectError(() => ops[op](t([1, 1, 4, 4]), 2.5 as number), ArgumentError, new RegExp(`^${op}: kernelSize must be an integer or a pair of integers`));
    expectError(() => ops[op](t([1, 1, 4, 4]), 2, { ceilMode: 1 as unknown as boolean }), ArgumentError, `${op}: ceilMode must be a boolean, got 1`);
    expectError(() => ops[op](t([1, 1, 4, 4], 'bool'), 2), DTypeError, `${op}: x must be int32, float32 or float64, got bool`);
  });

  it('maxPool2d rejects dilation 0; avgPool2d has no dilation', () => {
    expectError(() => ops.maxPool2d(t([1, 1, 4, 4]), 2, { dilation: 0 }), ArgumentError, 'maxPool2d: dilation must be positive integers, got [0,0]');
    expectError(() => ops.avgPool2d(t([1, 1, 4, 4]), 2, { dilation: 2 } as never), ArgumentError,
      "avgPool2d: unknown option 'dilation'; valid options are stride, padding, ceilMode, countIncludePad");
  });
});

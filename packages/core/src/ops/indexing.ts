import type { DType } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { normalizeAxis, shapeToString } from '../shape.js';
import { apply1, expectValue } from './bind.js';
import type { Interpreter } from './interpreter.js';
import type { CompositeDef, OpDef, PrimitiveDef, TensorType } from './op.js';
import { requireDType } from './rules.js';
import type { Ops } from './surface.js';

/*
 * Index ops read (or add into) positions given by an int32 `index` tensor. Index values are
 * only known when the kernel runs, so kernels check them and throw an ArgumentError naming the
 * op, the axis, the bad index and the valid range. Only `take` accepts negative indices
 * (counted from the end), as in PyTorch.
 */

function requireIndex(op: string, index: TensorType): void {
  if (index.dtype !== 'int32') throw new DTypeError(`${op}: index must be int32, got ${index.dtype}; convert it with cast(index, 'int32')`);
}

function checkAxis(op: string, x: TensorType, axis: number): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) {
    throw new ArgumentError(`${op}: axis ${axis} is out of range for x of shape ${shapeToString(x.shape)} (the primitive takes 0..${x.shape.length - 1})`);
  }
}

/** Throws unless `small` has `big`'s rank and fits inside it on every axis except `except`. */
function requireFits(op: string, names: [string, string], small: TensorType, big: TensorType, except: number): void {
  const [s, b] = names;
  if (small.shape.length !== big.shape.length) {
    throw new ShapeError(`${op}: ${s} has shape ${shapeToString(small.shape)} but ${b} has ${shapeToString(big.shape)}; they must have the same number of dimensions`);
  }
  small.shape.forEach((d, i) => {
    if (i !== except && d > big.shape[i]) {
      const what = except < 0 ? 'every axis' : `every axis except ${except}`;
      throw new ShapeError(`${op}: ${s} has shape ${shapeToString(small.shape)} but ${b} has ${shapeToString(big.shape)}; on ${what}, ${s}'s size must not exceed ${b}'s (axis ${i}: ${d} > ${big.shape[i]})`);
    }
  });
}

const xDType = ([x]: readonly TensorType[]): DType[] => [x.dtype];

export const GATHER: PrimitiveDef<{ axis: number }> = {
  kind: 'primitive', name: 'gather', inputs: ['x', 'index'], attrs: { axis: 'int' },
  doc: 'out[i][j][k] = x[index[i][j][k]][j][k] for axis 0 (torch.gather); out has index\'s shape.',
  shape: ([x, index], { axis }) => {
    checkAxis('gather', x, axis);
    requireFits('gather', ['index', 'x'], index, x, axis);
    return [index.shape];
  },
  dtype: (inputs) => {
    requireIndex('gather', inputs[1]);
    return xDType(inputs);
  },
  differentiable: true,
  // Each read adds its cotangent back at the position it read (repeated positions accumulate).
  vjp: (ops, { inputs: [x, index], attrs: { axis }, cotangents: [g] }) => [ops.scatterAdd(ops.zerosLike(x), axis, index, g!), null],
};

export const INDEX_SELECT: PrimitiveDef<{ axis: number }> = {
  kind: 'primitive', name: 'indexSelect', inputs: ['x', 'index'], attrs: { axis: 'int' },
  doc: 'The slices of x at positions `index` (a vector) along `axis`, in that order (torch.index_select).',
  shape: ([x, index], { axis }) => {
    checkAxis('indexSelect', x, axis);
    if (index.shape.length > 1) {
      throw new ShapeError(`indexSelect: index must be a vector (or a scalar), got shape ${shapeToString(index.shape)}; flatten it first or use gather`);
    }
    return [x.shape.map((d, i) => (i === axis ? (index.shape[0] ?? 1) : d))];
  },
  dtype: (inputs) => {
    requireIndex('indexSelect', inputs[1]);
    return xDType(inputs);
  },
  differentiable: true,
  // A gather whose index is the vector repeated over the other axes, so the same scatterAdd.
  vjp: (ops, { inputs: [x, index], attrs: { axis }, cotangents: [g], typeOf }) => {
    const gShape = typeOf(g!).shape;
    const along = ops.reshape(index, gShape.map((d, i) => (i === axis ? d : 1)));
    return [ops.scatterAdd(ops.zerosLike(x), axis, ops.broadcastTo(along, gShape), g!), null];
  },
};

export const TAKE: PrimitiveDef = {
  kind: 'primitive', name: 'take', inputs: ['x', 'index'], attrs: {},
  doc: 'Elements of x read as a flat row-major vector at `index` (negative counts from the end); out has index\'s shape (torch.take).',
  shape: ([, index]) => [index.shape],
  dtype: (inputs) => {
    requireIndex('take', inputs[1]);
    return xDType(inputs);
  },
  differentiable: true,
  // scatterAdd into the flattened x, with negative indices counted from the end as take reads them.
  vjp: (ops, { inputs: [x, index], cotangents: [g], typeOf }) => {
    const { shape, dtype } = typeOf(x);
    const n = shape.reduce((p, d) => p * d, 1);
    const flat = ops.reshape(index, [-1]);
    const wrapped = ops.where(ops.lt(flat, 0), ops.add(flat, n), flat);
    return [ops.reshape(ops.scatterAdd(ops.zeros([n], dtype), 0, wrapped, ops.reshape(g!, [-1])), shape), null];
  },
};

export const SCATTER_ADD: PrimitiveDef<{ axis: number }> = {
  kind: 'primitive', name: 'scatterAdd', inputs: ['x', 'index', 'src'], attrs: { axis: 'int' },
  doc: 'A copy of x with src[i][j][k] added at x[index[i][j][k]][j][k] for axis 0 (torch.scatter_add).',
  shape: ([x, index, src], { axis }) => {
    checkAxis('scatterAdd', x, axis);
    requireFits('scatterAdd', ['index', 'src'], index, src, -1);
    requireFits('scatterAdd', ['index', 'x'], index, x, axis);
    return [x.shape];
  },
  dtype: ([x, index, src]) => {
    requireDType('scatterAdd', 'x', x, 'numeric');
    requireIndex('scatterAdd', index);
    if (src.dtype !== x.dtype) throw new DTypeError(`scatterAdd: src has dtype ${src.dtype} but x has ${x.dtype}; they must match (cast src with cast(src, '${x.dtype}'))`);
    return [x.dtype];
  },
  differentiable: true,
  // x passes through; each used src element reads the cotangent where it was added. src elements
  // outside index's shape are unused and get 0 (PyTorch 1.13 raises a shape error there instead).
  vjp: (ops, { inputs: [, index, src], attrs: { axis }, cotangents: [g], needsGrad, typeOf }) => {
    if (!needsGrad[2]) return [g!, null, null];
    const used = typeOf(index).shape;
    const srcShape = typeOf(src).shape;
    const padding = used.flatMap((_, k) => [0, srcShape[used.length - 1 - k] - used[used.length - 1 - k]]);
    return [needsGrad[0] ? g! : null, null, ops.pad(ops.gather(g!, axis, index), padding, 0)];
  },
};

export const ONE_HOT: CompositeDef<{ numClasses: number }> = {
  kind: 'composite', name: 'oneHot', inputs: ['index'], attrs: { numClasses: 'int' },
  doc: 'int32 one-hot vectors of length numClasses along a new last axis (index values outside 0..numClasses-1 give all zeros).',
  expand: (ops, [index], { numClasses }) => [ops.cast(ops.eq(ops.unsqueeze(index, -1), ops.arange(numClasses)), 'int32')],
};

export const indexingDefs: readonly OpDef<any>[] = [GATHER, INDEX_SELECT, TAKE, SCATTER_ADD, ONE_HOT];

/** Ops that read or write positions given by an int32 index tensor. */
export interface IndexingOps<V> {
  /**
   * Picks along `axis` at the positions in `index` (same rank as x; on the other axes index
   * may be smaller than x), as torch.gather: for axis 1, out[i][j] = x[i][index[i][j]].
   * @example `gather(tensor([[1, 2], [3, 4]]), 1, tensor([[1], [0]]))` → `[[2], [3]]`
   */
  gather(x: V, axis: number, index: V): V;
  /**
   * Elements of x as if flattened, at `index` (any shape; negative counts from the end), as
   * torch.take. The result has index's shape.
   * @example `take(tensor([[1, 2], [3, 4]]), tensor([0, -1]))` → `[1, 4]`
   */
  take(x: V, index: V): V;
  /**
   * The slices of x at the positions of the vector `index` along `axis`, as torch.index_select
   * (an embedding lookup is `indexSelect(table, 0, ids)`).
   * @example `indexSelect(tensor([[1, 2], [3, 4]]), 0, tensor([1, 1, 0]))` → `[[3, 4], [3, 4], [1, 2]]`
   */
  indexSelect(x: V, axis: number, index: V): V;
  /**
   * A copy of x with each src element added at the position index gives along `axis`
   * (repeated positions accumulate), as torch.scatter_add.
   * @example `scatterAdd(zeros([3]), 0, tensor([0, 2, 0]), tensor([1, 2, 3]))` → `[4, 0, 2]`
   */
  scatterAdd(x: V, axis: number, index: V, src: V): V;
  /**
   * One-hot int32 vectors along a new last axis, as torch.nn.functional.one_hot (which gives
   * int64). Values outside `0..numClasses-1` give an all-zero row.
   * @example `oneHot(tensor([0, 2]), 3)` → `[[1, 0, 0], [0, 0, 1]]`
   */
  oneHot(index: V, numClasses: number): V;
}

export function indexingOps<V>(I: Interpreter<V>, _ops: Ops<V>): IndexingOps<V> {
  const value = (x: unknown, op: string, name: string) => expectValue(I, x, op, name);
  const axisOf = (x: V, axis: number, op: string) => normalizeAxis(axis, I.typeOf(x).shape.length, op);
  const alongAxis = (def: PrimitiveDef<{ axis: number }>) => (x: V, axis: number, index: V): V => {
    const v = value(x, def.name, 'x');
    return apply1(I, def, [v, value(index, def.name, 'index')], { axis: axisOf(v, axis, def.name) });
  };
  return {
    gather: alongAxis(GATHER),
    indexSelect: alongAxis(INDEX_SELECT),
    take: (x, index) => apply1(I, TAKE, [value(x, 'take', 'x'), value(index, 'take', 'index')]),
    scatterAdd: (x, axis, index, src) => {
      const v = value(x, 'scatterAdd', 'x');
      const inputs = [v, value(index, 'scatterAdd', 'index'), value(src, 'scatterAdd', 'src')];
      return apply1(I, SCATTER_ADD, inputs, { axis: axisOf(v, axis, 'scatterAdd') });
    },
    oneHot: (index, numClasses) => {
      const v = value(index, 'oneHot', 'index');
      requireIndex('oneHot', I.typeOf(v));
      if (!Number.isInteger(numClasses) || numClasses < 1) {
        throw new ArgumentError(`oneHot: numClasses must be a positive integer, got ${JSON.stringify(numClasses)} (Kiln needs it up front: the output shape cannot depend on index's values)`);
      }
      return apply1(I, ONE_HOT, [v], { numClasses });
    },
  };
}

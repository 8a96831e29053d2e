import { DEFAULT_FLOAT, isFloating } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import type { Shape } from '../shape.js';
import { broadcastShapes, normalizeAxis, shapesEqual, shapeToString, sizeOf } from '../shape.js';
import { apply1, expectValue, promoteOperands } from './bind.js';
import type { ConvOps } from './conv.js';
import { convDefs, convOps } from './conv.js';
import type { ConvGradOps } from './conv_grad.js';
import { convGradDefs, convGradOps } from './conv_grad.js';
import type { PoolGradOps } from './pool_grad.js';
import { poolGradDefs, poolGradOps } from './pool_grad.js';
import type { Interpreter } from './interpreter.js';
import type { CompositeDef, OpDef, PrimitiveDef } from './op.js';
import { elementwiseDType } from './rules.js';
import { sumToShape } from './grad_util.js';
import type { Ops } from './surface.js';

const AB = ['a', 'b'];

/** Checks the inner dimensions of a matmul; `shownA`/`shownB` are the shapes the user passed. */
function checkInner(a: Shape, b: Shape, shownA: Shape = a, shownB: Shape = b): void {
  const k = a[a.length - 1];
  const k2 = b[b.length - 2];
  if (k !== k2) {
    throw new ShapeError(`matmul: inner dimensions differ: a is ${shapeToString(shownA)}, b is ${shapeToString(shownB)} (${k} vs ${k2})`);
  }
}

export const MATMUL: PrimitiveDef = {
  kind: 'primitive', name: 'matmul', inputs: AB, attrs: {},
  doc: 'Batched matrix product of [..., m, k] and [..., k, n]; batch dimensions broadcast.',
  shape: ([a, b]) => {
    for (const [t, arg] of [[a, 'a'], [b, 'b']] as const) {
      if (t.shape.length < 2) {
        throw new ShapeError(`matmul: the primitive needs ${arg} of rank ≥ 2, got ${shapeToString(t.shape)}; the op surface reshapes 1-D operands`);
      }
    }
    checkInner(a.shape, b.shape);
    const batch = broadcastShapes([a.shape.slice(0, -2), b.shape.slice(0, -2)], 'matmul (batch dimensions)', AB);
    return [[...batch, a.shape[a.shape.length - 2], b.shape[b.shape.length - 1]]];
  },
  dtype: elementwiseDType('matmul', AB, 'numeric'),
  differentiable: true,
  // dA = g·Bᵀ, dB = Aᵀ·g, each summed back over broadcast batch dimensions.
  vjp: (ops, { inputs: [a, b], cotangents: [g], needsGrad, typeOf }) => [
    needsGrad[0] ? sumToShape(ops, ops.matmul(g!, ops.transpose(b, -1, -2)), typeOf(a).shape, typeOf) : null,
    needsGrad[1] ? sumToShape(ops, ops.matmul(ops.transpose(a, -1, -2), g!), typeOf(b).shape, typeOf) : null,
  ],
};

export const SOFTMAX: CompositeDef<{ axis: number }> = {
  kind: 'composite', name: 'softmax', inputs: ['x'], attrs: { axis: 'int' },
  doc: 'exp(x) / sum(exp(x)) along axis, computed as exp(x - max) for stability.',
  expand: (ops, [x], { axis }) => {
    const e = ops.exp(ops.sub(x, ops.max(x, axis, true)));
    return [ops.div(e, ops.sum(e, axis, true))];
  },
};

export const LOG_SOFTMAX: CompositeDef<{ axis: number }> = {
  kind: 'composite', name: 'logSoftmax', inputs: ['x'], attrs: { axis: 'int' },
  doc: 'x - log(sum(exp(x))) along axis, computed with the max subtracted for stability.',
  expand: (ops, [x], { axis }) => {
    const shifted = ops.sub(x, ops.max(x, axis, true));
    return [ops.sub(shifted, ops.log(ops.sum(ops.exp(shifted), axis, true)))];
  },
};

type LayerNormAttrs = { axes: readonly number[]; eps: number; hasWeight: boolean; hasBias: boolean };
export const LAYER_NORM: CompositeDef<LayerNormAttrs> = {
  kind: 'composite', name: 'layerNorm', inputs: ['x', '...weightAndBias'],
  attrs: { axes: 'ints', eps: 'float', hasWeight: 'bool', hasBias: 'bool' },
  doc: 'Normalizes over the trailing axes to zero mean and unit (biased) variance, then scales by weight and shifts by bias if given.',
  expand: (ops, [x, ...params], { axes, eps, hasWeight, hasBias }) => {
    const centered = ops.sub(x, ops.mean(x, axes, true));
    const variance = ops.mean(ops.mul(centered, centered), axes, true);
    let y = ops.mul(centered, ops.rsqrt(ops.add(variance, eps)));
    let next = 0;
    if (hasWeight) y = ops.mul(y, params[next++]);
    if (hasBias) y = ops.add(y, params[next++]);
    return [y];
  },
};

export const nnDefs: readonly OpDef<any>[] = [MATMUL, SOFTMAX, LOG_SOFTMAX, LAYER_NORM, ...convDefs, ...convGradDefs, ...poolGradDefs];

/**
 * Linear algebra and neural-network ops. Convolution and pooling are in {@link ConvOps}, their
 * gradient ops in {@link ConvGradOps} and {@link PoolGradOps}.
 */
export interface NNOps<V> extends ConvOps<V>, ConvGradOps<V>, PoolGradOps<V> {
  /**
   * Matrix product with torch.matmul semantics: 1-D × 1-D is a dot product; a 1-D `a` is a row
   * ([k] → [1, k]) and a 1-D `b` a column ([k] → [k, 1]), the added dimension removed from the
   * result; leading (batch) dimensions broadcast. Mixed dtypes promote; bool is not accepted.
   * @example `matmul(ones([5, 2, 3]), ones([3, 4]))` → shape [5, 2, 4]
   */
  matmul(a: V, b: V): V;
  /**
   * Softmax along `axis` (default the last), numerically stable; integer inputs become float32.
   * @example `softmax(tensor([1, 2, 3]))` → `[0.0900, 0.2447, 0.6652]`
   */
  softmax(x: V, axis?: number): V;
  /**
   * log(softmax(x)) along `axis` (default the last), computed without forming softmax.
   * @example `logSoftmax(tensor([0, 0]))` → `[-0.6931, -0.6931]`
   */
  logSoftmax(x: V, axis?: number): V;
  /**
   * Layer normalization over the trailing dimensions `normalizedShape` (F.layer_norm): each slice
   * gets zero mean and unit biased variance, then `* weight + bias` (both of shape
   * `normalizedShape`, optional). Integer inputs become float32; mixed float dtypes promote.
   * @example `layerNorm(x, [64], gamma, beta)` normalizes each row of x: f32[batch,64]
   */
  layerNorm(x: V, normalizedShape: readonly number[], weight?: V | null, bias?: V | null, eps?: number): V;
}

export function nnOps<V>(I: Interpreter<V>, ops: Ops<V>): NNOps<V> {
  const toFloat = (x: V) => (isFloating(I.typeOf(x).dtype) ? x : ops.cast(x, DEFAULT_FLOAT));

  /** Softmax-like ops: floats only, canonical axis, scalars and empty tensors handled here. */
  const alongAxis = (def: CompositeDef<{ axis: number }>) => (x: V, axis = -1): V => {
    const v = toFloat(expectValue(I, x, def.name, 'x'));
    const shape = I.typeOf(v).shape;
    // PyTorch accepts axis -1 or 0 for a scalar, treating it as a one-element vector.
    const a = normalizeAxis(axis, Math.max(shape.length, 1), def.name, 'axis');
    if (sizeOf(shape) === 0) return v; // nothing to normalize; a max over an empty axis would throw
    if (shape.length === 0) return ops.reshape(apply1(I, def, [ops.reshape(v, [1])], { axis: a }), []);
    return apply1(I, def, [v], { axis: a });
  };

  return {
    matmul: (a, b) => matmul(I, ops, a, b),
    softmax: alongAxis(SOFTMAX),
    logSoftmax: alongAxis(LOG_SOFTMAX),
    layerNorm: (x, normalizedShape, weight = null, bias = null, eps = 1e-5) => {
      const v = expectValue(I, x, 'layerNorm', 'x');
      const axes = layerNormAxes(I.typeOf(v).shape, normalizedShape);
      const names = ['x'];
      const params: V[] = [];
      for (const [p, arg] of [[weight, 'weight'], [bias, 'bias']] as const) {
        if (p === null || p === undefined) continue;
        const pv = expectValue(I, p, 'layerNorm', arg);
        const s = I.typeOf(pv).shape;
        if (!shapesEqual(s, normalizedShape)) {
          throw new ShapeError(`layerNorm: ${arg} has shape ${shapeToString(s)} but normalizedShape is ${shapeToString(normalizedShape)}; they must be equal`);
        }
        params.push(pv);
        names.push(arg);
      }
      if (typeof eps !== 'number' || !(eps >= 0)) throw new ArgumentError(`layerNorm: eps must be a non-negative number, got ${JSON.stringify(eps)}`);
      const { values, dtype } = promoteOperands(I, ops, [v, ...params], 'layerNorm', names);
      if (dtype === 'bool') throw new DTypeError(`layerNorm: ${names.join(', ')} must be int32, float32 or float64, got bool`);
      const attrs = { axes, eps, hasWeight: names.includes('weight'), hasBias: names.includes('bias') };
      return apply1(I, LAYER_NORM, values.map(toFloat), attrs);
    },
    ...convOps(I, ops),
    ...convGradOps(I, ops),
    ...poolGradOps(I, ops),
  };
}

/** The trailing axes that layerNorm normalizes, or a ShapeError if x does not end in normalizedShape. */
function layerNormAxes(xShape: Shape, normalizedShape: readonly number[]): number[] {
  if (!Array.isArray(normalizedShape) || !normalizedShape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ArgumentError(`layerNorm: normalizedShape must be an array of non-negative integers, got ${JSON.stringify(normalizedShape)}`);
  }
  const k = normalizedShape.length;
  if (k === 0) throw new ArgumentError('layerNorm: normalizedShape must have at least one dimension, got []');
  const rank = xShape.length;
  if (k > rank || !shapesEqual(xShape.slice(rank - k), normalizedShape)) {
    throw new ShapeError(
      `layerNorm: x has shape ${shapeToString(xShape)} but normalizedShape is ${shapeToString(normalizedShape)}; x must end in [..., ${normalizedShape.join(', ')}]`,
    );
  }
  return Array.from({ length: k }, (_, i) => rank - k + i);
}

/** torch.matmul: 1-D operands become matrices for the primitive and the added axis is removed after. */
function matmul<V>(I: Interpreter<V>, ops: Ops<V>, a: V, b: V): V {
  const va = expectValue(I, a, 'matmul', 'a');
  const vb = expectValue(I, b, 'matmul', 'b');
  const sa = I.typeOf(va).shape;
  const sb = I.typeOf(vb).shape;
  if (sa.length === 0 || sb.length === 0) {
    throw new ShapeError(`matmul: both operands must be at least 1-D, got a ${shapeToString(sa)} and b ${shapeToString(sb)}; use mul for scalars`);
  }
  const { values: [pa, pb], dtype } = promoteOperands(I, ops, [va, vb], 'matmul', AB);
  if (dtype === 'bool') throw new DTypeError('matmul: operands must be int32, float32 or float64, got bool; cast them first');
  const ma = sa.length === 1 ? [1, sa[0]] : sa;
  const mb = sb.length === 1 ? [sb[0], 1] : sb;
  checkInner(ma, mb, sa, sb);
  const batchA = ma.slice(0, -2);
  const batchB = mb.slice(0, -2);
  broadcastShapes([batchA, batchB], 'matmul (batch dimensions)', AB);
  const out = apply1(I, MATMUL, [sa.length === 1 ? ops.reshape(pa, ma) : pa, sb.length === 1 ? ops.reshape(pb, mb) : pb]);
  if (sa.length > 1 && sb.length > 1) return out;
  const outShape = I.typeOf(out).shape;
  const keep = outShape.filter((_, i) => !((sa.length === 1 && i === outShape.length - 2) || (sb.length === 1 && i === outShape.length - 1)));
  return ops.reshape(out, keep);
}

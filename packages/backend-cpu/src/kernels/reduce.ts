import type { KernelRegistry, Shape } from '@kiln/core';
import { sizeOf } from '@kiln/core';
import type { CpuKernel } from '../cpu_tensor.js';
import { broadcastIndex, output } from './util.js';

type ReduceAttrs = { axes: readonly number[]; keepdims: boolean };

/**
 * For every element of x, the flat index of the output element it reduces into (null when no
 * axis of size > 1 is reduced: then it is the identity). The output in keepdims form broadcasts
 * to x along the reduced axes, so this is broadcastIndex from that shape.
 */
function reduceIndex(shape: Shape, axes: readonly number[]): Int32Array | null {
  return broadcastIndex(
    shape.map((d, i) => (axes.includes(i) ? 1 : d)),
    shape,
  );
}

/**
 * A reduction that folds each element into an accumulator per output element. Accumulators are
 * float64 (float32 sums are more accurate than PyTorch's, never less); int32 folds must wrap
 * themselves (`intStep`), since float64 holds int32 sums and products only up to 2^53.
 */
function fold(init: number, step: (acc: number, v: number) => number, intStep = step, fast?: FloatFold): CpuKernel<ReduceAttrs> {
  return ([x], { axes }, [out], into) => {
    const f = x.dtype === 'int32' ? intStep : step;
    const acc = new Float64Array(sizeOf(out.shape)).fill(init);
    const block = fast && x.dtype !== 'int32' ? reducedBlock(x.shape, axes) : null;
    if (block) {
      fast!(x.data, acc, block[0], block[1], block[2]);
      const dst = output(out.dtype, out.shape, into?.[0]);
      dst.set(acc);
      return [dst];
    }
    const index = reduceIndex(x.shape, axes);
    const src = x.data;
    if (index) for (let i = 0; i < src.length; i++) acc[index[i]] = f(acc[index[i]], src[i]);
    else for (let i = 0; i < src.length; i++) acc[i] = f(acc[i], src[i]);
    const dst = output(out.dtype, out.shape, into?.[0]);
    dst.set(acc);
    return [dst];
  };
}

/**
 * A float reduction over x viewed as [outer, n, inner] with the middle axis reduced, into
 * acc[outer·inner] (already at the initial value). Folds each output element over k in order,
 * exactly as the generic loop does, so results are bit-identical to it; only the index math
 * is gone (rows: one running scalar; inner > 1: a row of accumulators updated by whole rows).
 */
type FloatFold = (src: ArrayLike<number>, acc: Float64Array, outer: number, n: number, inner: number) => void;

/**
 * [outer, n, inner] when the reduced axes of size > 1 are adjacent once size-1 axes are
 * ignored (the usual case: softmax, layerNorm, mean over the last axes, column sums), else null.
 */
export function reducedBlock(shape: Shape, axes: readonly number[]): [number, number, number] | null {
  let outer = 1;
  let n = 1;
  let inner = 1;
  let phase = 0; // 0: before the reduced run, 1: in it, 2: after it
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const reduced = axes.includes(d);
    if (reduced && phase === 2) return null;
    if (reduced) phase = 1;
    else if (phase === 1) phase = 2;
    if (phase === 0) outer *= shape[d];
    else if (phase === 1) n *= shape[d];
    else inner *= shape[d];
  }
  return phase === 0 ? null : [outer, n, inner];
}

const sumFast: FloatFold = (src, acc, outer, n, inner) => {
  if (inner === 1) {
    for (let o = 0, i = 0; o < outer; o++) {
      let t = acc[o];
      for (const end = i + n; i < end; i++) t += src[i];
      acc[o] = t;
    }
    return;
  }
  for (let o = 0, i = 0; o < outer; o++) {
    const a = o * inner;
    for (let k = 0; k < n; k++) for (let j = 0; j < inner; j++, i++) acc[a + j] += src[i];
  }
};

const maxFast: FloatFold = (src, acc, outer, n, inner) => {
  if (inner === 1) {
    for (let o = 0, i = 0; o < outer; o++) {
      let t = acc[o];
      for (const end = i + n; i < end; i++) {
        const v = src[i];
        if (v > t || v !== v) t = v;
      }
      acc[o] = t;
    }
    return;
  }
  for (let o = 0, i = 0; o < outer; o++) {
    const a = o * inner;
    for (let k = 0; k < n; k++) {
      for (let j = 0; j < inner; j++, i++) {
        const v = src[i];
        if (v > acc[a + j] || v !== v) acc[a + j] = v;
      }
    }
  }
};

const minFast: FloatFold = (src, acc, outer, n, inner) => {
  if (inner === 1) {
    for (let o = 0, i = 0; o < outer; o++) {
      let t = acc[o];
      for (const end = i + n; i < end; i++) {
        const v = src[i];
        if (v < t || v !== v) t = v;
      }
      acc[o] = t;
    }
    return;
  }
  for (let o = 0, i = 0; o < outer; o++) {
    const a = o * inner;
    for (let k = 0; k < n; k++) {
      for (let j = 0; j < inner; j++, i++) {
        const v = src[i];
        if (v < acc[a + j] || v !== v) acc[a + j] = v;
      }
    }
  }
};

// NaN propagates: once the accumulator is NaN, `v > acc` is false and it stays NaN. Ties keep
// the first value, so max(-0, 0) is -0 as in PyTorch.
const max = fold(-Infinity, (acc, v) => (v > acc || v !== v ? v : acc), undefined, maxFast);
const min = fold(Infinity, (acc, v) => (v < acc || v !== v ? v : acc), undefined, minFast);
const sum = fold(0, (acc, v) => acc + v, (acc, v) => (acc + v) | 0, sumFast);
const prod = fold(1, (acc, v) => acc * v, Math.imul);

/** Splits x's shape around `axis` into [outer, n, inner]; axis null is the flattened tensor. */
function around(shape: Shape, axis: number | null): [number, number, number] {
  if (axis === null) return [1, sizeOf(shape), 1];
  return [sizeOf(shape.slice(0, axis)), shape[axis], sizeOf(shape.slice(axis + 1))];
}

/** argmax/argmin: the first index where `better` holds against all before it; the first NaN wins outright. */
function argFold(better: (v: number, best: number) => boolean): CpuKernel<{ axis: number | null }> {
  return ([x], { axis }, [out]) => {
    const [outer, n, inner] = around(x.shape, axis);
    const dst = output(out.dtype, out.shape);
    const src = x.data;
    for (let o = 0; o < outer; o++) {
      const base = o * n * inner;
      for (let j = 0; j < inner; j++) {
        let best = src[base + j];
        let bestIndex = 0;
        for (let k = 1; k < n && best === best; k++) {
          const v = src[base + k * inner + j];
          if (v !== v || better(v, best)) {
            best = v;
            bestIndex = k;
          }
        }
        dst[o * inner + j] = bestIndex;
      }
    }
    return [dst];
  };
}

const argmax = argFold((v, best) => v > best);
const argmin = argFold((v, best) => v < best);

// Running sums are float64 for floats (PyTorch's CPU kernel accumulates in double too) and wrap for int32.
const cumsum: CpuKernel<{ axis: number }> = ([x], { axis }, [out]) => {
  const [outer, n, inner] = around(x.shape, axis);
  const dst = output(out.dtype, out.shape);
  const src = x.data;
  const wrap = x.dtype === 'int32';
  const running = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    running.fill(0);
    for (let k = 0; k < n; k++) {
      const row = (o * n + k) * inner;
      for (let j = 0; j < inner; j++) {
        running[j] = wrap ? (running[j] + src[row + j]) | 0 : running[j] + src[row + j];
        dst[row + j] = running[j];
      }
    }
  }
  return [dst];
};

export function registerReduceKernels(registry: KernelRegistry<CpuKernel>): void {
  registry.register('sum', sum);
  registry.register('prod', prod);
  registry.register('max', max);
  registry.register('min', min);
  registry.register('argmax', argmax);
  registry.register('argmin', argmin);
  registry.register('cumsum', cumsum);
}

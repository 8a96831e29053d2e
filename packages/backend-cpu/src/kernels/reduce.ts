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
function fold(init: number, step: (acc: number, v: number) => number, intStep = step): CpuKernel<ReduceAttrs> {
  return ([x], { axes }, [out], into) => {
    const f = x.dtype === 'int32' ? intStep : step;
    const acc = new Float64Array(sizeOf(out.shape)).fill(init);
    const index = reduceIndex(x.shape, axes);
    const src = x.data;
    if (index) for (let i = 0; i < src.length; i++) acc[index[i]] = f(acc[index[i]], src[i]);
    else for (let i = 0; i < src.length; i++) acc[i] = f(acc[i], src[i]);
    const dst = output(out.dtype, out.shape, into?.[0]);
    dst.set(acc);
    return [dst];
  };
}

// NaN propagates: once the accumulator is NaN, `v > acc` is false and it stays NaN. Ties keep
// the first value, so max(-0, 0) is -0 as in PyTorch.
const max = fold(-Infinity, (acc, v) => (v > acc || v !== v ? v : acc));
const min = fold(Infinity, (acc, v) => (v < acc || v !== v ? v : acc));
const sum = fold(0, (acc, v) => acc + v, (acc, v) => (acc + v) | 0);
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

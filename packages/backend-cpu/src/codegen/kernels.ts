import type { Graph, KernelRegistry, TypedArray } from '@kiln/core';
import { KernelError, sizeOf } from '@kiln/core';
import type { CpuKernel } from '../cpu_tensor.js';
import { matmul } from '../kernels/matmul.js';
import { broadcastIndex } from '../kernels/util.js';
import { allocateAccumulators, allocateStored, collectOutputs, compileFused } from './kernel.js';

function bodyOf(op: string, subgraphs: readonly Graph[] | undefined): Graph {
  if (!subgraphs || subgraphs.length !== 1) {
    throw new KernelError(`cpu: '${op}' runs its body sub-graph, but got ${subgraphs ? subgraphs.length : 'no'} sub-graphs; pass node.subgraphs to Backend.run`);
  }
  return subgraphs[0];
}

/** fusedElementwise: one generated loop over the body's domain. */
export const fusedElementwise: CpuKernel = (inputs, _attrs, outputs, out, subgraphs) => {
  const body = bodyOf('fusedElementwise', subgraphs);
  const kernel = compileFused(body, false);
  const stored = allocateStored(kernel, out);
  const accs = allocateAccumulators(kernel);
  kernel.fn(inputs.map((x) => x.data), stored, accs, null, 0, 0, sizeOf(kernel.domain));
  return collectOutputs(kernel, outputs, stored, accs, out);
};

/**
 * matmulEpilogue: the reference matmul's loop (four rows at a time into float64 accumulator
 * rows, each element summed over k in order, so results are bit-identical), with the epilogue
 * applied to each block of rows while it is in cache, instead of storing the product and
 * reading it back for the bias and activation. Blocks go in row-major order, so reductions in
 * the epilogue fold in the reference order. Integer matmuls run the reference kernel, then the
 * epilogue over its result.
 */
export const matmulEpilogue: CpuKernel = (inputs, attrs, outputs, out, subgraphs) => {
  const body = bodyOf('matmulEpilogue', subgraphs);
  const kernel = compileFused(body, true);
  const stored = allocateStored(kernel, out);
  const accs = allocateAccumulators(kernel);
  const ins = inputs.map((x) => x.data);
  const [a, b] = inputs;
  const product = body.nodes[0].outputs[0].type;
  if (product.dtype !== 'float32' && product.dtype !== 'float64') {
    const [mm] = matmul([a, b], attrs, [product]);
    kernel.fn(ins, stored, accs, mm, 0, 0, mm.length);
    return collectOutputs(kernel, outputs, stored, accs, out);
  }
  const m = a.shape[a.shape.length - 2];
  const k = a.shape[a.shape.length - 1];
  const n = b.shape[b.shape.length - 1];
  const batchShape = product.shape.slice(0, -2);
  const batchA = broadcastIndex(a.shape.slice(0, -2), batchShape);
  const batchB = broadcastIndex(b.shape.slice(0, -2), batchShape);
  const acc = new Float64Array(4 * n);
  for (let t = 0; t < sizeOf(batchShape); t++) {
    const aOffset = (batchA ? batchA[t] : t) * m * k;
    const bOffset = (batchB ? batchB[t] : t) * k * n;
    for (let i0 = 0; i0 < m; i0 += 4) {
      const rows = Math.min(4, m - i0);
      productRows(a.data, aOffset + i0 * k, b.data, bOffset, acc, rows, k, n);
      const lo = (t * m + i0) * n;
      kernel.fn(ins, stored, accs, acc, lo, lo, lo + rows * n);
    }
  }
  return collectOutputs(kernel, outputs, stored, accs, out);
};

/** Rows [0, rows) of a (from a0, row length k) times b (k×n from bOffset) into acc, summed over k in order. */
function productRows(a: TypedArray, a0: number, b: TypedArray, bOffset: number, acc: Float64Array, rows: number, k: number, n: number): void {
  acc.fill(0);
  if (rows === 4) {
    for (let p = 0; p < k; p++) {
      const x0 = a[a0 + p];
      const x1 = a[a0 + k + p];
      const x2 = a[a0 + 2 * k + p];
      const x3 = a[a0 + 3 * k + p];
      const bRow = bOffset + p * n;
      for (let j = 0; j < n; j++) {
        const bv = b[bRow + j];
        acc[j] += x0 * bv;
        acc[n + j] += x1 * bv;
        acc[2 * n + j] += x2 * bv;
        acc[3 * n + j] += x3 * bv;
      }
    }
    return;
  }
  for (let r = 0; r < rows; r++) {
    for (let p = 0; p < k; p++) {
      const x = a[a0 + r * k + p];
      const bRow = bOffset + p * n;
      for (let j = 0; j < n; j++) acc[r * n + j] += x * b[bRow + j];
    }
  }
}

/** Registers the fused ops' kernels: each compiles its node's body (see compileFused). */
export function registerFusedKernels(registry: KernelRegistry<CpuKernel>): void {
  registry.register('fusedElementwise', fusedElementwise);
  registry.register('matmulEpilogue', matmulEpilogue);
}

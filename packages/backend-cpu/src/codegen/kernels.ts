import type { Graph, KernelRegistry, TypedArray } from '@kiln/core';
import { allocTypedArray, KernelError, matmulEpilogueParts, sizeOf } from '@kiln/core';
import type { CpuKernel } from '../cpu_tensor.js';
import { matmulOf } from '../kernels/matmul.js';
import { broadcastIndex } from '../kernels/util.js';
import { allocateAccumulators, allocateStored, collectOutputs, compileFused } from './kernel.js';
import { PRODUCT_ROWS, productRows } from './product.js';
import { runWasmElementwise, WASM_ELEMENTWISE_MIN_ELEMENTS, wasmElementwise } from '../wasm/elementwise.js';

function bodyOf(op: string, subgraphs: readonly Graph[] | undefined): Graph {
  if (!subgraphs || subgraphs.length !== 1) {
    throw new KernelError(`cpu: '${op}' runs its body sub-graph, but got ${subgraphs ? subgraphs.length : 'no'} sub-graphs; pass node.subgraphs to Backend.run`);
  }
  return subgraphs[0];
}

export { WASM_ELEMENTWISE_MIN_ELEMENTS };

/** The body's outputs computed by its WebAssembly kernel (float32 bodies that lower), or null. */
function runWasm(body: Graph, inputs: Parameters<CpuKernel>[0], out: Parameters<CpuKernel>[3]): TypedArray[] | null {
  const kernel = wasmElementwise(body);
  if (!kernel || kernel.domainSize < WASM_ELEMENTWISE_MIN_ELEMENTS) return null;
  const arrays = kernel.outputs.map((o) => out?.[o] ?? allocTypedArray(body.outputs[o].type.dtype, kernel.domainSize));
  const accs = kernel.accumulators.map(({ init, size }) => new Float64Array(size).fill(init));
  runWasmElementwise(kernel, inputs.map((x) => x.data), arrays, 0, kernel.domainSize, accs);
  const reduced = new Map(kernel.reductions.map((r, q) => [body.nodes[r.node].outputs[0], q]));
  const scalarCasts = new Map(kernel.scalarCasts);
  // A value returned twice gets its own copy, so no two outputs share storage.
  const seen = new Set<TypedArray>();
  return body.outputs.map((v, i) => {
    const q = reduced.get(v);
    if (q !== undefined) {
      const result = out?.[i] ?? new Float32Array(accs[q].length);
      result.set(accs[q]);
      return result;
    }
    const castFrom = scalarCasts.get(i);
    if (castFrom !== undefined) {
      const result = out?.[i] ?? new Float32Array(1);
      result[0] = inputs[castFrom].data[0]; // rounds to float32 as the cast does
      return result;
    }
    let a = arrays[kernel.outputs.indexOf(body.outputs.indexOf(v))];
    if (seen.has(a)) a = out?.[i] ? (out[i]!.set(a), out[i]!) : a.slice();
    seen.add(a);
    return a;
  });
}

/** fusedElementwise: one pass over the body's domain, in WebAssembly SIMD when it lowers and is large, else one generated JavaScript loop. */
export const fusedElementwise: CpuKernel = (inputs, _attrs, outputs, out, subgraphs) => {
  const body = bodyOf('fusedElementwise', subgraphs);
  const viaWasm = runWasm(body, inputs, out);
  if (viaWasm) return viaWasm;
  const kernel = compileFused(body, false);
  const stored = allocateStored(kernel, out);
  const accs = allocateAccumulators(kernel);
  kernel.fn(inputs.map((x) => x.data), stored, accs, null, 0, 0, sizeOf(kernel.domain));
  return collectOutputs(kernel, outputs, stored, accs, out);
};

const epilogues = new WeakMap<Graph, Graph | null>();

/**
 * The epilogue of a normalized matmulEpilogue body as a fusedElementwise body whose first
 * input is the product (then the body's inputs after the two operands), so a float32 epilogue over the product can
 * run in WebAssembly SIMD; null when an epilogue node reads the matmul's operands themselves.
 */
function epilogueBody(body: Graph): Graph | null {
  let known = epilogues.get(body);
  if (known === undefined) {
    const [mm, ...rest] = body.nodes;
    const operands = new Set(mm.inputs);
    known = rest.some((n) => n.inputs.some((v) => operands.has(v))) || body.outputs.some((v) => operands.has(v))
      ? null
      : { inputs: [mm.outputs[0], ...body.inputs.slice(2)], nodes: rest, outputs: body.outputs };
    epilogues.set(body, known);
  }
  return known;
}

/**
 * matmulEpilogue: the product in blocks of eight rows into float64 accumulator rows, each
 * element summed over k in order as the reference matmul does, so results are bit-identical
 * (`productRows`), with the epilogue applied to each block of rows while it is in cache
 * instead of storing the product and reading it back for the bias and activation. Blocks go in
 * row-major order, so reductions in the epilogue fold in the reference order. This blocked path
 * serves float64; float32 and integer matmuls, and products of operands the body transposes
 * (a permute of the last two axes absorbed by fuse-matmul-epilogue), run `matmulOf` (WebAssembly
 * SIMD reading transposed operands in place for large float32 products), then the epilogue over
 * its result (the epilogue in WebAssembly SIMD when it lowers and covers at least
 * WASM_ELEMENTWISE_MIN_ELEMENTS, as a fusedElementwise body would); a body that is only the
 * (transposed) product returns it directly.
 */
export const matmulEpilogue: CpuKernel = (inputs, _attrs, outputs, out, subgraphs) => {
  // Operands the body transposes (absorbed permutes) are read in place by matmulOf.
  const { transA, transB, normalized: body } = matmulEpilogueParts(bodyOf('matmulEpilogue', subgraphs));
  const [a, b] = inputs;
  const product = body.nodes[0].outputs[0].type;
  if (body.nodes.length === 1 && body.outputs.length === 1 && body.outputs[0] === body.nodes[0].outputs[0]) {
    return [matmulOf(a, b, product, transA, transB, out?.[0])]; // a transposed product, no epilogue
  }
  const kernel = compileFused(body, true);
  const stored = allocateStored(kernel, out);
  const accs = allocateAccumulators(kernel);
  const ins = inputs.map((x) => x.data);
  // float32 products go through the reference matmul, which runs the WebAssembly SIMD kernel
  // for large sizes: the compiled product is then bit-identical to eager's and as fast.
  if (product.dtype !== 'float64' || transA || transB) {
    const mm = matmulOf(a, b, product, transA, transB);
    const epilogue = epilogueBody(body);
    const viaWasm = epilogue && runWasm(epilogue, [{ data: mm, shape: product.shape, dtype: product.dtype }, ...inputs.slice(2)], out);
    if (viaWasm) return viaWasm;
    kernel.fn(ins, stored, accs, mm, 0, 0, mm.length);
    return collectOutputs(kernel, outputs, stored, accs, out);
  }
  const m = a.shape[a.shape.length - 2];
  const k = a.shape[a.shape.length - 1];
  const n = b.shape[b.shape.length - 1];
  const batchShape = product.shape.slice(0, -2);
  const batchA = broadcastIndex(a.shape.slice(0, -2), batchShape);
  const batchB = broadcastIndex(b.shape.slice(0, -2), batchShape);
  const acc = new Float64Array(PRODUCT_ROWS * n);
  for (let t = 0; t < sizeOf(batchShape); t++) {
    const aOffset = (batchA ? batchA[t] : t) * m * k;
    const bOffset = (batchB ? batchB[t] : t) * k * n;
    for (let i0 = 0; i0 < m; i0 += PRODUCT_ROWS) {
      const rows = Math.min(PRODUCT_ROWS, m - i0);
      productRows(a.data, aOffset + i0 * k, b.data, bOffset, acc, rows, k, n);
      const lo = (t * m + i0) * n;
      kernel.fn(ins, stored, accs, acc, lo, lo, lo + rows * n);
    }
  }
  return collectOutputs(kernel, outputs, stored, accs, out);
};

/** Registers the fused ops' kernels: each compiles its node's body (see compileFused). */
export function registerFusedKernels(registry: KernelRegistry<CpuKernel>): void {
  registry.register('fusedElementwise', fusedElementwise);
  registry.register('matmulEpilogue', matmulEpilogue);
}

import type { Graph, TensorType, TypedArray } from '@kiln/core';
import { allocTypedArray, FUSED_ELEMENTWISE, inferTypes, KernelError, MATMUL_EPILOGUE, printGraph, sizeOf } from '@kiln/core';
import { HELPERS } from './emit.js';
import type { KernelPlan } from './generate.js';
import { generateKernel } from './generate.js';

/** The generated function: reads `ins`, writes `outs` and folds into `accs` over [lo, hi) of the domain. */
export type FusedFunction = (
  ins: readonly TypedArray[], outs: readonly TypedArray[], accs: readonly Float64Array[],
  mm: ArrayLike<number> | null, mmBase: number, lo: number, hi: number,
) => void;

/** A compiled fused body: its plan (source, domain, stored values, reductions) and function. */
export interface CompiledKernel extends KernelPlan {
  readonly fn: FusedFunction;
}

const MAX_CACHED = 512;
const byText = new Map<string, CompiledKernel>();
const byGraph = new WeakMap<Graph, CompiledKernel>();
const stats = { compiled: 0, hits: 0 };

/**
 * Compiles a fused body into a JavaScript function with `new Function`, once: kernels are
 * cached by the body's printed text (which holds every shape, dtype and attribute, so equal
 * text means an equal kernel), and by the body object itself so a graph run again skips even
 * the printing. The text cache keeps the 512 most recently used kernels.
 *
 * @example
 * ```ts
 * const k = compileFused(node.subgraphs[0], false);
 * console.log(k.source); // the generated loop
 * ```
 */
export function compileFused(body: Graph, matmul: boolean): CompiledKernel {
  const known = byGraph.get(body);
  if (known) {
    stats.hits++;
    return known;
  }
  const key = `${matmul ? 'epilogue' : 'elementwise'}\n${printGraph(body)}`;
  let kernel = byText.get(key);
  if (kernel) {
    stats.hits++;
    byText.delete(key);
  } else {
    // The op's rules check the body once (fusible ops only, one domain, a matmul first…).
    inferTypes(matmul ? MATMUL_EPILOGUE : FUSED_ELEMENTWISE, body.inputs.map((v) => v.type), {}, [body]);
    const plan = generateKernel(body, matmul);
    let fn: FusedFunction;
    try {
      fn = new Function('h', plan.source)(HELPERS) as FusedFunction;
    } catch (e) {
      throw new KernelError(`cpu codegen: the generated kernel does not compile (${e instanceof Error ? e.message : String(e)}):\n${plan.source}`);
    }
    kernel = { ...plan, fn };
    stats.compiled++;
    if (byText.size >= MAX_CACHED) byText.delete(byText.keys().next().value!);
  }
  byText.set(key, kernel);
  byGraph.set(body, kernel);
  return kernel;
}

/**
 * How many kernels were generated and how many lookups hit the cache (for tests and explain()).
 *
 * @example
 * ```ts
 * codegenStats(); // { compiled: 3, hits: 120, cached: 3 }
 * ```
 */
export function codegenStats(): { compiled: number; hits: number; cached: number } {
  return { ...stats, cached: byText.size };
}

/** The output arrays a kernel writes, honouring the caller's offered storage. */
export function allocateStored(kernel: CompiledKernel, offered?: readonly (TypedArray | undefined)[]): TypedArray[] {
  return kernel.stored.map((type, q) => {
    const i = kernel.outputs.findIndex((o) => 'stored' in o && o.stored === q);
    return offered?.[i] ?? allocTypedArray(type.dtype, sizeOf(type.shape));
  });
}

/** Float64 accumulators of the kernel's reductions, at their initial values. */
export function allocateAccumulators(kernel: CompiledKernel): Float64Array[] {
  return kernel.reductions.map(({ init, size }) => new Float64Array(size).fill(init));
}

/** The node's results in body-output order: stored arrays, and reductions converted to their dtype. */
export function collectOutputs(
  kernel: CompiledKernel, outputs: readonly TensorType[], stored: readonly TypedArray[], accs: readonly Float64Array[],
  offered?: readonly (TypedArray | undefined)[],
): TypedArray[] {
  const seen = new Set<TypedArray>();
  return kernel.outputs.map((source, i) => {
    let result: TypedArray;
    if ('stored' in source) result = stored[source.stored];
    else {
      result = offered?.[i] ?? allocTypedArray(outputs[i].dtype, sizeOf(outputs[i].shape));
      result.set(accs[source.reduction]);
    }
    // A value returned twice gets its own copy, so no two outputs share storage.
    if (seen.has(result)) result = result.slice();
    seen.add(result);
    return result;
  });
}

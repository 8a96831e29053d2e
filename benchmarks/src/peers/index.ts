/**
 * Peers join Kiln's workloads by name: `withPeers` appends, to each workload it recognises, the
 * tfjs (cpu, wasm), jax-js (eager, jit) and onnxruntime-node implementations of the same problem,
 * sized from the workload's own params, so a tiny workload (in tests) gets tiny peers.
 */
import type { Implementation, Params, Workload } from '../harness.js';
import { jaxChain, jaxCnn, jaxDispatch, jaxMatmul, jaxMlpInference, jaxMlpTrainStep, jaxThreads, jaxTransformer, type JaxMode } from './jax.js';
import { onnxImplementations, onnxruntimeThreads } from './onnxruntime.js';
import {
  CNN_DEFAULT, TOLERANCE, chainProblem, chainSubject, cnnProblem, cnnSubject, matmulProblem, matmulSubject, mlpProblem, mlpSubject,
  transformerProblem, transformerSubject, type CnnShape, type TransformerShape,
} from './problems.js';
import { tfjsChain, tfjsCnn, tfjsDispatch, tfjsMatmul, tfjsMlpInference, tfjsMlpTrainStep, tfjsThreads, tfjsTransformer, type TfjsBackend } from './tfjs.js';

const TFJS: readonly TfjsBackend[] = ['cpu', 'wasm'];
const JAX: readonly JaxMode[] = ['eager', 'jit'];

function num(params: Params, key: string, fallback?: number): number {
  const v = params[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`peers: workload param '${key}' must be a positive integer, got ${String(v)}`);
  return v;
}

function sizesOf(params: Params): number[] {
  const sizes = String(params.sizes).split('-').map(Number);
  if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) throw new Error(`peers: workload param 'sizes' must look like 784-512-10, got ${String(params.sizes)}`);
  return sizes;
}

function cnnShapeOf(params: Params): CnnShape {
  const input = String(params.input ?? '').split('x').map(Number);
  const [batch, , size] = input.length === 4 ? input : [CNN_DEFAULT.batch, 1, CNN_DEFAULT.size];
  return { batch, size, conv1: num(params, 'conv1', CNN_DEFAULT.conv1), conv2: num(params, 'conv2', CNN_DEFAULT.conv2), classes: num(params, 'classes', CNN_DEFAULT.classes) };
}

function transformerShapeOf(params: Params): TransformerShape {
  return { seq: num(params, 'seq'), width: num(params, 'width'), heads: num(params, 'heads'), ff: num(params, 'dimFeedforward'), batch: num(params, 'batch') };
}

/** A workload family the peers implement: which workloads, and their peers. */
interface Family {
  readonly matches: (name: string) => boolean;
  readonly peers: (params: Params, name: string) => Implementation[];
}

const FAMILIES: readonly Family[] = [
  {
    matches: (name) => name === 'eager-dispatch-add',
    peers: (params) => {
      const ops = num(params, 'opsPerRun');
      return [...TFJS.map((b) => tfjsDispatch(b, ops)), jaxDispatch(ops)];
    },
  },
  {
    matches: (name) => /^matmul-\d+$/.test(name),
    peers: (params) => {
      const n = num(params, 'n');
      return [...TFJS.map((b) => tfjsMatmul(b, n)), jaxMatmul(n), ...onnxImplementations(() => matmulSubject(n), () => matmulProblem(n).want, TOLERANCE.matmul)];
    },
  },
  {
    matches: (name) => name.startsWith('compiled-mlp-inference-'),
    peers: (params) => {
      const sizes = sizesOf(params);
      const batch = num(params, 'batch');
      return [
        ...TFJS.map((b) => tfjsMlpInference(b, sizes, batch)),
        ...JAX.map((m) => jaxMlpInference(m, sizes, batch)),
        ...onnxImplementations(() => mlpSubject(sizes, batch), () => mlpProblem(sizes, batch).logits, TOLERANCE.mlp),
      ];
    },
  },
  {
    matches: (name) => name.startsWith('compiled-mlp-train-step-'),
    peers: (params) => {
      const sizes = sizesOf(params);
      const batch = num(params, 'batch');
      return [...TFJS.map((b) => tfjsMlpTrainStep(b, sizes, batch)), ...JAX.map((m) => jaxMlpTrainStep(m, sizes, batch))];
    },
  },
  {
    matches: (name) => name.startsWith('elementwise-chain-'),
    peers: (params) => {
      const n = num(params, 'n');
      return [
        ...TFJS.map((b) => tfjsChain(b, n)),
        ...JAX.map((m) => jaxChain(m, n)),
        ...onnxImplementations(() => chainSubject(n), () => chainProblem(n).want, TOLERANCE.chain),
      ];
    },
  },
  {
    matches: (name) => name === 'cnn-inference',
    peers: (params) => {
      const shape = cnnShapeOf(params);
      return [
        ...TFJS.map((b) => tfjsCnn(b, shape)),
        ...JAX.map((m) => jaxCnn(m, shape)),
        ...onnxImplementations(() => cnnSubject(shape), () => cnnProblem(shape).logits, TOLERANCE.cnn),
      ];
    },
  },
  {
    matches: (name) => name.startsWith('compiled-transformer-encoder-'),
    peers: (params) => {
      const shape = transformerShapeOf(params);
      return [
        ...TFJS.map((b) => tfjsTransformer(b, shape)),
        ...JAX.map((m) => jaxTransformer(m, shape)),
        ...onnxImplementations(() => transformerSubject(shape), () => transformerProblem(shape).want, TOLERANCE.transformer),
      ];
    },
  },
];

/** The peer implementations for a workload (none when no family matches). */
export function peersFor(workload: Pick<Workload, 'name' | 'params'>): Implementation[] {
  return FAMILIES.find((f) => f.matches(workload.name))?.peers(workload.params, workload.name) ?? [];
}

/**
 * Each workload with its peers appended after Kiln's implementations.
 *
 * @example
 * ```ts
 * const workloads = withPeers(allWorkloads()); // matmul-512 gains tfjs-cpu, tfjs-wasm, jax-js-eager, onnxruntime-node-cpu…
 * ```
 */
export function withPeers(workloads: readonly Workload[]): Workload[] {
  return workloads.map((w) => {
    const peers = peersFor(w);
    return peers.length === 0 ? w : { ...w, implementations: [...w.implementations, ...peers] };
  });
}

/** Threads each peer uses here, for the report. */
export async function peerThreads(): Promise<Record<string, string>> {
  return { ...(await tfjsThreads()), ...jaxThreads(), ...onnxruntimeThreads() };
}

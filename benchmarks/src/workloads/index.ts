import type { Workload } from '../harness.js';
import { eagerDispatchAdd, matmulSquare } from './kiln-eager.js';
import { mlpTrainingStep } from './kiln-nn.js';
import { compiledVsEagerWorkloads } from './kiln-compiled.js';
import { elementwiseChain } from './kiln-fusion.js';
import { compiledNewBatchSize } from './kiln-dynamic.js';
import { scanRnnTrainingStep } from './kiln-control.js';
import { deployWorkloads } from './kiln-deploy.js';
import { normalizeWorkloads } from './kiln-normalize.js';
import { cnnWorkloads } from './cnn.js';
import { webgpuWorkloads } from './webgpu.js';

/**
 * Every Kiln workload, in run order. Peers (tfjs, jax-js, onnxruntime) join as further
 * implementations of the same workloads: see `withPeers` in ../peers/index.ts.
 */
export function allWorkloads(): Workload[] {
  return [eagerDispatchAdd(), matmulSquare(256), matmulSquare(512), matmulSquare(1024), mlpTrainingStep(), ...compiledVsEagerWorkloads(), elementwiseChain(), compiledNewBatchSize(), scanRnnTrainingStep(), ...deployWorkloads(), ...cnnWorkloads(), ...normalizeWorkloads(), ...webgpuWorkloads()];
}

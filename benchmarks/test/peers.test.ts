import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runWorkloads, type Workload } from '../src/harness.js';
import { peerThreads, peersFor, withPeers } from '../src/peers/index.js';
import { matmulProblem } from '../src/peers/problems.js';
import { compiledMlpInference, compiledMlpTrainingStep, compiledTransformerEncoder } from '../src/workloads/kiln-compiled.js';
import { eagerDispatchAdd, matmulSquare } from '../src/workloads/kiln-eager.js';
import { elementwiseChain } from '../src/workloads/kiln-fusion.js';

/** Every workload family at a tiny size, Kiln's implementations and all the peers, one repetition each. */
function tinyWorkloads(): Workload[] {
  const cnn: Workload = { name: 'cnn-inference', description: 'tiny CNN, peers only', params: { input: '2x1x10x10', conv1: 3, conv2: 4, classes: 5 }, implementations: [] };
  return withPeers([
    eagerDispatchAdd(10),
    matmulSquare(16),
    compiledMlpInference([12, 8, 8, 5], 4),
    compiledMlpTrainingStep([12, 8, 8, 5], 4),
    elementwiseChain(1000),
    cnn,
    compiledTransformerEncoder(6, 8, 2, 1),
  ]);
}

const ONCE = { warmup: 0, repetitions: 1, maxWarmup: 0, maxRepetitions: 1, log: () => {} };

describe('peers', () => {
  it('run every workload at a tiny size, interleaved, each agreeing with Kiln before it is timed', async () => {
    // Interleaved, as pnpm bench runs them: tfjs-cpu and tfjs-wasm alive at once, switching backends.
    const records = await runWorkloads(tinyWorkloads(), { ...ONCE, repetitions: 2, maxRepetitions: 2, interleave: true });
    expect(tf.memory().numTensors).toBe(0); // every tfjs run tidied, every setup torn down
    const problems = records.filter((r) => r.failed !== undefined || r.skipped !== undefined).map((r) => `${r.workload} / ${r.implementation}: ${r.failed ?? r.skipped}`);
    expect(problems).toEqual([]);
    expect(records.every((r) => r.samples === 2)).toBe(true);
    const names = (w: string) => records.filter((r) => r.workload === w).map((r) => r.implementation);
    expect(names('matmul-16')).toEqual(['kiln-eager-cpu', 'tfjs-cpu', 'tfjs-wasm', 'jax-js-eager', 'onnxruntime-node-cpu', 'onnxruntime-node-cpu-1-thread']);
    expect(names('cnn-inference')).toEqual(['tfjs-cpu', 'tfjs-wasm', 'jax-js-eager', 'jax-js-jit', 'onnxruntime-node-cpu', 'onnxruntime-node-cpu-1-thread']);
    expect(names('eager-dispatch-add')).toEqual(['kiln-eager-cpu', 'tfjs-cpu', 'tfjs-wasm', 'jax-js-eager']);
    expect(names('compiled-mlp-train-step-12-8-8-5')).toEqual(expect.arrayContaining(['tfjs-cpu', 'tfjs-wasm', 'jax-js-eager', 'jax-js-jit']));
  }, 60_000);

  it('are marked failed, not timed, when they disagree with Kiln (negative control: a corrupted reference)', async () => {
    const problem = matmulProblem(8);
    problem.want[5] += 0.5;
    const before = tf.memory().numTensors;
    const records = await runWorkloads(withPeers([{ ...matmulSquare(8), implementations: [] }]), ONCE);
    expect(tf.memory().numTensors).toBe(before); // a failed check frees what its setup made
    expect(records.map((r) => r.implementation)).toEqual(['tfjs-cpu', 'tfjs-wasm', 'jax-js-eager', 'onnxruntime-node-cpu', 'onnxruntime-node-cpu-1-thread']);
    for (const r of records) {
      expect(r.failed).toMatch(/differs from Kiln's result by 0\.0[0-9]+ \(scaled\), more than the tolerance 0\.0001/);
      expect(r.samples).toBe(0);
      expect(r.medianMs).toBeNull();
    }
  }, 30_000);

  it('report the threads each peer uses here (tfjs-wasm and jax-js single-threaded in Node)', async () => {
    const threads = await peerThreads();
    expect(Object.keys(threads)).toEqual(['tfjs-cpu', 'tfjs-wasm', 'jax-js', 'onnxruntime-node-cpu', 'onnxruntime-node-cpu-1-thread']);
    expect(threads['tfjs-wasm']).toMatch(/^1 /);
    expect(threads['jax-js']).toMatch(/^1 /);
  });

  it('attach nothing to a workload no peer implements', () => {
    expect(peersFor({ name: 'scan-rnn-train-step-1', params: {} })).toEqual([]);
  });
});

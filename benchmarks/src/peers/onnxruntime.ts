/**
 * onnxruntime-node peers: inference on Kiln's own ONNX exports. Setup rebuilds the problem's
 * Kiln subject (same seed, same weights and inputs), `compile()`s its function, exports it with
 * `exportOnnx`, opens an `InferenceSession` (graph optimizations on) and checks the session's
 * output against Kiln's eager result before anything is timed. Two variants: onnxruntime's default
 * thread count (all cores) and one thread.
 */
import * as tracer from '@kiln/tracer';
import * as ort from 'onnxruntime-node';
import { cpus } from 'node:os';
import type { Implementation } from '../harness.js';
import { expectClose, type KilnSubject } from './problems.js';

/** Thread counts, for the report. */
export function onnxruntimeThreads(): Record<string, string> {
  return { 'onnxruntime-node-cpu': `onnxruntime's default intra-op pool (${cpus().length} cores here)`, 'onnxruntime-node-cpu-1-thread': '1 (intraOpNumThreads 1)' };
}

interface State { readonly run: () => Promise<void>; readonly release: () => Promise<void> }

/**
 * onnxruntime-node running `exportOnnx` of the subject's compiled function.
 * `subject` builds the Kiln side (called once, in setup); `want` is Kiln's eager output.
 */
export function onnxImplementation(subject: () => KilnSubject, want: () => ArrayLike<number>, tolerance: number, threads?: 1): Implementation<State> {
  return {
    name: threads === 1 ? 'onnxruntime-node-cpu-1-thread' : 'onnxruntime-node-cpu',
    setup: async () => {
      const s = subject();
      try {
        const names = s.inputs.map((_, i) => `x${i}`);
        const compiled = tracer.compile(s.forward);
        const file = tracer.exportOnnx(compiled, [...s.inputs], { ...(s.module ? { names: s.module } : {}), inputNames: names, outputNames: ['y'] });
        const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', ...(threads === 1 ? { intraOpNumThreads: 1, interOpNumThreads: 1 } : {}) };
        const session = await ort.InferenceSession.create(file, options);
        const feeds: Record<string, ort.Tensor> = {};
        s.inputs.forEach((t, i) => (feeds[names[i]] = new ort.Tensor('float32', Float32Array.from(t.dataSync() as ArrayLike<number>), [...t.shape])));
        const got = (await session.run(feeds)).y.data as Float32Array;
        expectClose(`onnxruntime-node${threads === 1 ? ' (1 thread)' : ''}`, got, want(), tolerance);
        return { run: async () => void (await session.run(feeds)), release: () => session.release() };
      } finally {
        s.dispose();
      }
    },
    run: (s) => s.run(),
    teardown: (s) => s.release(),
  };
}

/** Both thread settings. */
export function onnxImplementations(subject: () => KilnSubject, want: () => ArrayLike<number>, tolerance: number): Implementation[] {
  return [onnxImplementation(subject, want, tolerance), onnxImplementation(subject, want, tolerance, 1)];
}

/**
 * TensorFlow.js peers (`@tensorflow/tfjs` 4.22): the `cpu` backend (plain JavaScript kernels)
 * and the `wasm` backend (XNNPACK, WebAssembly SIMD; single-threaded under Node, where tfjs
 * turns threads off). Every run is inside `tf.tidy` (or disposes its result), so nothing leaks
 * across repetitions; setup checks the result against Kiln's before anything is timed.
 *
 * Layouts are tfjs's own: dense weights [in, out], images NHWC, filters HWIO; the problems'
 * PyTorch-layout weights are rearranged once in setup (not timed).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { Implementation } from '../harness.js';
import {
  DISPATCH, TOLERANCE, chainProblem, cnnProblem, expectClose, matmulProblem, mlpProblem, transformerProblem, transposed,
  type CnnShape, type DenseLayer, type TransformerShape,
} from './problems.js';

export type TfjsBackend = 'cpu' | 'wasm';

let prod = false;
async function use(backend: TfjsBackend): Promise<void> {
  if (!prod) {
    // Production mode: no debug checks, and no banner recommending tfjs-node in every run.
    prod = true;
    tf.enableProdMode();
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs: the ${backend} backend did not start`);
  await tf.ready();
}

/** Thread counts, for the report: tfjs-cpu is plain JavaScript; tfjs-wasm uses threads only where its flag says it may (not in Node). */
export async function tfjsThreads(): Promise<Record<string, string>> {
  // tfjs evaluates this flag asynchronously (getBool throws until something awaited it).
  const threaded = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true;
  return { 'tfjs-cpu': '1 (JavaScript kernels)', 'tfjs-wasm': threaded ? 'multi-threaded (WASM_HAS_MULTITHREAD_SUPPORT)' : '1 (WASM_HAS_MULTITHREAD_SUPPORT is false: tfjs runs no WebAssembly threads in Node)' };
}

/** What a builder makes: the timed run, the tensors to dispose, and the check against Kiln (run once in setup, before any timing). */
interface State { readonly run: () => void; readonly tensors: tf.Tensor[]; readonly check: () => void; readonly dispose?: () => void }

function release(state: State): void {
  tf.dispose(state.tensors);
  state.dispose?.();
}

type Counts = { warmup?: number; repetitions?: number };
/** tfjs-cpu's plain JavaScript kernels take seconds on the large workloads; --quick keeps it only where a target names it. */
const SLOW_CPU = { skipWhenQuick: "tfjs-cpu's JavaScript kernels take seconds here, and no target compares with it" };

/** Where tfjs-cpu is slow (hundreds of ms to seconds a run), it gets fewer runs than the workload's default. */
function impl(backend: TfjsBackend, build: () => State | Promise<State>, counts: Counts = {}, slowOnCpu = true): Implementation<State> {
  const slow = backend === 'cpu' && slowOnCpu;
  return {
    name: `tfjs-${backend}`,
    ...(slow ? { warmup: 1, repetitions: 5, ...SLOW_CPU } : {}),
    ...counts,
    setup: async () => {
      await use(backend);
      const state = await build();
      try {
        state.check();
      } catch (error) {
        release(state); // the harness tears down only what setup returned
        throw error;
      }
      return state;
    },
    // Interleaved with other implementations, the other tfjs backend may be the active one now.
    run: (s) => (tf.getBackend() === backend ? s.run() : use(backend).then(() => s.run())),
    teardown: (s) => release(s),
  };
}

const read = (t: tf.Tensor): Float32Array => t.dataSync() as Float32Array;

/** n×n @ n×n, read back. The cpu backend's 1024 takes seconds a run: fewer repetitions. */
export function tfjsMatmul(backend: TfjsBackend, n: number): Implementation {
  const slow = backend === 'cpu' && n >= 1024 ? { warmup: 0, repetitions: 3 } : {};
  const quick = n <= 256; // matmul-256 keeps tfjs-cpu in --quick: it is fast enough there
  return impl(backend, () => {
    const p = matmulProblem(n);
    const a = tf.tensor2d(p.a, [n, n]);
    const b = tf.tensor2d(p.b, [n, n]);
    const check = () => tf.tidy(() => expectClose(`tfjs-${backend} matmul ${n}`, read(tf.matMul(a, b)), p.want, TOLERANCE.matmul));
    return { check, tensors: [a, b], run: () => tf.tidy(() => void read(tf.matMul(a, b))) };
  }, slow, !quick);
}

function dense(layers: readonly DenseLayer[]) {
  return layers.map((l) => ({ w: tf.tensor2d(transposed(l.weight, l.outputs, l.inputs), [l.inputs, l.outputs]), b: tf.tensor1d(l.bias) }));
}

function mlpForward(layers: readonly { w: tf.Tensor; b: tf.Tensor }[], x: tf.Tensor): tf.Tensor {
  let h = x;
  layers.forEach(({ w, b }, i) => {
    h = tf.add(tf.matMul(h, w), b);
    if (i + 1 < layers.length) h = tf.relu(h);
  });
  return h;
}

/** MLP inference: the logits read back. */
export function tfjsMlpInference(backend: TfjsBackend, sizes: readonly number[], batch: number): Implementation {
  return impl(backend, () => {
    const p = mlpProblem(sizes, batch);
    const layers = dense(p.layers);
    const x = tf.tensor2d(p.x, [batch, sizes[0]]);
    const check = () => tf.tidy(() => expectClose(`tfjs-${backend} MLP logits`, read(mlpForward(layers, x)), p.logits, TOLERANCE.mlp));
    return { check, tensors: [x, ...layers.flatMap((l) => [l.w, l.b])], run: () => tf.tidy(() => void read(mlpForward(layers, x))) };
  });
}

/** One SGD step (`tf.train.sgd(lr).minimize`): forward, mean cross-entropy, gradients, update; the loss read back. */
export function tfjsMlpTrainStep(backend: TfjsBackend, sizes: readonly number[], batch: number): Implementation {
  return impl(backend, () => {
    const p = mlpProblem(sizes, batch);
    const layers = tf.tidy(() => dense(p.layers).map(({ w, b }) => ({ w: tf.variable(w), b: tf.variable(b) })));
    const x = tf.tensor2d(p.x, [batch, sizes[0]]);
    const oneHot = tf.tensor2d(p.oneHot, [batch, sizes[sizes.length - 1]]);
    const optimizer = tf.train.sgd(p.lr);
    const vars = layers.flatMap((l) => [l.w, l.b]);
    const loss = () => tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(mlpForward(layers, x))), 1))) as tf.Scalar;
    const step = () => tf.tidy(() => read(optimizer.minimize(loss, true, vars)!)[0]);
    const check = () => {
      expectClose(`tfjs-${backend} MLP training losses`, [step(), step()], p.losses, TOLERANCE.mlp);
      p.trained.forEach((l, i) => {
        expectClose(`tfjs-${backend} MLP layer ${i} weight after 2 steps`, read(layers[i].w), transposed(l.weight, l.outputs, l.inputs), TOLERANCE.mlp);
        expectClose(`tfjs-${backend} MLP layer ${i} bias after 2 steps`, read(layers[i].b), l.bias, TOLERANCE.mlp);
      });
    };
    return { check, tensors: [x, oneHot, ...vars], run: () => void step(), dispose: () => optimizer.dispose() };
  });
}

/** gelu_tanh(z) = 0.5·z·(1 + tanh(√(2/π)·(z + 0.044715·z³))), z = x·1.5 + 0.5, plus x (tfjs has no gelu op). */
function chain(x: tf.Tensor): tf.Tensor {
  const z = tf.add(tf.mul(x, 1.5), 0.5);
  const inner = tf.mul(tf.add(z, tf.mul(tf.mul(tf.mul(z, z), z), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.add(tf.mul(tf.mul(z, 0.5), tf.add(tf.tanh(inner), 1)), x);
}

/** The elementwise chain on n float32, read back. */
export function tfjsChain(backend: TfjsBackend, n: number): Implementation {
  return impl(backend, () => {
    const p = chainProblem(n);
    const x = tf.tensor1d(p.x);
    const check = () => tf.tidy(() => expectClose(`tfjs-${backend} gelu chain`, read(chain(x)), p.want, TOLERANCE.chain));
    return { check, tensors: [x], run: () => tf.tidy(() => void read(chain(x))) };
  }, {}, false);
}

/** `ops` eager adds of two float32[4], each result disposed (as Kiln's dispatch workload). */
export function tfjsDispatch(backend: TfjsBackend, ops: number): Implementation {
  return impl(backend, () => {
    const a = tf.tensor1d(DISPATCH.a);
    const b = tf.tensor1d(DISPATCH.b);
    const check = () => tf.tidy(() => expectClose(`tfjs-${backend} add`, read(tf.add(a, b)), DISPATCH.want, TOLERANCE.dispatch));
    return { check,
      tensors: [a, b],
      run: () => {
        for (let i = 0; i < ops; i++) tf.add(a, b).dispose();
      },
    };
  }, {}, false);
}

/** The small CNN's inference in NHWC (tfjs's layout): conv2d, relu, conv2d, relu, maxPool, a dense layer. */
export function tfjsCnn(backend: TfjsBackend, shape: CnnShape): Implementation {
  return impl(backend, () => {
    const p = cnnProblem(shape);
    const { batch, size, conv1, conv2, classes } = shape;
    const q = p.pooled;
    const [x, f1, f2, w] = tf.tidy(() => [
      tf.transpose(tf.tensor4d(p.x, [batch, 1, size, size]), [0, 2, 3, 1]),
      tf.transpose(tf.tensor4d(p.conv1.weight, [conv1, 1, 3, 3]), [2, 3, 1, 0]),
      tf.transpose(tf.tensor4d(p.conv2.weight, [conv2, conv1, 3, 3]), [2, 3, 1, 0]),
      // Kiln flattens (c, h, w); NHWC flattens (h, w, c): reorder the dense weight's inputs to match.
      tf.reshape(tf.transpose(tf.tensor4d(p.linear.weight, [classes, conv2, q, q]), [2, 3, 1, 0]), [q * q * conv2, classes]),
    ]);
    const b1 = tf.tensor1d(p.conv1.bias);
    const b2 = tf.tensor1d(p.conv2.bias);
    const bw = tf.tensor1d(p.linear.bias);
    const forward = () => {
      const h1 = tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, f1 as tf.Tensor4D, 1, 'valid'), b1));
      const h2 = tf.relu(tf.add(tf.conv2d(h1 as tf.Tensor4D, f2 as tf.Tensor4D, 1, 'valid'), b2));
      const pooled = tf.maxPool(h2 as tf.Tensor4D, 2, 2, 'valid');
      return tf.add(tf.matMul(tf.reshape(pooled, [batch, q * q * conv2]), w), bw);
    };
    const check = () => tf.tidy(() => expectClose(`tfjs-${backend} CNN logits`, read(forward()), p.logits, TOLERANCE.cnn));
    return { check, tensors: [x, f1, f2, w, b1, b2, bw], run: () => tf.tidy(() => void read(forward())) };
  });
}

/** nn.TransformerEncoderLayer's forward (eval, post-LN, ReLU) written with tfjs ops: fused q/k/v projection, 4-D batched matmuls. */
export function tfjsTransformer(backend: TfjsBackend, shape: TransformerShape): Implementation {
  return impl(backend, () => {
    const p = transformerProblem(shape);
    const { seq, width, heads, ff, batch } = shape;
    const hd = width / heads;
    const rows = batch * seq;
    const lin = (l: DenseLayer) => ({ w: tf.tensor2d(transposed(l.weight, l.outputs, l.inputs), [l.inputs, l.outputs]), b: tf.tensor1d(l.bias) });
    const inProj = lin({ inputs: width, outputs: 3 * width, weight: p.inProj.weight, bias: p.inProj.bias });
    const [out, l1, l2] = [p.outProj, p.linear1, p.linear2].map(lin);
    const [n1, n2] = [p.norm1, p.norm2].map((n) => ({ g: tf.tensor1d(n.weight), b: tf.tensor1d(n.bias) }));
    const x = tf.tensor2d(p.x, [rows, width]);
    const affine = (h: tf.Tensor, l: { w: tf.Tensor; b: tf.Tensor }) => tf.add(tf.matMul(h, l.w), l.b);
    const norm = (h: tf.Tensor, n: { g: tf.Tensor; b: tf.Tensor }) => {
      const { mean, variance } = tf.moments(h, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, p.eps))), n.g), n.b);
    };
    const splitHeads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [batch, seq, heads, hd]), [0, 2, 1, 3]);
    const forward = () => {
      const [q, k, v] = tf.split(affine(x, inProj), 3, 1).map(splitHeads);
      const weights = tf.softmax(tf.matMul(tf.div(q, Math.sqrt(hd)), k, false, true));
      const attended = tf.reshape(tf.transpose(tf.matMul(weights, v), [0, 2, 1, 3]), [rows, width]);
      const h = norm(tf.add(x, affine(attended, out)), n1);
      return norm(tf.add(h, affine(tf.relu(affine(h, l1)), l2)), n2);
    };
    const check = () => tf.tidy(() => expectClose(`tfjs-${backend} Transformer block`, read(forward()), p.want, TOLERANCE.transformer));
    const tensors = [x, ...[inProj, out, l1, l2].flatMap((l) => [l.w, l.b]), ...[n1, n2].flatMap((n) => [n.g, n.b])];
    return { check, tensors, run: () => tf.tidy(() => void read(forward())) };
  });
}

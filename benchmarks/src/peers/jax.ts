/**
 * jax-js peers (`@jax-js/jax` 0.1.25) on its `wasm` device: `jax-js-eager` runs the ops one by
 * one, `jax-js-jit` runs the same function through `jit` (traced and fused once, in setup's
 * correctness check). Under Node 20, `init()` with no argument crashes (no `navigator`), so this
 * calls `init('wasm')`; there is no global `Worker` in Node, so jax-js runs single-threaded.
 *
 * jax-js arrays are reference-counted and every op takes ownership of its arguments: a value
 * used twice is passed as `.ref` the first time, and `dataSync()` consumes its array. The
 * functions below follow those rules, so nothing leaks across repetitions.
 */
import { init, jit, lax, nn, numpy as np, tree, valueAndGrad, type Array as JaxArray } from '@jax-js/jax';
import type { Implementation } from '../harness.js';
import {
  DISPATCH, TOLERANCE, chainProblem, cnnProblem, expectClose, matmulProblem, mlpProblem, transformerProblem, transposed,
  type CnnShape, type DenseLayer, type TransformerShape,
} from './problems.js';

export type JaxMode = 'eager' | 'jit';

let started: Promise<unknown> | undefined;
function start(): Promise<unknown> {
  started ??= init('wasm');
  return started;
}

/** Thread counts, for the report. */
export function jaxThreads(): Record<string, string> {
  const workers = typeof (globalThis as { Worker?: unknown }).Worker === 'function';
  return { 'jax-js': workers ? 'wasm device, threads where SharedArrayBuffer and Worker exist' : '1 (no global Worker in Node: single-threaded wasm)' };
}

/** What a builder makes: the timed run, how to free its arrays, and the check against Kiln (run once in setup, before any timing). */
interface State { readonly run: () => void; readonly dispose: () => void; readonly check: () => void }

function impl(mode: JaxMode, build: () => State, counts: { warmup?: number; repetitions?: number } = {}): Implementation<State> {
  return {
    name: `jax-js-${mode}`,
    ...counts,
    setup: async () => {
      await start();
      const state = build();
      try {
        state.check();
      } catch (error) {
        state.dispose(); // the harness tears down only what setup returned
        throw error;
      }
      return state;
    },
    run: (s) => s.run(),
    teardown: (s) => s.dispose(),
  };
}

const array = (data: Float32Array, shape: number[]): JaxArray => np.array(data).reshape(shape);
const read = (a: JaxArray): Float32Array => a.dataSync() as Float32Array;
/** `f` itself eagerly, or `jit(f)`; the caller owns what it returns. */
function staged<F extends (...args: never[]) => unknown>(mode: JaxMode, f: F): F {
  return mode === 'jit' ? (jit(f as never) as unknown as F) : f;
}

/** n×n @ n×n, read back. A single op, so only eager (jit adds nothing to one matmul). */
export function jaxMatmul(n: number): Implementation {
  return impl('eager', () => {
    const p = matmulProblem(n);
    const a = array(p.a, [n, n]);
    const b = array(p.b, [n, n]);
    const check = () => expectClose(`jax-js matmul ${n}`, read(np.matmul(a.ref, b.ref)), p.want, TOLERANCE.matmul);
    return { check, run: () => void read(np.matmul(a.ref, b.ref)), dispose: () => tree.dispose([a, b]) };
  });
}

type Mlp = { w: JaxArray[]; b: JaxArray[] };

function mlpParams(layers: readonly DenseLayer[]): Mlp {
  return { w: layers.map((l) => array(transposed(l.weight, l.outputs, l.inputs), [l.inputs, l.outputs])), b: layers.map((l) => array(l.bias, [l.outputs])) };
}

function mlpForward(params: Mlp, x: JaxArray): JaxArray {
  let h = x;
  params.w.forEach((w, i) => {
    h = np.matmul(h, w).add(params.b[i]);
    if (i + 1 < params.w.length) h = nn.relu(h);
  });
  return h;
}

/** MLP inference: the logits read back. */
export function jaxMlpInference(mode: JaxMode, sizes: readonly number[], batch: number): Implementation {
  return impl(mode, () => {
    const p = mlpProblem(sizes, batch);
    const params = mlpParams(p.layers);
    const x = array(p.x, [batch, sizes[0]]);
    const forward = staged(mode, mlpForward);
    const check = () => expectClose(`jax-js-${mode} MLP logits`, read(forward(tree.ref(params), x.ref)), p.logits, TOLERANCE.mlp);
    return { check, run: () => void read(forward(tree.ref(params), x.ref)), dispose: () => tree.dispose([params, x]) };
  });
}

function mlpLoss(params: Mlp, x: JaxArray, oneHot: JaxArray): JaxArray {
  return nn.logSoftmax(mlpForward(params, x), -1).mul(oneHot).sum(-1).mean().neg();
}

/** One SGD step: `valueAndGrad` of the mean cross-entropy, then params − lr·grads; the loss read back. */
export function jaxMlpTrainStep(mode: JaxMode, sizes: readonly number[], batch: number): Implementation {
  return impl(mode, () => {
    const p = mlpProblem(sizes, batch);
    const x = array(p.x, [batch, sizes[0]]);
    const oneHot = array(p.oneHot, [batch, sizes[sizes.length - 1]]);
    const step = staged(mode, (params: Mlp, xs: JaxArray, targets: JaxArray): [JaxArray, Mlp] => {
      const [loss, grads] = valueAndGrad(mlpLoss)(tree.ref(params), xs, targets);
      return [loss, tree.map((w: JaxArray, g: JaxArray) => w.sub(g.mul(p.lr)), params, grads as Mlp) as Mlp];
    });
    const state = { params: mlpParams(p.layers) };
    const once = (): number => {
      const [loss, next] = step(state.params, x.ref, oneHot.ref);
      state.params = next;
      return read(loss)[0];
    };
    const check = () => {
      expectClose(`jax-js-${mode} MLP training losses`, [once(), once()], p.losses, TOLERANCE.mlp);
      p.trained.forEach((l, i) => {
        expectClose(`jax-js-${mode} MLP layer ${i} weight after 2 steps`, read(state.params.w[i].ref), transposed(l.weight, l.outputs, l.inputs), TOLERANCE.mlp);
        expectClose(`jax-js-${mode} MLP layer ${i} bias after 2 steps`, read(state.params.b[i].ref), l.bias, TOLERANCE.mlp);
      });
    };
    return { check, run: () => void once(), dispose: () => tree.dispose([state.params, x, oneHot]) };
  });
}

const chain = (x: JaxArray): JaxArray => nn.gelu(x.ref.mul(1.5).add(0.5), { approximate: true }).add(x);

/** The elementwise chain on n float32 (`nn.gelu` with `approximate: true` is the tanh form), read back. */
export function jaxChain(mode: JaxMode, n: number): Implementation {
  return impl(mode, () => {
    const p = chainProblem(n);
    const x = array(p.x, [n]);
    const f = staged(mode, chain);
    const check = () => expectClose(`jax-js-${mode} gelu chain`, read(f(x.ref)), p.want, TOLERANCE.chain);
    return { check, run: () => void read(f(x.ref)), dispose: () => x.dispose() };
  });
}

/** `ops` eager adds of two float32[4], each result disposed (as Kiln's dispatch workload). */
export function jaxDispatch(ops: number): Implementation {
  return impl('eager', () => {
    const a = array(DISPATCH.a, [4]);
    const b = array(DISPATCH.b, [4]);
    const check = () => expectClose('jax-js add', read(a.ref.add(b.ref)), DISPATCH.want, TOLERANCE.dispatch);
    return { check,
      run: () => {
        for (let i = 0; i < ops; i++) a.ref.add(b.ref).dispose();
      },
      dispose: () => tree.dispose([a, b]),
    };
  });
}

type Cnn = { w1: JaxArray; b1: JaxArray; w2: JaxArray; b2: JaxArray; w: JaxArray; b: JaxArray };

/** The small CNN's inference in NCHW / OIHW (jax's `lax.conv` layout); the 2×2 max-pool as a reshape and a max. */
export function jaxCnn(mode: JaxMode, shape: CnnShape): Implementation {
  return impl(mode, () => {
    const p = cnnProblem(shape);
    const { batch, size, conv1, conv2, classes } = shape;
    const q = p.pooled;
    const flat = conv2 * q * q;
    const params: Cnn = {
      w1: array(p.conv1.weight, [conv1, 1, 3, 3]), b1: array(p.conv1.bias, [conv1, 1, 1]),
      w2: array(p.conv2.weight, [conv2, conv1, 3, 3]), b2: array(p.conv2.bias, [conv2, 1, 1]),
      w: array(transposed(p.linear.weight, classes, flat), [flat, classes]), b: array(p.linear.bias, [classes]),
    };
    const x = array(p.x, [batch, 1, size, size]);
    const forward = staged(mode, (c: Cnn, input: JaxArray): JaxArray => {
      const h1 = nn.relu(lax.conv(input, c.w1, [1, 1], 'VALID').add(c.b1));
      const h2 = nn.relu(lax.conv(h1, c.w2, [1, 1], 'VALID').add(c.b2));
      const pooled = h2.slice([], [], [0, 2 * q], [0, 2 * q]).reshape([batch, conv2, q, 2, q, 2]).max([3, 5]);
      return np.matmul(pooled.reshape([batch, flat]), c.w).add(c.b);
    });
    const check = () => expectClose(`jax-js-${mode} CNN logits`, read(forward(tree.ref(params), x.ref)), p.logits, TOLERANCE.cnn);
    return { check, run: () => void read(forward(tree.ref(params), x.ref)), dispose: () => tree.dispose([params, x]) };
  });
}

type Block = { wIn: JaxArray; bIn: JaxArray; wOut: JaxArray; bOut: JaxArray; w1: JaxArray; b1: JaxArray; w2: JaxArray; b2: JaxArray; g1: JaxArray; n1: JaxArray; g2: JaxArray; n2: JaxArray };

/** nn.TransformerEncoderLayer's forward (eval, post-LN, ReLU) with jax-js ops. */
export function jaxTransformer(mode: JaxMode, shape: TransformerShape): Implementation {
  return impl(mode, () => {
    const p = transformerProblem(shape);
    const { seq, width, heads, batch } = shape;
    const hd = width / heads;
    const rows = batch * seq;
    const w = (l: { weight: Float32Array }, inputs: number, outputs: number) => array(transposed(l.weight, outputs, inputs), [inputs, outputs]);
    const params: Block = {
      wIn: w(p.inProj, width, 3 * width), bIn: array(p.inProj.bias, [3 * width]),
      wOut: w(p.outProj, width, width), bOut: array(p.outProj.bias, [width]),
      w1: w(p.linear1, width, shape.ff), b1: array(p.linear1.bias, [shape.ff]),
      w2: w(p.linear2, shape.ff, width), b2: array(p.linear2.bias, [width]),
      g1: array(p.norm1.weight, [width]), n1: array(p.norm1.bias, [width]),
      g2: array(p.norm2.weight, [width]), n2: array(p.norm2.bias, [width]),
    };
    const x = array(p.x, [rows, width]);
    const forward = staged(mode, (b: Block, input: JaxArray): JaxArray => {
      const norm = (h: JaxArray, g: JaxArray, beta: JaxArray) => nn.standardize(h, -1, { epsilon: p.eps }).mul(g).add(beta);
      const qkv = np.matmul(input.ref, b.wIn).add(b.bIn);
      const [q, k, v] = np.split(qkv, 3, 1).map((t) => t.reshape([batch, seq, heads, hd]).transpose([0, 2, 1, 3]));
      const weights = nn.softmax(np.matmul(q.mul(1 / Math.sqrt(hd)), k.transpose([0, 1, 3, 2])), -1);
      const attended = np.matmul(weights, v).transpose([0, 2, 1, 3]).reshape([rows, width]);
      const h = norm(input.add(np.matmul(attended, b.wOut).add(b.bOut)), b.g1, b.n1);
      const ffn = np.matmul(nn.relu(np.matmul(h.ref, b.w1).add(b.b1)), b.w2).add(b.b2);
      return norm(h.add(ffn), b.g2, b.n2);
    });
    const check = () => expectClose(`jax-js-${mode} Transformer block`, read(forward(tree.ref(params), x.ref)), p.want, TOLERANCE.transformer);
    return { check, run: () => void read(forward(tree.ref(params), x.ref)), dispose: () => tree.dispose([params, x]) };
  });
}

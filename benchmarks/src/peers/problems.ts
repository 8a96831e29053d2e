/**
 * The problems peers solve, as plain Float32Arrays (the same inputs and initial weights for
 * every library), each with Kiln's eager answer as the reference a peer must match before it is
 * timed. Weights keep Kiln's (PyTorch's) layouts: Linear [out, in], Conv2d [out, in, kh, kw];
 * a peer rearranges them into its own layout in its setup. Problems are built once per size and
 * shared by every peer (memoized).
 */
import * as kiln from '@kiln/eager';
import * as nn from '@kiln/nn';
import { MismatchError } from '../harness.js';

type Tensor = ReturnType<typeof kiln.tensor>;

/** A copy of a tensor's float32 data. */
export const f32 = (t: Tensor): Float32Array => Float32Array.from(t.dataSync() as ArrayLike<number>);

/**
 * The largest |got − want| over the larger of 1 and the largest |want|: an error relative to the
 * result's scale, so values near zero do not blow it up. Infinity when the lengths differ.
 */
export function scaledError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Number.POSITIVE_INFINITY;
  let scale = 1;
  let diff = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    const d = Math.abs(got[i] - want[i]);
    diff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(diff, d);
  }
  return diff / scale;
}

/** Throws a {@link MismatchError} when `got` differs from Kiln's `want` by more than `tolerance` ({@link scaledError}). */
export function expectClose(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number): void {
  const e = scaledError(got, want);
  if (!(e <= tolerance)) {
    const lengths = got.length === want.length ? '' : ` (${got.length} values, Kiln has ${want.length})`;
    throw new MismatchError(`${what}: differs from Kiln's result by ${e.toPrecision(3)} (scaled), more than the tolerance ${tolerance}${lengths}`);
  }
}

/** Tolerances per workload (scaled error, see {@link scaledError}): float32 with a different summation order or tanh. */
export const TOLERANCE = { matmul: 1e-4, mlp: 1e-4, chain: 1e-5, dispatch: 0, cnn: 1e-4, transformer: 1e-4 } as const;

const memo = new Map<string, unknown>();
function memoized<T>(key: string, build: () => T): T {
  if (!memo.has(key)) memo.set(key, kiln.tidy(build));
  return memo.get(key) as T;
}

export interface MatmulProblem { readonly n: number; readonly a: Float32Array; readonly b: Float32Array; readonly want: Float32Array }

/**
 * A problem as Kiln objects: the function, its inputs and the module holding its weights. The
 * same seed gives the same values every time, so a peer that runs Kiln's own exports (onnxruntime)
 * rebuilds it, and the Float32Array problems below are read from it.
 */
export interface KilnSubject {
  readonly forward: (...inputs: Tensor[]) => Tensor;
  readonly inputs: readonly Tensor[];
  readonly module?: nn.Module;
  dispose(): void;
}

function subject(forward: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], module?: nn.Module): KilnSubject {
  return { forward, inputs, module, dispose: () => (inputs.forEach((t) => t.dispose()), module?.dispose()) };
}

/** a, b: n×n standard normal; a @ b. */
export function matmulSubject(n: number): KilnSubject {
  kiln.manualSeed(1);
  return subject((a, b) => kiln.matmul(a, b), [kiln.randn([n, n]), kiln.randn([n, n])]);
}

/** want = a @ b. */
export function matmulProblem(n: number): MatmulProblem {
  return memoized(`matmul ${n}`, () => {
    const s = matmulSubject(n);
    const [a, b] = s.inputs;
    const problem = { n, a: f32(a), b: f32(b), want: f32(s.forward(a, b)) };
    s.dispose();
    return problem;
  });
}

export interface DenseLayer { readonly inputs: number; readonly outputs: number; /** [out, in] */ readonly weight: Float32Array; readonly bias: Float32Array }

export interface MlpProblem {
  readonly sizes: readonly number[];
  readonly batch: number;
  readonly lr: number;
  readonly layers: readonly DenseLayer[];
  /** [batch, sizes[0]] */
  readonly x: Float32Array;
  /** Class indices and the same as one-hot rows [batch, classes]. */
  readonly labels: Int32Array;
  readonly oneHot: Float32Array;
  /** Inference logits [batch, classes]. */
  readonly logits: Float32Array;
  /** Losses of two SGD steps from the initial weights, and the layers after them. */
  readonly losses: readonly [number, number];
  readonly trained: readonly DenseLayer[];
}

function mlpModel(sizes: readonly number[]): nn.Sequential {
  const layers: nn.UnaryModule[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    if (i > 0) layers.push(new nn.ReLU());
    layers.push(new nn.Linear(sizes[i], sizes[i + 1]));
  }
  return new nn.Sequential(...layers);
}

function denseLayers(model: nn.Module): DenseLayer[] {
  return model.namedParameters().filter(([name]) => name.endsWith('weight')).map(([name, w]) => {
    const bias = model.namedParameters().find(([n]) => n === name.replace(/weight$/, 'bias'))![1];
    return { inputs: w.shape[1], outputs: w.shape[0], weight: f32(w), bias: f32(bias) };
  });
}

/** An MLP (Linear, ReLU between) with PyTorch's default init from a fixed seed, in eval mode; inputs x [batch, sizes[0]] and class labels y [batch]. */
export function mlpSubject(sizes: readonly number[], batch: number): KilnSubject & { readonly model: nn.Sequential; readonly y: Tensor } {
  kiln.manualSeed(2);
  const model = mlpModel(sizes).eval();
  const x = kiln.randn([batch, sizes[0]]);
  const y = kiln.randint(0, sizes[sizes.length - 1], [batch]);
  return { ...subject((input) => kiln.noGrad(() => model.forward(input)), [x, y], model), inputs: [x], model, y };
}

/** The MLP's logits, and two SGD steps (cross-entropy, mean; lr 0.01) from its initial weights. */
export function mlpProblem(sizes: readonly number[], batch: number): MlpProblem {
  return memoized(`mlp ${sizes.join('-')} ${batch}`, () => {
    const s = mlpSubject(sizes, batch);
    const { model, y } = s;
    const x = s.inputs[0];
    const classes = sizes[sizes.length - 1];
    const labels = Int32Array.from(y.dataSync() as ArrayLike<number>);
    const oneHot = new Float32Array(batch * classes);
    labels.forEach((c, i) => (oneHot[i * classes + c] = 1));
    const layers = denseLayers(model);
    const logits = f32(kiln.noGrad(() => model.forward(x)));
    const lr = 0.01;
    const optimizer = new nn.SGD(model.parameters(), { lr });
    const losses: number[] = [];
    for (let i = 0; i < 2; i++) {
      optimizer.zeroGrad();
      const loss = nn.crossEntropy(model.forward(x), y);
      loss.backward();
      optimizer.step();
      losses.push(loss.item() as number);
    }
    const trained = denseLayers(model);
    const xs = f32(x);
    optimizer.zeroGrad();
    optimizer.dispose();
    s.dispose();
    return { sizes, batch, lr, layers, x: xs, labels, oneHot, logits, losses: [losses[0], losses[1]] as const, trained };
  });
}

export interface ChainProblem { readonly n: number; readonly x: Float32Array; readonly want: Float32Array }

/** x = 2·N(0, 1); gelu_tanh(x·1.5 + 0.5) + x. */
export function chainSubject(n: number): KilnSubject {
  kiln.manualSeed(3);
  return subject((x) => kiln.add(kiln.gelu(kiln.add(kiln.mul(x, 1.5), 0.5), 'tanh'), x), [kiln.mul(kiln.randn([n]), 2)]);
}

export function chainProblem(n: number): ChainProblem {
  return memoized(`chain ${n}`, () => {
    const s = chainSubject(n);
    const x = s.inputs[0];
    const problem = { n, x: f32(x), want: f32(s.forward(x)) };
    s.dispose();
    return problem;
  });
}

/** The two float32[4] operands of the dispatch workload and their sum. */
export const DISPATCH = { a: new Float32Array([1, 2, 3, 4]), b: new Float32Array([5, 6, 7, 8]), want: new Float32Array([6, 8, 10, 12]) } as const;

export interface CnnShape { readonly batch: number; readonly size: number; readonly conv1: number; readonly conv2: number; readonly classes: number }

/** The small CNN: [32, 1, 28, 28] → conv 3×3 (32) + ReLU → conv 3×3 (64) + ReLU → max-pool 2 → linear 10. */
export const CNN_DEFAULT: CnnShape = { batch: 32, size: 28, conv1: 32, conv2: 64, classes: 10 };

export interface CnnProblem {
  readonly shape: CnnShape;
  /** Spatial size after the pool. */
  readonly pooled: number;
  /** NCHW [batch, 1, size, size] */
  readonly x: Float32Array;
  /** OIHW [conv1, 1, 3, 3], [conv2, conv1, 3, 3]; linear [classes, conv2·pooled·pooled] over (c, h, w). */
  readonly conv1: { readonly weight: Float32Array; readonly bias: Float32Array };
  readonly conv2: { readonly weight: Float32Array; readonly bias: Float32Array };
  readonly linear: DenseLayer;
  readonly logits: Float32Array;
}

/** Unpadded stride-1 convolutions, a 2×2 max-pool, flatten in (c, h, w) order, as Kiln's nn layers (workloads/cnn.ts), eval mode. */
export function cnnSubject(shape: CnnShape = CNN_DEFAULT): KilnSubject & { readonly model: nn.Sequential } {
  const pooled = Math.floor((shape.size - 4) / 2);
  kiln.manualSeed(4);
  const model = new nn.Sequential(
    new nn.Conv2d(1, shape.conv1, 3), new nn.ReLU(), new nn.Conv2d(shape.conv1, shape.conv2, 3), new nn.ReLU(),
    new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(shape.conv2 * pooled * pooled, shape.classes),
  ).eval();
  const x = kiln.randn([shape.batch, 1, shape.size, shape.size]);
  return { ...subject((input) => kiln.noGrad(() => model.forward(input)), [x], model), model };
}

export function cnnProblem(shape: CnnShape = CNN_DEFAULT): CnnProblem {
  return memoized(`cnn ${JSON.stringify(shape)}`, () => {
    const s = cnnSubject(shape);
    const x = s.inputs[0];
    const [c1, , c2, , , , fc] = s.model.children() as [nn.Conv2d, unknown, nn.Conv2d, unknown, unknown, unknown, nn.Linear];
    const conv = (c: nn.Conv2d) => ({ weight: f32(c.weight), bias: f32(c.bias!) });
    const pooled = Math.floor((shape.size - 4) / 2);
    const problem = { shape, pooled, x: f32(x), conv1: conv(c1), conv2: conv(c2), linear: denseLayers(fc)[0], logits: f32(s.forward(x)) };
    s.dispose();
    return problem;
  });
}

export interface TransformerShape { readonly seq: number; readonly width: number; readonly heads: number; readonly ff: number; readonly batch: number }

export interface TransformerProblem {
  readonly shape: TransformerShape;
  /** [batch, seq, width] (batch-first) */
  readonly x: Float32Array;
  /** [3·width, width] and [3·width]: the q, k, v projections stacked. */
  readonly inProj: { readonly weight: Float32Array; readonly bias: Float32Array };
  readonly outProj: DenseLayer;
  readonly linear1: DenseLayer;
  readonly linear2: DenseLayer;
  readonly norm1: { readonly weight: Float32Array; readonly bias: Float32Array };
  readonly norm2: { readonly weight: Float32Array; readonly bias: Float32Array };
  readonly eps: number;
  readonly want: Float32Array;
}

/** nn.TransformerEncoderLayer in eval mode: post-LN, ReLU feed-forward, batch-first, LayerNorm eps 1e-5. */
export function transformerSubject(shape: TransformerShape): KilnSubject & { readonly layer: nn.TransformerEncoderLayer } {
  kiln.manualSeed(5);
  const layer = new nn.TransformerEncoderLayer(shape.width, shape.heads, { dimFeedforward: shape.ff, batchFirst: true }).eval();
  const x = kiln.randn([shape.batch, shape.seq, shape.width]);
  return { ...subject((input) => kiln.noGrad(() => layer.forward(input)), [x], layer), layer };
}

export function transformerProblem(shape: TransformerShape): TransformerProblem {
  return memoized(`transformer ${JSON.stringify(shape)}`, () => {
    const s = transformerSubject(shape);
    const { layer } = s;
    const x = s.inputs[0];
    const want = f32(s.forward(x));
    const dense = (l: nn.Linear) => denseLayers(l)[0];
    const norm = (l: nn.LayerNorm) => ({ weight: f32(l.weight!), bias: f32(l.bias!) });
    const attn = layer.selfAttn;
    const problem = {
      shape, x: f32(x), want, eps: 1e-5,
      inProj: { weight: f32(attn.inProjWeight!), bias: f32(attn.inProjBias!) },
      outProj: dense(attn.outProj), linear1: dense(layer.linear1), linear2: dense(layer.linear2),
      norm1: norm(layer.norm1), norm2: norm(layer.norm2),
    };
    s.dispose();
    return problem;
  });
}

/** A row-major [rows, cols] matrix transposed to [cols, rows] (Linear's [out, in] → the [in, out] a plain matmul takes). */
export function transposed(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
  return t;
}

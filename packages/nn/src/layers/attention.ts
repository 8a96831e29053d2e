import type { DType } from '@kiln/core';
import { ArgumentError, DTypeError, isFloating, ShapeError, shapeToString } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { add, cast, div, matmul, mean, permute, reshape, softmax, split, squeeze, tidy, transpose, unsqueeze, where } from '@kiln/eager';
import { dropout, linear } from '../functional.js';
import { xavierUniform, zeros as initZeros } from '../init.js';
import { boolean, checkOptions, newParameter, positiveInt, probability } from '../internal.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';
import { Linear } from './linear.js';

export interface MultiheadAttentionOptions {
  /** Dropout probability on the attention weights, in training mode (default 0). */
  dropout?: number;
  /** Biases on the input and output projections (default true). */
  bias?: boolean;
  /** Feature size of keys (default embedDim). */
  kdim?: number;
  /** Feature size of values (default embedDim). */
  vdim?: number;
  /** Inputs and output are [batch, seq, feature] instead of [seq, batch, feature] (default false). */
  batchFirst?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

export interface AttentionOptions {
  /**
   * Keys to ignore, per batch element: [N, S] ([S] for unbatched input). Bool: true masks the
   * key out; float: added to the attention scores.
   */
  keyPaddingMask?: Tensor | null;
  /** Also return the attention weights (default true). */
  needWeights?: boolean;
  /**
   * Which positions may attend to which: [L, S], or [N·numHeads, L, S] per batch element and
   * head. Bool: true forbids; float: added to the attention scores (e.g. -Infinity above the
   * diagonal for causal attention).
   */
  attnMask?: Tensor | null;
  /** Average the returned weights over heads ([N, L, S]) rather than per head ([N, numHeads, L, S]); default true. */
  averageAttnWeights?: boolean;
}

/**
 * Multi-head scaled dot-product attention (nn.MultiheadAttention): projects query, key and value,
 * attends in `numHeads` heads of size embedDim/numHeads, and projects the concatenated heads
 * back. Returns `[output, weights]` — output [L, N, E] ([N, L, E] with batchFirst; [L, E]
 * unbatched), weights averaged over heads [N, L, S] or null when `needWeights` is false.
 * Parameters as PyTorch: inProjWeight [3E, E] (Xavier-uniform; separate q/k/v weights when kdim or
 * vdim differ from E), inProjBias [3E] (zeros), outProj a Linear(E, E) with zero bias.
 *
 * @example
 * ```ts
 * const mha = new MultiheadAttention(16, 4, { batchFirst: true });
 * const [out, weights] = mha.forward(x, x, x);    // x: [2, 5, 16] → out [2, 5, 16], weights [2, 5, 5]
 * ```
 */
export class MultiheadAttention extends Module {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;
  inProjWeight: Parameter | null;
  qProjWeight: Parameter | null;
  kProjWeight: Parameter | null;
  vProjWeight: Parameter | null;
  inProjBias: Parameter | null;
  outProj: Linear;

  constructor(embedDim: number, numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    const o = checkOptions('MultiheadAttention', options, ['dropout', 'bias', 'kdim', 'vdim', 'batchFirst', 'dtype']);
    this.embedDim = positiveInt('MultiheadAttention', 'embedDim', embedDim);
    this.numHeads = positiveInt('MultiheadAttention', 'numHeads', numHeads);
    if (embedDim % numHeads !== 0) throw new ArgumentError(`MultiheadAttention: embedDim (${embedDim}) must be divisible by numHeads (${numHeads})`);
    this.headDim = embedDim / numHeads;
    this.kdim = positiveInt('MultiheadAttention', 'kdim', o.kdim ?? embedDim);
    this.vdim = positiveInt('MultiheadAttention', 'vdim', o.vdim ?? embedDim);
    this.dropout = probability('MultiheadAttention', 'dropout', o.dropout ?? 0);
    this.batchFirst = boolean('MultiheadAttention', 'batchFirst', o.batchFirst, false);
    const bias = boolean('MultiheadAttention', 'bias', o.bias, true);
    const packed = this.kdim === embedDim && this.vdim === embedDim;
    this.inProjWeight = packed ? newParameter([3 * embedDim, embedDim], o.dtype) : null;
    this.qProjWeight = packed ? null : newParameter([embedDim, embedDim], o.dtype);
    this.kProjWeight = packed ? null : newParameter([embedDim, this.kdim], o.dtype);
    this.vProjWeight = packed ? null : newParameter([embedDim, this.vdim], o.dtype);
    this.inProjBias = bias ? newParameter([3 * embedDim], o.dtype) : null;
    this.outProj = new Linear(embedDim, embedDim, { bias, dtype: o.dtype });
    this.resetParameters();
  }

  /** Xavier-uniform projection weights, zero biases (the output projection's weight as Linear's). */
  resetParameters(): void {
    for (const w of [this.inProjWeight, this.qProjWeight, this.kProjWeight, this.vProjWeight]) if (w) xavierUniform(w);
    if (this.inProjBias) initZeros(this.inProjBias);
    if (this.outProj.bias) initZeros(this.outProj.bias);
  }

  forward(query: Tensor, key: Tensor, value: Tensor, options: AttentionOptions = {}): [Tensor, Tensor | null] {
    const o = checkOptions('MultiheadAttention', options, ['keyPaddingMask', 'needWeights', 'attnMask', 'averageAttnWeights']);
    const needWeights = boolean('MultiheadAttention', 'needWeights', o.needWeights, true);
    const average = boolean('MultiheadAttention', 'averageAttnWeights', o.averageAttnWeights, true);
    const dims = this.#checkShapes(query, key, value, o.keyPaddingMask ?? null, o.attnMask ?? null);
    const { batched, n, l, s } = dims;
    const h = this.numHeads;
    return tidy(() => {
      // Everything below works on batch-first, batched tensors.
      const toInternal = (t: Tensor) => (!batched ? unsqueeze(t, 0) : this.batchFirst ? t : transpose(t, 0, 1));
      const [q0, k0, v0] = [query, key, value].map(toInternal);
      const [wq, wk, wv] = this.inProjWeight ? split(this.inProjWeight, this.embedDim, 0) : [this.qProjWeight!, this.kProjWeight!, this.vProjWeight!];
      const [bq, bk, bv] = this.inProjBias ? split(this.inProjBias, this.embedDim, 0) : [null, null, null];
      const heads = (t: Tensor, len: number) => permute(reshape(t, [n, len, h, this.headDim]), [0, 2, 1, 3]); // [N, H, len, hd]
      const q = heads(linear(q0, wq, bq), l);
      const k = heads(linear(k0, wk, bk), s);
      const v = heads(linear(v0, wv, bv), s);
      let scores = matmul(div(q, Math.sqrt(this.headDim)), transpose(k, -2, -1)); // [N, H, L, S]
      const attnMask = o.attnMask ?? null;
      if (attnMask) scores = add(scores, additive(attnMask.rank === 3 ? reshape(attnMask, [n, h, l, s]) : attnMask, scores.dtype));
      const kpm = o.keyPaddingMask ?? null;
      if (kpm) scores = add(scores, additive(reshape(kpm, [n, 1, 1, s]), scores.dtype));
      let weights = softmax(scores, -1);
      if (this.training && this.dropout > 0) weights = dropout(weights, this.dropout, true);
      const attended = reshape(permute(matmul(weights, v), [0, 2, 1, 3]), [n, l, this.embedDim]);
      let out = this.outProj.forward(attended);
      out = !batched ? squeeze(out, 0) : this.batchFirst ? out : transpose(out, 0, 1);
      if (!needWeights) return [out, null];
      let w = average ? mean(weights, 1) : weights;
      if (!batched) w = squeeze(w, 0);
      return [out, w];
    });
  }

  /** PyTorch's shape checks, with the sizes the computation needs. */
  #checkShapes(query: Tensor, key: Tensor, value: Tensor, kpm: Tensor | null, attnMask: Tensor | null): { batched: boolean; n: number; l: number; s: number } {
    const where = 'MultiheadAttention';
    const layout = this.batchFirst ? '[N, L, E]' : '[L, N, E]';
    if (query.rank !== 2 && query.rank !== 3) throw new ShapeError(`${where}: query must be 3-D ${layout} (batched) or 2-D [L, E] (unbatched), got ${shapeToString(query.shape)}`);
    const batched = query.rank === 3;
    for (const [t, name] of [[key, 'key'], [value, 'value']] as const) {
      if (t.rank !== query.rank) throw new ShapeError(`${where}: query is ${query.rank}-D ${shapeToString(query.shape)} but ${name} is ${shapeToString(t.shape)}; they must have the same number of dimensions`);
      if (!isFloating(t.dtype)) throw new DTypeError(`${where}: ${name} must be float32 or float64, got ${t.dtype}`);
    }
    if (!isFloating(query.dtype)) throw new DTypeError(`${where}: query must be float32 or float64, got ${query.dtype}`);
    const seqAxis = batched && this.batchFirst ? 1 : 0;
    const batchAxis = this.batchFirst ? 0 : 1;
    const n = batched ? query.shape[batchAxis] : 1;
    const l = query.shape[seqAxis];
    const s = key.shape[seqAxis];
    for (const [t, name, dim] of [[query, 'query', this.embedDim], [key, 'key', this.kdim], [value, 'value', this.vdim]] as const) {
      if (t.shape[t.rank - 1] !== dim) throw new ShapeError(`${where}: ${name} has shape ${shapeToString(t.shape)} but the layer expects ${dim} features in its last dimension`);
      if (batched && t.shape[batchAxis] !== n) throw new ShapeError(`${where}: ${name} has batch size ${t.shape[batchAxis]} but query has ${n} (shapes ${shapeToString(t.shape)} and ${shapeToString(query.shape)}; layout ${layout})`);
    }
    if (value.shape[seqAxis] !== s) throw new ShapeError(`${where}: key ${shapeToString(key.shape)} and value ${shapeToString(value.shape)} must have the same sequence length`);
    if (kpm) {
      const want = batched ? [n, s] : [s];
      checkMask(where, 'keyPaddingMask', kpm, [want]);
    }
    if (attnMask) checkMask(where, 'attnMask', attnMask, [[l, s], [(batched ? n : 1) * this.numHeads, l, s]]);
    return { batched, n, l, s };
  }

  override extraRepr(): string {
    return `embedDim=${this.embedDim}, numHeads=${this.numHeads}, dropout=${this.dropout}, batchFirst=${this.batchFirst}`;
  }
}

function checkMask(where: string, name: string, mask: Tensor, shapes: number[][]): void {
  if (mask.dtype !== 'bool' && !isFloating(mask.dtype)) {
    throw new DTypeError(`${where}: ${name} must be bool (true masks out) or float (added to the scores), got ${mask.dtype}`);
  }
  if (!shapes.some((sh) => sh.length === mask.rank && sh.every((d, i) => d === mask.shape[i]))) {
    throw new ShapeError(`${where}: ${name} has shape ${shapeToString(mask.shape)}; expected ${shapes.map((sh) => shapeToString(sh)).join(' or ')}`);
  }
}

/** A mask as a float to add to scores: bool true → -Infinity, false → 0; floats as they are. */
function additive(mask: Tensor, dtype: DType): Tensor {
  return cast(mask.dtype === 'bool' ? where(mask, -Infinity, 0) : mask, dtype);
}

import type { DType } from '@kiln/core';
import { ArgumentError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { add, gelu, relu, tidy } from '@kiln/eager';
import { boolean, checkOptions, nonNegativeNumber, positiveInt, probability } from '../internal.js';
import { Module } from '../module.js';
import { Dropout } from './activation.js';
import { MultiheadAttention } from './attention.js';
import { Linear } from './linear.js';
import { LayerNorm } from './norm.js';

/** The feed-forward activation: 'relu', 'gelu', a function of a tensor, or a module (registered as a child). */
export type Activation = 'relu' | 'gelu' | ((x: Tensor) => Tensor) | (Module & { forward(x: Tensor): Tensor });

export interface TransformerEncoderLayerOptions {
  /** Hidden size of the feed-forward network (default 2048). */
  dimFeedforward?: number;
  /** Dropout probability after attention, inside and after the feed-forward network (default 0.1). */
  dropout?: number;
  /** Feed-forward activation (default 'relu'). */
  activation?: Activation;
  /** LayerNorm eps (default 1e-5). */
  layerNormEps?: number;
  /** Inputs and output are [batch, seq, feature] instead of [seq, batch, feature] (default false). */
  batchFirst?: boolean;
  /** Normalise before attention and feed-forward (pre-LN) instead of after (post-LN, the default). */
  normFirst?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

export interface EncoderForwardOptions {
  /** Attention mask [L, L] or [N·nhead, L, L] (see MultiheadAttention's attnMask). */
  srcMask?: Tensor | null;
  /** Padding mask [N, L] (see MultiheadAttention's keyPaddingMask). */
  srcKeyPaddingMask?: Tensor | null;
}

/**
 * One Transformer encoder block (nn.TransformerEncoderLayer): self-attention and a feed-forward
 * network (linear1 → activation → dropout → linear2), each with dropout, a residual connection
 * and LayerNorm — after each sub-block by default, before it with `normFirst`. Defaults as
 * PyTorch: dimFeedforward 2048, dropout 0.1, ReLU, sequence-first layout.
 *
 * @example
 * ```ts
 * const layer = new TransformerEncoderLayer(64, 4, { dimFeedforward: 256, batchFirst: true });
 * layer.forward(randn([2, 10, 64])).shape; // [2, 10, 64]
 * ```
 */
export class TransformerEncoderLayer extends Module {
  selfAttn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  readonly normFirst: boolean;
  norm1: LayerNorm;
  norm2: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;
  /** The activation: a module child when given one, otherwise a function (not registered, as PyTorch). */
  activation: (Module & { forward(x: Tensor): Tensor }) | ((x: Tensor) => Tensor);

  constructor(dModel: number, nhead: number, options: TransformerEncoderLayerOptions = {}) {
    super();
    const where = 'TransformerEncoderLayer';
    const o = checkOptions(where, options, ['dimFeedforward', 'dropout', 'activation', 'layerNormEps', 'batchFirst', 'normFirst', 'dtype']);
    positiveInt(where, 'dModel', dModel);
    positiveInt(where, 'nhead', nhead);
    const ff = positiveInt(where, 'dimFeedforward', o.dimFeedforward ?? 2048);
    const p = probability(where, 'dropout', o.dropout ?? 0.1);
    const eps = nonNegativeNumber(where, 'layerNormEps', o.layerNormEps ?? 1e-5);
    const batchFirst = boolean(where, 'batchFirst', o.batchFirst, false);
    const dtype = o.dtype;
    this.selfAttn = new MultiheadAttention(dModel, nhead, { dropout: p, batchFirst, dtype });
    this.linear1 = new Linear(dModel, ff, { dtype });
    this.dropout = new Dropout(p);
    this.linear2 = new Linear(ff, dModel, { dtype });
    this.normFirst = boolean(where, 'normFirst', o.normFirst, false);
    this.norm1 = new LayerNorm(dModel, { eps, dtype });
    this.norm2 = new LayerNorm(dModel, { eps, dtype });
    this.dropout1 = new Dropout(p);
    this.dropout2 = new Dropout(p);
    const act = o.activation ?? 'relu';
    if (act === 'relu') this.activation = relu;
    else if (act === 'gelu') this.activation = (x: Tensor) => gelu(x);
    else if (typeof act === 'function' || act instanceof Module) this.activation = act;
    else throw new ArgumentError(`${where}: activation must be 'relu', 'gelu', a function or a module, got ${JSON.stringify(act)}`);
  }

  forward(src: Tensor, options: EncoderForwardOptions = {}): Tensor {
    const o = checkOptions('TransformerEncoderLayer', options, ['srcMask', 'srcKeyPaddingMask']);
    const attnMask = o.srcMask ?? null;
    const keyPaddingMask = o.srcKeyPaddingMask ?? null;
    return tidy(() => {
      const sa = (x: Tensor) => this.dropout1.forward(this.selfAttn.forward(x, x, x, { attnMask, keyPaddingMask, needWeights: false })[0]);
      const act = (x: Tensor) => (this.activation instanceof Module ? this.activation.forward(x) : this.activation(x));
      const ffn = (x: Tensor) => this.dropout2.forward(this.linear2.forward(this.dropout.forward(act(this.linear1.forward(x)))));
      if (this.normFirst) {
        const x = add(src, sa(this.norm1.forward(src)));
        return add(x, ffn(this.norm2.forward(x)));
      }
      const x = this.norm1.forward(add(src, sa(src)));
      return this.norm2.forward(add(x, ffn(x)));
    });
  }
}

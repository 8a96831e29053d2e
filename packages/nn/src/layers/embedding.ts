import type { DType } from '@kiln/core';
import { ArgumentError, DTypeError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { arange, indexSelect, isGradEnabled, ne, noGrad, reshape, tidy, unsqueeze, where } from '@kiln/eager';
import { normal } from '../init.js';
import { checkOptions, newParameter, positiveInt } from '../internal.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';

export interface EmbeddingOptions {
  /**
   * An index whose row gets no gradient (and starts as zeros): a padding token. Negative counts
   * from the end. Default none.
   */
  paddingIdx?: number | null;
  /** Weight dtype (default float32). */
  dtype?: DType;
}

/**
 * A lookup table (nn.Embedding): int32 indices of any shape → their rows of `weight`
 * [numEmbeddings, embeddingDim], shape [...index.shape, embeddingDim]. Weight initialised N(0, 1)
 * (the padding row zeros).
 *
 * @example
 * ```ts
 * const emb = new Embedding(1000, 64, { paddingIdx: 0 });
 * emb.forward(tensor([[1, 2, 0]])).shape; // [1, 3, 64]
 * ```
 */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  /** The padding row (non-negative), or null. */
  readonly paddingIdx: number | null;
  weight: Parameter;

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    const o = checkOptions('Embedding', options, ['paddingIdx', 'dtype']);
    this.numEmbeddings = positiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    this.embeddingDim = positiveInt('Embedding', 'embeddingDim', embeddingDim);
    const p = o.paddingIdx ?? null;
    if (p !== null && (!Number.isInteger(p) || p < -numEmbeddings || p >= numEmbeddings)) {
      throw new ArgumentError(`Embedding: paddingIdx must be an integer in ${-numEmbeddings}..${numEmbeddings - 1} (within numEmbeddings), got ${JSON.stringify(p)}`);
    }
    this.paddingIdx = p === null ? null : p < 0 ? p + numEmbeddings : p;
    this.weight = newParameter([numEmbeddings, embeddingDim], o.dtype);
    this.resetParameters();
  }

  /** Re-draws the weight from N(0, 1) and zeroes the padding row. */
  resetParameters(): void {
    normal(this.weight);
    if (this.paddingIdx !== null) {
      const row = this.paddingIdx;
      noGrad(() => tidy(() => {
        const keep = unsqueeze(ne(arange(this.numEmbeddings), row), 1);
        this.weight.assign(where(keep, this.weight, 0));
      }));
    }
  }

  forward(index: Tensor): Tensor {
    if (index.dtype !== 'int32') {
      throw new DTypeError(`Embedding: index must be int32, got ${index.dtype}; convert it with index.cast('int32')`);
    }
    return tidy(() => {
      let rows: Tensor;
      try {
        rows = indexSelect(this.weight, 0, reshape(index, [-1]));
      } catch (e) {
        if (e instanceof ArgumentError) throw new ArgumentError(`Embedding: an index is out of range for numEmbeddings=${this.numEmbeddings} (${e.message})`);
        throw e;
      }
      if (this.paddingIdx !== null && isGradEnabled() && this.weight.requiresGrad) {
        // Same values; the gradient reaches only the rows of non-padding indices.
        const keep = unsqueeze(ne(reshape(index, [-1]), this.paddingIdx), 1);
        rows = where(keep, rows, rows.detach());
      }
      return reshape(rows, [...index.shape, this.embeddingDim]);
    });
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx === null ? '' : `, paddingIdx=${this.paddingIdx}`}`;
  }
}

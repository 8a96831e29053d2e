import type { TypedArray } from '@kiln/core';
import { gemmF32, wasmGemmAvailable } from '../wasm/gemm.js';
import { tapRanges } from './conv.js';

/**
 * Float32 convolutions as matrix products in WebAssembly SIMD (gemmF32): the forward pass and
 * the two gradients of conv2d, through im2col / col2im scratch matrices. Layout, tiling and the
 * dispatch rule are in docs/design/cpu-wasm.md, "Convolution and pooling".
 */

/** Geometry of one conv2d: x [batch, channels, height, width] * w [outChannels, channels/groups, kH, kW]. */
export interface ConvGeometry {
  batch: number; channels: number; height: number; width: number;
  outChannels: number; kH: number; kW: number; outH: number; outW: number;
  stride: readonly number[]; padding: readonly number[]; dilation: readonly number[]; groups: number;
}

/** Scratch floats an im2col matrix may take before the batch is split into chunks (default 4M = 16 MiB; tests lower it). */
export const IM2COL_LIMITS = { floats: 1 << 22 };

/** Products smaller than this many multiply-adds per image and group stay on the direct JS kernels. */
export const CONV_GEMM_MIN_MACS = 32 * 32 * 32;

/**
 * Whether a float32 conv2d of this geometry (forward or gradient) runs as gemm: WebAssembly
 * SIMD is there, the per-image, per-group product is large enough, and the kernel is not
 * depthwise-like (one input channel per group gives a product one row deep per output channel,
 * where the direct kernel does the same work with no copies).
 */
export function useConvGemm(g: ConvGeometry): boolean {
  const groupChannels = g.channels / g.groups;
  const outPerGroup = g.outChannels / g.groups;
  const k = groupChannels * g.kH * g.kW;
  if (g.batch === 0 || g.outH * g.outW === 0 || (outPerGroup < 4 && k < 32)) return false;
  return outPerGroup * k * g.outH * g.outW >= CONV_GEMM_MIN_MACS && wasmGemmAvailable();
}

/** Images per chunk so that `perImage` floats each stay within IM2COL_LIMITS.floats (at least 1). */
const chunkOf = (perImage: number, batch: number) => Math.max(1, Math.min(batch, Math.floor(IM2COL_LIMITS.floats / Math.max(1, perImage))));

function taps(g: ConvGeometry) {
  return {
    rows: tapRanges(g.kH, g.height, g.outH, g.stride[0], g.padding[0], g.dilation[0]),
    cols: tapRanges(g.kW, g.width, g.outW, g.stride[1], g.padding[1], g.dilation[1]),
  };
}

/**
 * im2col of one image's channel group into `col` at `at`: row (c, kh, kw), `rowStride` floats
 * after the previous one, holds for each output pixel (oh, ow) x[c, oh·s + kh·d − p,
 * ow·s + kw·d − p], or 0 where that is padding.
 */
function im2col(x: TypedArray, plane0: number, g: ConvGeometry, t: ReturnType<typeof taps>, col: Float32Array, at: number, rowStride: number): void {
  const { height, width, kH, kW, outH, outW } = g;
  const groupChannels = g.channels / g.groups;
  const sW = g.stride[1];
  let row = 0;
  for (let c = 0; c < groupChannels; c++) {
    const plane = plane0 + c * height * width;
    for (let kh = 0; kh < kH; kh++) {
      const r0 = t.rows.lo[kh];
      const r1 = t.rows.hi[kh];
      for (let kw = 0; kw < kW; kw++, row++) {
        const c0 = t.cols.lo[kw];
        const c1 = t.cols.hi[kw];
        const base = at + row * rowStride;
        for (let oh = 0; oh < outH; oh++) {
          let d = base + oh * outW;
          if (oh < r0 || oh >= r1) {
            col.fill(0, d, d + outW);
            continue;
          }
          const src = plane + (oh * g.stride[0] + t.rows.shift[kh]) * width + t.cols.shift[kw];
          let ow = 0;
          for (; ow < c0; ow++, d++) col[d] = 0;
          if (sW === 1) for (; ow < c1; ow++, d++) col[d] = x[src + ow];
          else for (; ow < c1; ow++, d++) col[d] = x[src + ow * sW];
          for (; ow < outW; ow++, d++) col[d] = 0;
        }
      }
    }
  }
}

/** conv2d forward: per image and group, out[oc, pixels] = w[oc, C·kH·kW] @ im2col(x)[C·kH·kW, pixels]. */
export function conv2dGemm(x: TypedArray, w: TypedArray, g: ConvGeometry, dst: Float32Array): void {
  const t = taps(g);
  const { batch, groups } = g;
  const groupChannels = g.channels / groups;
  const outPerGroup = g.outChannels / groups;
  const pixels = g.outH * g.outW;
  const k = groupChannels * g.kH * g.kW;
  const chunk = chunkOf(k * pixels, batch);
  const col = new Float32Array(chunk * k * pixels);
  for (let gr = 0; gr < groups; gr++) {
    for (let n0 = 0; n0 < batch; n0 += chunk) {
      const images = Math.min(chunk, batch - n0);
      for (let i = 0; i < images; i++) im2col(x, ((n0 + i) * g.channels + gr * groupChannels) * g.height * g.width, g, t, col, i * k * pixels, pixels);
      const bOffsets = Array.from({ length: images }, (_, i) => i * k * pixels);
      if (groups === 1) {
        // The images' outputs are consecutive [outC, pixels] blocks: one call writes them all.
        gemmF32(w, bOffsets.map(() => 0), col, bOffsets, dst.subarray(n0 * g.outChannels * pixels), outPerGroup, k, pixels);
      } else {
        for (let i = 0; i < images; i++) {
          const off = ((n0 + i) * g.outChannels + gr * outPerGroup) * pixels;
          gemmF32(w, [gr * outPerGroup * k], col, [bOffsets[i]], dst.subarray(off, off + outPerGroup * pixels), outPerGroup, k, pixels);
        }
      }
    }
  }
}

/**
 * conv2d's input gradient (conv2dTranspose with the forward's geometry `g`, gOut [batch,
 * outChannels, outH, outW] → dst [batch, channels, height, width]): per image and group,
 * dcol[C·kH·kW, pixels] = wᵀ @ gOut, then col2im adds each row back at its taps.
 */
export function conv2dInputGradGemm(gOut: TypedArray, w: TypedArray, g: ConvGeometry, dst: Float32Array): void {
  const t = taps(g);
  const { batch, groups, height, width, outW, kH, kW } = g;
  const groupChannels = g.channels / groups;
  const outPerGroup = g.outChannels / groups;
  const pixels = g.outH * outW;
  const k = groupChannels * kH * kW;
  // wᵀ per group: [k, outPerGroup].
  const wt = new Float32Array(groups * k * outPerGroup);
  for (let gr = 0; gr < groups; gr++) {
    for (let o = 0; o < outPerGroup; o++) {
      const src = (gr * outPerGroup + o) * k;
      for (let r = 0; r < k; r++) wt[gr * k * outPerGroup + r * outPerGroup + o] = w[src + r];
    }
  }
  const chunk = chunkOf(k * pixels, batch);
  const dcol = new Float32Array(chunk * k * pixels);
  const sH = g.stride[0];
  const sW = g.stride[1];
  dst.fill(0);
  for (let gr = 0; gr < groups; gr++) {
    for (let n0 = 0; n0 < batch; n0 += chunk) {
      const images = Math.min(chunk, batch - n0);
      const aOffsets = Array.from({ length: images }, () => gr * k * outPerGroup);
      const bOffsets = Array.from({ length: images }, (_, i) => ((n0 + i) * g.outChannels + gr * outPerGroup) * pixels);
      gemmF32(wt, aOffsets, gOut, bOffsets, dcol, k, outPerGroup, pixels);
      for (let i = 0; i < images; i++) {
        const plane0 = ((n0 + i) * g.channels + gr * groupChannels) * height * width;
        let row = i * k * pixels;
        for (let c = 0; c < groupChannels; c++) {
          const plane = plane0 + c * height * width;
          for (let kh = 0; kh < kH; kh++) {
            const r0 = t.rows.lo[kh];
            const r1 = t.rows.hi[kh];
            for (let kw = 0; kw < kW; kw++, row += pixels) {
              const c0 = t.cols.lo[kw];
              const c1 = t.cols.hi[kw];
              for (let oh = r0; oh < r1; oh++) {
                const o = plane + (oh * sH + t.rows.shift[kh]) * width + t.cols.shift[kw];
                const s = row + oh * outW;
                if (sW === 1) for (let ow = c0; ow < c1; ow++) dst[o + ow] += dcol[s + ow];
                else for (let ow = c0; ow < c1; ow++) dst[o + ow * sW] += dcol[s + ow];
              }
            }
          }
        }
      }
    }
  }
}

/**
 * conv2d's weight gradient: per group, dw[oc, C·kH·kW] = Σ over images of gOut[oc, pixels] @
 * im2col(x)[C·kH·kW, pixels]ᵀ. A chunk of images is one product whose k runs over the chunk's
 * pixels: gOut regrouped to [oc, images·pixels], the im2col rows laid side by side
 * ([C·kH·kW, images·pixels], read transposed by the gemm's packing); chunks add up in float32.
 */
export function conv2dWeightGradGemm(x: TypedArray, gOut: TypedArray, g: ConvGeometry, dst: Float32Array): void {
  const t = taps(g);
  const { batch, groups } = g;
  const groupChannels = g.channels / groups;
  const outPerGroup = g.outChannels / groups;
  const pixels = g.outH * g.outW;
  const k = groupChannels * g.kH * g.kW;
  const chunk = chunkOf((k + outPerGroup) * pixels, batch);
  const col = new Float32Array(k * chunk * pixels);
  const gs = new Float32Array(outPerGroup * chunk * pixels);
  const part = new Float32Array(outPerGroup * k);
  dst.fill(0);
  for (let gr = 0; gr < groups; gr++) {
    for (let n0 = 0; n0 < batch; n0 += chunk) {
      const images = Math.min(chunk, batch - n0);
      const depth = images * pixels;
      for (let i = 0; i < images; i++) {
        im2col(x, ((n0 + i) * g.channels + gr * groupChannels) * g.height * g.width, g, t, col, i * pixels, depth);
        for (let o = 0; o < outPerGroup; o++) {
          const src = ((n0 + i) * g.outChannels + gr * outPerGroup + o) * pixels;
          gs.set(gOut.subarray(src, src + pixels), o * depth + i * pixels);
        }
      }
      const out = n0 === 0 ? dst.subarray(gr * outPerGroup * k, (gr + 1) * outPerGroup * k) : part;
      gemmF32(gs, [0], col, [0], out, outPerGroup, depth, k, { transB: true });
      if (n0 > 0) {
        const d0 = gr * outPerGroup * k;
        for (let j = 0; j < part.length; j++) dst[d0 + j] += part[j];
      }
    }
  }
}

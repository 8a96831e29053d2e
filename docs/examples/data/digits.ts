/**
 * Loads the handwritten digits data set (data/digits.csv.gz, see data/README.md): 1797 8×8
 * images with 64 integer pixels in 0..16 and a label 0..9.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Tensor } from '@kiln/eager';
import { tensor } from '@kiln/eager';

export const DIGITS_PIXELS = 64;

/** The raw rows: pixels (row-major, one image per 64 values) and labels. */
export function readDigits(): { pixels: Float32Array; labels: Int32Array; count: number } {
  const text = gunzipSync(readFileSync(new URL('./digits.csv.gz', import.meta.url))).toString('utf8');
  const rows = text.trim().split('\n');
  const pixels = new Float32Array(rows.length * DIGITS_PIXELS);
  const labels = new Int32Array(rows.length);
  rows.forEach((row, i) => {
    const values = row.split(',').map(Number);
    if (values.length !== DIGITS_PIXELS + 1) throw new Error(`digits.csv.gz: row ${i} has ${values.length} values, expected ${DIGITS_PIXELS + 1}`);
    pixels.set(values.slice(0, DIGITS_PIXELS), i * DIGITS_PIXELS);
    labels[i] = values[DIGITS_PIXELS];
  });
  return { pixels, labels, count: rows.length };
}

/**
 * The digits as tensors: `x` float32 [1797, 64] scaled to [0, 1] (pixels / 16), or
 * [1797, 1, 8, 8] images with `{ images: true }`; `y` int32 [1797] labels.
 */
export function loadDigits(options: { images?: boolean } = {}): { x: Tensor; y: Tensor } {
  const { pixels, labels, count } = readDigits();
  const scaled = pixels.map((v) => v / 16);
  const shape = options.images ? [count, 1, 8, 8] : [count, DIGITS_PIXELS];
  return { x: tensor(scaled, { dtype: 'float32', shape }), y: tensor(labels, { dtype: 'int32', shape: [count] }) };
}

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Tensor } from '@kiln/eager';
import { tensor } from '@kiln/eager';

/** The digits file shipped in the package (`data/`, beside `src/` and `dist/`). */
export const DIGITS_PATH = new URL('../../data/digits.csv.gz', import.meta.url);

/**
 * The handwritten digits (data/README.md) as tensors: `x` float32 [1797, 64], pixels scaled to
 * [0, 1]; `y` int32 [1797] labels 0..9.
 *
 * @example
 * ```ts
 * const { x, y } = loadDigits(); // x: f32[1797,64], y: i32[1797]
 * ```
 */
export function loadDigits(): { x: Tensor; y: Tensor } {
  const rows = gunzipSync(readFileSync(DIGITS_PATH)).toString('utf8').trim().split('\n');
  const pixels = new Float32Array(rows.length * 64);
  const labels = new Int32Array(rows.length);
  rows.forEach((row, i) => {
    const values = row.split(',').map(Number);
    if (values.length !== 65) throw new Error(`digits.csv.gz: row ${i} has ${values.length} values, expected 65`);
    for (let k = 0; k < 64; k++) pixels[i * 64 + k] = values[k] / 16;
    labels[i] = values[64];
  });
  return { x: tensor(pixels, { dtype: 'float32', shape: [rows.length, 64] }), y: tensor(labels, { dtype: 'int32', shape: [rows.length] }) };
}

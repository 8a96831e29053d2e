import { AnomalyError, shapeToString } from '@kiln/core';
import type { Tensor } from '../tensor.js';

/** Throws an AnomalyError if `t` holds NaN or ±Inf (anomaly detection reads every result back). */
export function checkFinite(t: Tensor, what: string): void {
  if (t.dtype !== 'float32' && t.dtype !== 'float64') return;
  const data = t.dataSync();
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new AnomalyError(`anomaly detected: ${what} holds ${data[i]} at flat index ${i} (shape ${shapeToString(t.shape)}). This is the first op that produced a non-finite value; check its inputs (log of 0 or a negative, division by 0, overflow in exp…).`);
    }
  }
}

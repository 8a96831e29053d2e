import type { DType, Shape, TypedArray } from '@kiln/core';

const THRESHOLD = 1000; // more elements than this are summarized with '...', like PyTorch
const EDGE = 3;

/**
 * PyTorch-style text for a tensor: `tensor([[1.0000, 2.5000],\n        [3.0000, 4.0000]])`.
 * Floats that are all integral print as `1.`, others with 4 decimals, or in scientific
 * notation when magnitudes span a wide range; bool prints True/False; dtype is shown when it
 * is not the default of its kind (float64).
 */
export function formatTensor(data: TypedArray, shape: Shape, dtype: DType): string {
  const summarize = data.length > THRESHOLD;
  const fmt = makeFormatter(data, dtype);
  const width = maxWidth(data, fmt, shape, summarize);
  const prefix = 'tensor(';
  const body = formatAxis(data, shape, 0, 0, fmt, width, prefix.length + 1, summarize);
  const suffix = dtype === 'float64' ? `, dtype=${dtype}` : '';
  const sizeNote = data.length === 0 && shape.length > 1 ? `, size=[${shape.join(', ')}]` : '';
  return `${prefix}${body}${sizeNote}${suffix})`;
}

function makeFormatter(data: TypedArray, dtype: DType): (v: number) => string {
  if (dtype === 'bool') return (v) => (v ? 'True' : 'False');
  if (dtype === 'int32') return (v) => String(v);
  let maxAbs = 0;
  let minAbs = Infinity;
  let allInt = true;
  for (const v of data) {
    if (!Number.isFinite(v)) continue;
    const a = Math.abs(v);
    if (a > maxAbs) maxAbs = a;
    if (a !== 0 && a < minAbs) minAbs = a;
    if (!Number.isInteger(v)) allInt = false;
  }
  const special = (v: number) => (Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf');
  const sci = maxAbs > 0 && (maxAbs >= 1e8 || minAbs < 1e-4 || maxAbs / minAbs > 1000);
  if (allInt && !sci) return (v) => (Number.isFinite(v) ? `${v}.` : special(v));
  if (sci) return (v) => (Number.isFinite(v) ? v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2') : special(v));
  return (v) => (Number.isFinite(v) ? v.toFixed(4) : special(v));
}

function maxWidth(data: TypedArray, fmt: (v: number) => string, shape: Shape, summarize: boolean): number {
  let w = 0;
  const lastDim = shape[shape.length - 1] ?? 1;
  for (let i = 0; i < data.length; i++) {
    if (summarize && lastDim > 2 * EDGE) {
      const j = i % lastDim;
      if (j >= EDGE && j < lastDim - EDGE) continue;
    }
    w = Math.max(w, fmt(data[i]).length);
  }
  return w;
}

function formatAxis(data: TypedArray, shape: Shape, axis: number, offset: number, fmt: (v: number) => string, width: number, indent: number, summarize: boolean): string {
  if (shape.length === 0) return fmt(data[0]);
  const n = shape[axis];
  const stride = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const indices: (number | null)[] = [];
  if (summarize && n > 2 * EDGE) {
    for (let i = 0; i < EDGE; i++) indices.push(i);
    indices.push(null);
    for (let i = n - EDGE; i < n; i++) indices.push(i);
  } else {
    for (let i = 0; i < n; i++) indices.push(i);
  }
  if (axis === shape.length - 1) {
    const items = indices.map((i) => (i === null ? '...' : fmt(data[offset + i]).padStart(width)));
    return `[${items.join(', ')}]`;
  }
  const pad = ' '.repeat(indent + axis);
  const sep = ',' + '\n'.repeat(shape.length - axis - 1) + pad;
  const parts = indices.map((i) => (i === null ? '...' : formatAxis(data, shape, axis + 1, offset + i * stride, fmt, width, indent, summarize)));
  return `[${parts.join(sep)}]`;
}

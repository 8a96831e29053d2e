import type { Graph, Node, Value } from '@kiln/core';
import { dtypeShortName } from '@kiln/core';
import type { ModelFile } from '@kiln/serializer';
import { formatSizeExpr } from '@kiln/serializer';

/** Options of {@link graphToSvg}. */
export interface GraphSvgOptions {
  /** Heading drawn above the graph (default none). */
  readonly title?: string;
}

interface Box {
  readonly kind: 'input' | 'node' | 'output';
  readonly title: string;
  readonly lines: readonly string[];
  readonly fused: boolean;
  readonly role?: string;
  layer: number;
  order: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

interface Edge {
  readonly from: Box;
  readonly to: Box;
  readonly label: string;
}

const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Text width estimate (px) for the sans-serif font at `size`. */
const textW = (t: string, size: number) => t.length * size * 0.6;
const FUSED_OPS = new Set(['fusedElementwise', 'matmulEpilogue']);

/** Ops of a fused node's body, in order, with runs of the same op shown once (`mul ×3`). */
function bodyOps(g: Graph): string[] {
  const out: string[] = [];
  let last = '';
  let n = 0;
  const flush = () => {
    if (n) out.push(n > 1 ? `${last} ×${n}` : last);
  };
  for (const node of g.nodes) {
    if (node.op === last) n++;
    else {
      flush();
      last = node.op;
      n = 1;
    }
  }
  flush();
  return out;
}

/** Short attribute text for a box: only small scalar or short-array attributes. */
function attrText(node: Node): string | undefined {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(node.attrs ?? {})) {
    if (typeof v === 'number' || typeof v === 'boolean') parts.push(`${k}=${v}`);
    else if (typeof v === 'string' && v.length <= 12) parts.push(`${k}=${v}`);
    else if (Array.isArray(v) && v.length <= 4 && v.every((e) => typeof e === 'number')) parts.push(`${k}=[${v.join(',')}]`);
  }
  const text = parts.join(' ');
  return text && text.length <= 40 ? text : text ? `${text.slice(0, 38)}…` : undefined;
}

/**
 * A layered drawing of a saved model's graph as SVG: graph inputs on top (the model's inputs
 * in blue, stored parameters and buffers in grey), one box per node with its op name, the
 * value's dtype and shape on every edge (symbolic dimensions by name), outputs at the bottom,
 * and fused nodes (`fusedElementwise`, `matmulEpilogue`) outlined in orange with their body's
 * ops listed. This is what `kiln graph model.kiln --out graph.svg` writes.
 *
 * @example
 * ```ts
 * writeFileSync('graph.svg', graphToSvg(readModel(bytes), { title: 'model.kiln' }));
 * ```
 */
export function graphToSvg(file: ModelFile, options: GraphSvgOptions = {}): string {
  const { graph, signature, symbolic } = file;
  const names = symbolic?.symbols.map((s) => s.name) ?? [];
  const typeOf = (v: Value) => {
    const dims = symbolic?.dims.get(v);
    const shape = v.type.shape.map((d, a) => (dims?.[a] ? formatSizeExpr(dims[a]!, names) : String(d)));
    return `${dtypeShortName(v.type.dtype)}[${shape.join(',')}]`;
  };

  const boxes: Box[] = [];
  const edges: Edge[] = [];
  const producer = new Map<Value, Box>();
  const box = (kind: Box['kind'], title: string, lines: string[], fused = false, role?: string): Box => {
    const b: Box = { kind, title, lines, fused, role, layer: 0, order: 0, x: 0, y: 0, w: 0, h: 0 };
    boxes.push(b);
    return b;
  };
  graph.inputs.forEach((v, i) => {
    const s = signature.inputs[i];
    producer.set(v, box('input', s?.name ?? v.name ?? `input ${i}`, [s?.role ?? 'input'], false, s?.role ?? 'input'));
  });
  for (const node of graph.nodes) {
    const fused = FUSED_OPS.has(node.op) || (node.subgraphs !== undefined && node.subgraphs.length > 0 && /fused|epilogue/i.test(node.op));
    const lines: string[] = [];
    if (fused && node.subgraphs?.[0]) lines.push(...bodyOps(node.subgraphs[0]));
    else {
      const a = attrText(node);
      if (a) lines.push(a);
    }
    const b = box('node', node.op, lines, fused);
    b.layer = 1 + Math.max(0, ...node.inputs.map((v) => producer.get(v)?.layer ?? 0));
    for (const v of node.inputs) {
      const from = producer.get(v);
      if (from) edges.push({ from, to: b, label: typeOf(v) });
    }
    for (const v of node.outputs) producer.set(v, b);
  }
  const outs = graph.outputs.map((v, i) => {
    const s = signature.outputs[i];
    const b = box('output', s?.name ?? `output ${i}`, [s?.role && s.role !== 'output' ? s.role : 'output'], false, s?.role);
    const from = producer.get(v);
    if (from) edges.push({ from, to: b, label: typeOf(v) });
    return b;
  });
  // Graph inputs sit one layer above their first reader, so parameters appear next to the op using them.
  for (const b of boxes) {
    if (b.kind !== 'input') continue;
    const readers = edges.filter((e) => e.from === b).map((e) => e.to.layer);
    b.layer = b.role === 'input' || readers.length === 0 ? 0 : Math.max(0, Math.min(...readers) - 1);
  }
  const bottom = 1 + Math.max(0, ...boxes.filter((b) => b.kind === 'node').map((b) => b.layer));
  for (const b of outs) b.layer = bottom;

  // sizes
  for (const b of boxes) {
    const titleSize = b.kind === 'node' ? 14 : 13;
    b.w = Math.max(84, textW(b.title, titleSize) + 24, ...b.lines.map((l) => textW(l, 11) + 20));
    b.h = 30 + 14 * b.lines.length;
  }

  // layers, ordered by the mean position of their predecessors (two sweeps)
  const layers: Box[][] = [];
  for (const b of boxes) (layers[b.layer] ??= []).push(b);
  for (let l = 0; l < layers.length; l++) layers[l] ??= [];
  layers.forEach((row) => row.forEach((b, k) => (b.order = k)));
  const preds = (b: Box) => edges.filter((e) => e.to === b).map((e) => e.from);
  const succs = (b: Box) => edges.filter((e) => e.from === b).map((e) => e.to);
  const mean = (xs: number[], fallback: number) => (xs.length ? xs.reduce((a, c) => a + c, 0) / xs.length : fallback);
  for (let sweep = 0; sweep < 2; sweep++) {
    for (let l = 1; l < layers.length; l++) {
      layers[l].sort((a, b) => mean(preds(a).map((p) => p.order), a.order) - mean(preds(b).map((p) => p.order), b.order));
      layers[l].forEach((b, k) => (b.order = k));
    }
    for (let l = layers.length - 2; l >= 0; l--) {
      layers[l].sort((a, b) => mean(succs(a).map((p) => p.order), a.order) - mean(succs(b).map((p) => p.order), b.order));
      layers[l].forEach((b, k) => (b.order = k));
    }
  }

  // positions: rows centred; the gap between rows leaves room for the edge labels
  const gapX = 28;
  const rowGap = 64;
  const margin = 24;
  const top = margin + (options.title ? 34 : 0);
  const rowW = layers.map((row) => row.reduce((s, b) => s + b.w, 0) + gapX * Math.max(0, row.length - 1));
  const width = Math.max(760, ...rowW) + 2 * margin; // at least the legend's width
  let y = top;
  layers.forEach((row, l) => {
    const h = Math.max(0, ...row.map((b) => b.h));
    let x = (width - rowW[l]) / 2;
    for (const b of row) {
      b.x = x;
      b.y = y + (h - b.h) / 2;
      x += b.w + gapX;
    }
    y += h + rowGap;
  });
  const legendY = y - rowGap + 28;
  const height = legendY + 24;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${Math.round(width)}" height="${Math.round(height)}" viewBox="0 0 ${Math.round(width)} ${Math.round(height)}" font-family="Helvetica, Arial, sans-serif">`);
  out.push('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#666"/></marker></defs>');
  out.push(`<rect x="0" y="0" width="${Math.round(width)}" height="${Math.round(height)}" fill="#ffffff"/>`);
  if (options.title) out.push(`<text x="${width / 2}" y="${margin + 12}" text-anchor="middle" font-size="16" font-weight="bold">${esc(options.title)}</text>`);
  const r = (v: number) => Math.round(v * 10) / 10;
  // edges first, under the boxes; a source's out-edges spread along its bottom side
  const labels: string[] = [];
  for (const e of edges) {
    const fromEdges = edges.filter((f) => f.from === e.from);
    const toEdges = edges.filter((f) => f.to === e.to);
    const x1 = e.from.x + (e.from.w * (fromEdges.indexOf(e) + 1)) / (fromEdges.length + 1);
    const y1 = e.from.y + e.from.h;
    const x2 = e.to.x + (e.to.w * (toEdges.indexOf(e) + 1)) / (toEdges.length + 1);
    const y2 = e.to.y;
    const dy = Math.max(30, (y2 - y1) / 2);
    out.push(`<path d="M${r(x1)},${r(y1)} C${r(x1)},${r(y1 + dy)} ${r(x2)},${r(y2 - dy)} ${r(x2)},${r(y2)}" fill="none" stroke="#888" stroke-width="1.3" marker-end="url(#arrow)"/>`);
        // label mid-way for an edge to the next row; just above the target for a longer one
    const near = e.to.layer - e.from.layer <= 1;
    const lx = near ? x1 + (x2 - x1) * 0.2 : x2;
    const ly = near ? y1 + (y2 - y1) * 0.4 : y2 - 12;
    const w = textW(e.label, 10) + 6;
    labels.push(`<rect x="${r(lx - w / 2)}" y="${r(ly - 10)}" width="${r(w)}" height="13" rx="3" fill="#ffffff" fill-opacity="0.85"/>`);
    labels.push(`<text x="${r(lx)}" y="${r(ly)}" text-anchor="middle" font-size="10" fill="#555">${esc(e.label)}</text>`);
  }
  for (const b of boxes) {
    const fill = b.kind === 'node' ? (b.fused ? '#fff4e5' : '#eef3fb') : b.kind === 'output' ? '#e8f5e9' : b.role === 'input' ? '#e3f0ff' : '#f2f2f2';
    const stroke = b.fused ? '#e67e00' : b.kind === 'node' ? '#4a6fa5' : b.kind === 'output' ? '#2e7d32' : b.role === 'input' ? '#1f5fbf' : '#999';
    const dash = b.fused ? ' stroke-dasharray="6 3"' : '';
    const rx = b.kind === 'node' ? 6 : 14;
    out.push(`<g data-kind="${b.kind}"${b.fused ? ' data-fused="true"' : ''}>`);
    out.push(`<rect x="${r(b.x)}" y="${r(b.y)}" width="${r(b.w)}" height="${b.h}" rx="${rx}" fill="${fill}" stroke="${stroke}" stroke-width="${b.fused ? 2.2 : 1.3}"${dash}/>`);
    const cx = r(b.x + b.w / 2);
    out.push(`<text x="${cx}" y="${r(b.y + 20)}" text-anchor="middle" font-size="${b.kind === 'node' ? 14 : 13}" font-weight="${b.kind === 'node' ? 'bold' : 'normal'}" fill="#222">${esc(b.title)}</text>`);
    b.lines.forEach((line, k) => out.push(`<text x="${cx}" y="${r(b.y + 34 + 14 * k)}" text-anchor="middle" font-size="11" fill="#666">${esc(line)}</text>`));
    out.push('</g>');
  }
  out.push(...labels);
  // legend
  const items: [string, string, string, string][] = [
    ['model input', '#e3f0ff', '#1f5fbf', ''], ['stored parameter / buffer', '#f2f2f2', '#999', ''], ['op', '#eef3fb', '#4a6fa5', ''],
    ['fused kernel (body ops listed)', '#fff4e5', '#e67e00', ' stroke-dasharray="6 3"'], ['output', '#e8f5e9', '#2e7d32', ''],
  ];
  let lx = margin;
  for (const [text, fill, stroke, dash] of items) {
    out.push(`<rect x="${lx}" y="${legendY - 10}" width="18" height="12" rx="3" fill="${fill}" stroke="${stroke}"${dash}/>`);
    out.push(`<text x="${lx + 24}" y="${legendY}" font-size="11" fill="#444">${esc(text)}</text>`);
    lx += 24 + textW(text, 11) + 18;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

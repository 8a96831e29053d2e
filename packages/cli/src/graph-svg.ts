import type { AttrValue, Graph, Node, Value } from '@kiln/core';
import { optimize } from '@kiln/runtime';
import type { ModelFile } from '@kiln/serializer';
import { formatSizeExpr } from '@kiln/serializer';
import { symbolicTypeLabels } from './graph-shapes.js';
import { layoutLayered } from './graph-layout.js';

/** Options of {@link graphToSvg}. */
export interface GraphSvgOptions {
  /** Heading drawn above the graph (default none). */
  readonly title?: string;
  /**
   * Draw the graph the runtime runs — after `optimize` (DCE, CSE, folding, simplification,
   * fusion), fused kernels outlined with their body ops — instead of the graph as saved.
   */
  readonly optimized?: boolean;
}

/** One box of the drawing, with what hover details show about it. */
export interface GraphBox {
  readonly kind: 'input' | 'node' | 'output';
  readonly title: string;
  /** Lines under the title: short attributes, inlined parameters and constants, or a fused body's ops. */
  readonly lines: readonly string[];
  readonly fused: boolean;
  /** Longer text for hover: all attributes, every input and output with its type. */
  readonly details: readonly string[];
}

const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Text width estimate (px) for the sans-serif font at `size`. */
const textW = (t: string, size: number) => t.length * size * 0.58;
const FUSED_OPS = new Set(['fusedElementwise', 'matmulEpilogue']);
const r = (v: number) => Math.round(v * 10) / 10;
/** The straight drop below a box before its edges curve away: the height of the label beside it. */
const STUB = 17;

/** Ops of a fused node's body, in order, with runs of the same op shown once (`mul ×3`). */
function bodyOps(g: Graph): string[] {
  const out: string[] = [];
  for (const node of g.nodes) {
    const prev = out.at(-1);
    const m = prev?.match(/^(\S+)(?: ×(\d+))?$/);
    if (m && m[1] === node.op) out[out.length - 1] = `${node.op} ×${Number(m[2] ?? 1) + 1}`;
    else out.push(node.op);
  }
  return out;
}

const attrValueText = (v: AttrValue): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** A node's attributes, integers that move with a symbolic dimension written as its expression (`shape=[batch,seq,4,4]`). */
function symbolicAttrs(file: ModelFile, node: Node): Readonly<Record<string, AttrValue>> {
  const exprs = file.symbolic?.attrs.get(node);
  if (!exprs) return node.attrs;
  const names = file.symbolic!.symbols.map((x) => x.name);
  const out: Record<string, AttrValue> = { ...node.attrs };
  for (const [key, list] of Object.entries(exprs)) {
    const old = node.attrs[key];
    if (!Array.isArray(old)) continue;
    out[key] = old.map((v, i) => (list[i] ? formatSizeExpr(list[i]!, names) : v)) as AttrValue;
  }
  return out;
}

/** Short attribute text for a box: only small scalar or short-array attributes. */
function attrText(attrs: Readonly<Record<string, AttrValue>>): string | undefined {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(attrs).sort(([a], [b]) => a.localeCompare(b))) {
    if (typeof v === 'number' || typeof v === 'boolean') parts.push(`${k}=${v}`);
    else if (typeof v === 'string' && v.length <= 12) parts.push(`${k}=${v}`);
    else if (Array.isArray(v) && v.length <= 4 && v.every((e) => typeof e === 'number' || typeof e === 'string')) parts.push(`${k}=[${v.join(',')}]`);
  }
  const text = parts.join(' ');
  return text.length <= 40 ? text || undefined : `${text.slice(0, 38)}…`;
}

/** A constant node drawn inside the box of the op that reads it: `full` of at most 4 elements. */
function inlineConstant(node: Node): string | undefined {
  if (node.op !== 'full' || node.inputs.length !== 0) return undefined;
  const shape = node.attrs['shape'];
  if (!Array.isArray(shape) || shape.reduce((p: number, d) => p * Number(d), 1) > 4) return undefined;
  return `constant ${attrValueText(node.attrs['value'])}${shape.length ? ` [${shape.join(',')}]` : ''}`;
}

/** The boxes and edges `kiln graph` draws for a model, with each edge's type label. */
export interface GraphPicture {
  readonly boxes: readonly GraphBox[];
  readonly edges: readonly { from: number; to: number; label: string; value: Value }[];
}

/**
 * What {@link graphToSvg} draws, before layout: model inputs as boxes; stored parameters,
 * buffers and small constants written inside the box of each op that reads them (as Netron
 * does); one box per op; outputs as boxes at the bottom; an edge per value read, labelled with
 * its dtype and shape, symbolic dimensions by name.
 */
export function graphPicture(file: ModelFile, options: GraphSvgOptions = {}): GraphPicture {
  const build = options.optimized ? (g: Graph) => optimize(g).graph : (g: Graph) => g;
  const graph = build(file.graph);
  const typeOf = symbolicTypeLabels(file, build, graph);
  const label = (v: Value) => typeOf.get(v) ?? '?';
  const signature = file.signature;
  const boxes: GraphBox[] = [];
  const edges: { from: number; to: number; label: string; value: Value }[] = [];
  const producer = new Map<Value, number>();
  const inlined = new Map<Value, string>();
  const add = (box: GraphBox) => boxes.push(box) - 1;
  graph.inputs.forEach((v, i) => {
    const s = signature.inputs[i];
    const name = s?.name ?? v.name ?? `input ${i}`;
    const role = s?.role ?? 'input';
    if (role === 'input') producer.set(v, add({ kind: 'input', title: name, lines: [], fused: false, details: [`model input ${name}: ${label(v)}`] }));
    else inlined.set(v, `${name} ${label(v)}`);
  });
  for (const node of graph.nodes) {
    const constant = inlineConstant(node);
    if (constant) {
      inlined.set(node.outputs[0], constant);
      continue;
    }
    const fused = FUSED_OPS.has(node.op) || ((node.subgraphs?.length ?? 0) > 0 && /fused|epilogue/i.test(node.op));
    const attrs = options.optimized ? node.attrs : symbolicAttrs(file, node);
    const lines: string[] = [];
    if (fused && node.subgraphs?.[0]) lines.push(...bodyOps(node.subgraphs[0]));
    else {
      const a = attrText(attrs);
      if (a) lines.push(a);
    }
    node.inputs.forEach((v) => {
      const text = inlined.get(v);
      if (text) lines.push(text);
    });
    const details = [
      `${node.op}${fused && node.subgraphs?.[0] ? ` (fused: ${node.subgraphs[0].nodes.map((n) => n.op).join(', ')})` : ''}`,
      ...Object.entries(attrs).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `  ${k} = ${attrValueText(v)}`),
      ...node.inputs.map((v, k) => `  input ${k}: ${inlined.get(v) ?? label(v)}`),
      ...node.outputs.map((v, k) => `  output ${k}: ${label(v)}`),
    ];
    const index = add({ kind: 'node', title: node.op, lines, fused, details });
    for (const v of node.inputs) {
      const from = producer.get(v);
      if (from !== undefined) edges.push({ from, to: index, label: label(v), value: v });
    }
    for (const v of node.outputs) producer.set(v, index);
  }
  graph.outputs.forEach((v, i) => {
    const s = signature.outputs[i];
    const name = s?.name ?? `output ${i}`;
    const role = s?.role && s.role !== 'output' ? s.role : 'output';
    const index = add({ kind: 'output', title: name, lines: role === 'output' ? [] : [role], fused: false, details: [`${role} ${name}: ${label(v)}`] });
    const from = producer.get(v);
    if (from !== undefined) edges.push({ from, to: index, label: label(v), value: v });
    else if (inlined.has(v)) boxes[index] = { ...boxes[index], lines: [...boxes[index].lines, inlined.get(v)!] };
  });
  return { boxes, edges };
}

const STYLE = {
  input: { fill: '#e3f0ff', stroke: '#1f5fbf' },
  node: { fill: '#eef3fb', stroke: '#4a6fa5' },
  fused: { fill: '#fff4e5', stroke: '#e67e00' },
  output: { fill: '#e8f5e9', stroke: '#2e7d32' },
} as const;

/**
 * A layered drawing of a saved model's graph as SVG, read top to bottom like Netron's: the
 * model's inputs on top in blue, one box per op with short attributes and, in grey, the stored
 * parameters, buffers and small constants it reads; the value's dtype and shape beside every
 * edge (symbolic dimensions by name, `f32[batch,10]`); outputs at the bottom in green; fused
 * kernels outlined in dashed orange with their body's ops listed. Edges are routed between
 * boxes (see graph-layout.ts). Each box has a `<title>`, shown on hover, with every attribute,
 * input and output. This is what `kiln graph model.kiln --out graph.svg` writes.
 *
 * @example
 * ```ts
 * writeFileSync('graph.svg', graphToSvg(readModel(bytes), { title: 'model.kiln' }));
 * ```
 */
export function graphToSvg(file: ModelFile, options: GraphSvgOptions = {}): string {
  const { boxes, edges } = graphPicture(file, options);
  const sizes = boxes.map((b) => {
    const w = Math.max(72, textW(b.title, b.kind === 'node' ? 13 : 13) + 28, ...b.lines.map((l) => textW(l, 11) + 20));
    const out = edges.find((e) => e.from === boxes.indexOf(b));
    return { w, h: 28 + 14 * b.lines.length, right: out ? Math.max(w / 2, 6 + textW(out.label, 10) + 8) : w / 2, sink: b.kind === 'output' };
  });
  const layout = layoutLayered(sizes, edges, { gap: 22, rowGap: 52 });
  const margin = 24;
  const top = margin + (options.title ? 34 : 0);
  const legend = [
    ['model input', STYLE.input, ''], ['op (parameters it reads in grey)', STYLE.node, ''],
    ['fused kernel (body ops listed)', STYLE.fused, ' stroke-dasharray="6 3"'], ['output', STYLE.output, ''],
  ] as const;
  const legendW = legend.reduce((s, [t]) => s + 42 + textW(t, 11), 0);
  const titleW = options.title ? textW(options.title, 16) : 0;
  const width = Math.max(layout.width, legendW, titleW) + 2 * margin;
  const dx = margin + (width - 2 * margin - layout.width) / 2;
  const height = top + layout.height + 56;
  const pos = layout.nodes.map((p, i) => ({ x: p.x + dx, y: p.y + top, w: sizes[i].w, h: sizes[i].h }));

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${Math.round(width)}" height="${Math.round(height)}" viewBox="0 0 ${Math.round(width)} ${Math.round(height)}" font-family="Helvetica, Arial, sans-serif">`);
  out.push('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#777"/></marker></defs>');
  out.push(`<rect x="0" y="0" width="${Math.round(width)}" height="${Math.round(height)}" fill="#ffffff"/>`);
  if (options.title) out.push(`<text x="${r(width / 2)}" y="${margin + 12}" text-anchor="middle" font-size="16" font-weight="bold">${esc(options.title)}</text>`);

  // where each edge leaves its source (bottom centre) and enters its target (spread along the top, by where it comes from)
  const routed = layout.edges.map((e, k) => ({ ...e, label: edges[k].label, value: edges[k].value }));
  const lastX = (e: (typeof routed)[number]) => (e.through.length ? e.through.at(-1)!.x + dx : pos[e.from].x + pos[e.from].w / 2);
  const endX = new Map<(typeof routed)[number], number>();
  boxes.forEach((_, i) => {
    const into = routed.filter((e) => e.to === i).sort((a, b) => lastX(a) - lastX(b));
    into.forEach((e, k) => endX.set(e, pos[i].x + (pos[i].w * (k + 1)) / (into.length + 1)));
  });
  const curve = (x1: number, y1: number, x2: number, y2: number) => {
    const my = (y1 + y2) / 2;
    return `C${r(x1)},${r(my)} ${r(x2)},${r(my)} ${r(x2)},${r(y2)}`;
  };
  for (const e of routed) {
    // straight down past the value's label first, so the edges fan out below it, not across it
    const x0 = pos[e.from].x + pos[e.from].w / 2;
    let y = pos[e.from].y + pos[e.from].h + STUB;
    let x = x0;
    let d = `M${r(x)},${r(y - STUB)} L${r(x)},${r(y)}`;
    for (const p of e.through) {
      const px = p.x + dx;
      d += ` ${curve(x, y, px, p.top + top)} L${r(px)},${r(p.bottom + top)}`;
      x = px;
      y = p.bottom + top;
    }
    d += ` ${curve(x, y, endX.get(e)!, pos[e.to].y)}`;
    out.push(`<path d="${d}" fill="none" stroke="#8a8a8a" stroke-width="1.3" marker-end="url(#arrow)"/>`);
  }
  // one label per value, beside the point where its edges leave the source
  // (a node with several outputs read elsewhere stacks their labels)
  const labelled = new Set<Value>();
  const stacked = new Map<number, number>();
  for (const e of routed) {
    if (labelled.has(e.value)) continue;
    labelled.add(e.value);
    const k = stacked.get(e.from) ?? 0;
    stacked.set(e.from, k + 1);
    const x = pos[e.from].x + pos[e.from].w / 2 + 6;
    const y = pos[e.from].y + pos[e.from].h + 14 + 13 * k;
    out.push(`<rect x="${r(x - 2)}" y="${r(y - 10)}" width="${r(textW(e.label, 10) + 4)}" height="13" rx="2" fill="#ffffff" fill-opacity="0.9"/>`);
    out.push(`<text x="${r(x)}" y="${r(y)}" font-size="10" fill="#555">${esc(e.label)}</text>`);
  }
  boxes.forEach((b, i) => {
    const p = pos[i];
    const style = b.fused ? STYLE.fused : STYLE[b.kind];
    const rx = b.kind === 'node' ? 5 : 13;
    out.push(`<g class="box" data-box="${i}" data-kind="${b.kind}"${b.fused ? ' data-fused="true"' : ''}>`);
    out.push(`<title>${esc(b.details.join('\n'))}</title>`);
    out.push(`<rect x="${r(p.x)}" y="${r(p.y)}" width="${r(p.w)}" height="${p.h}" rx="${rx}" fill="${style.fill}" stroke="${style.stroke}" stroke-width="${b.fused ? 2.2 : 1.3}"${b.fused ? ' stroke-dasharray="6 3"' : ''}/>`);
    const cx = r(p.x + p.w / 2);
    out.push(`<text x="${cx}" y="${r(p.y + 19)}" text-anchor="middle" font-size="13" font-weight="${b.kind === 'node' ? 'bold' : 'normal'}" fill="#222">${esc(b.title)}</text>`);
    b.lines.forEach((line, k) => out.push(`<text x="${cx}" y="${r(p.y + 33 + 14 * k)}" text-anchor="middle" font-size="11" fill="${b.fused && !line.includes(' ') ? '#9a5200' : '#666'}">${esc(line)}</text>`));
    out.push('</g>');
  });
  let lx = margin;
  const ly = height - 18;
  for (const [text, style, dash] of legend) {
    out.push(`<rect x="${r(lx)}" y="${ly - 10}" width="18" height="12" rx="3" fill="${style.fill}" stroke="${style.stroke}"${dash}/>`);
    out.push(`<text x="${r(lx + 24)}" y="${ly}" font-size="11" fill="#444">${esc(text)}</text>`);
    lx += 42 + textW(text, 11);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

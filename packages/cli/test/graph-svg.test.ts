/**
 * `kiln graph`: what is drawn (boxes, inlined parameters, symbolic shapes on every edge, fused
 * kernels), where (the layered layout: no overlaps, edges only downwards and never through a
 * box, crossings removed), the HTML page, and @kiln/nn's plotMetricsSvg.
 */
import type { Tensor } from '@kiln/eager';
import { manualSeed, randn } from '@kiln/eager';
import * as nn from '@kiln/nn';
import { plotMetricsSvg } from '@kiln/nn';
import { compile, save } from '@kiln/tracer';
import { readModel } from '@kiln/serializer';
import { describe, expect, it } from 'vitest';
import { EXIT, graphPicture, graphToHtml, graphToSvg, layoutLayered, symbolicTypeLabels } from '../src/index.js';
import { flattened, kiln, mlp, transformer, transformerDynamic } from './fixtures.js';

/** A minimal XML well-formedness check: tags nest and close, attributes are quoted, no stray `<` or `&`. */
function expectWellFormed(svg: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(svg); m; m = tag.exec(svg)) {
    const text = svg.slice(last, m.index);
    expect(text).not.toMatch(/[<>]|&(?!(amp|lt|gt|quot|apos);)/);
    last = tag.lastIndex;
    if (m[1]) expect(stack.pop(), `closing </${m[2]}>`).toBe(m[2]);
    else if (!m[4]) stack.push(m[2]);
  }
  expect(svg.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
  expect(svg.trimStart().startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
}

const MLP = readModel(mlp().bytes);
const BLOCK = readModel(transformerDynamic());

/** The edge labels of a drawing, as drawn (one per value). */
const edgeLabels = (svg: string) => [...svg.matchAll(/<text [^>]*font-size="10" fill="#555">([^<]*)<\/text>/g)].map((m) => m[1]);

describe('what kiln graph draws', () => {
  it('the MLP: input, ops with their parameters inside, output; symbolic batch on every edge', () => {
    const svg = graphToSvg(MLP, { title: 'mlp <test>' });
    expectWellFormed(svg);
    for (const text of ['mlp &lt;test&gt;', '>matmul<', '>relu<', '>x<', '>y<', '>0.weight f32[32,64]<', '>2.bias f32[10]<']) expect(svg).toContain(text);
    // saved at batch 8, but no edge after the input says 8: the batch dimension is `batch` all the way down
    expect(edgeLabels(svg)).toEqual(['f32[batch,64]', 'f32[64,32]', 'f32[batch,32]', 'f32[batch,32]', 'f32[batch,32]', 'f32[32,10]', 'f32[batch,10]', 'f32[batch,10]']);
    expect(svg).not.toMatch(/f32\[8,/);
    const { boxes } = graphPicture(MLP);
    expect(boxes.map((b) => `${b.kind}:${b.title}`)).toEqual(['input:x', 'node:permute', 'node:matmul', 'node:add', 'node:relu', 'node:permute', 'node:matmul', 'node:add', 'output:y']);
  });

  it('the Transformer block: batch and seq through attention, symbolic reshape sizes, constants inline', () => {
    const svg = graphToSvg(BLOCK);
    expectWellFormed(svg);
    const labels = new Set(edgeLabels(svg));
    for (const l of ['f32[batch,seq,16]', 'f32[batch,seq,4,4]', 'f32[batch,4,seq,4]', 'f32[batch,4,4,seq]', 'f32[batch,4,seq,seq]', 'f32[batch,4,seq,1]', 'f32[batch,seq,32]']) expect(labels, l).toContain(l);
    expect([...labels].filter((l) => /\[2,|,5[,\]]/.test(l))).toEqual([]);
    expect(svg).toContain('>shape=[batch,seq,4,4]<');
    expect(svg).toContain('>constant 16<');
    expect(svg).not.toContain('>full<');
    // the fixed-shape block keeps its numbers
    expect(edgeLabels(graphToSvg(readModel(transformer().bytes)))).toContain('f32[2,5,16]');
  });

  it('reads a product of symbols off a flattening reshape', () => {
    const file = readModel(flattened());
    const labels = [...symbolicTypeLabels(file, (g) => g).values()];
    expect(labels).toEqual(['f32[batch,seq,16]', 'f32[8,16]', 'f32[8]', 'f32[batch·seq,16]', 'f32[16,8]', 'f32[batch·seq,8]', 'f32[batch·seq,8]', 'f32[batch·seq,8]']);
  });

  it('reads symbolic shapes below the saved size where the bounds leave no room above, and numbers where nothing moves', () => {
    manualSeed(14);
    const lin = new nn.Linear(6, 4);
    const f = compile((x: Tensor) => lin.forward(x).relu());
    const capped = readModel(save(f, [randn([8, 6])], { names: lin, dynamic: { 0: [0] }, symbols: [{ name: 'rows', min: 1, max: 8 }] }));
    expect([...symbolicTypeLabels(capped, (g) => g).values()]).toEqual(['f32[rows,6]', 'f32[4,6]', 'f32[4]', 'f32[6,4]', 'f32[rows,4]', 'f32[rows,4]', 'f32[rows,4]']);
    const fixed = readModel(save(f, [randn([8, 6])], { names: lin }));
    expect([...symbolicTypeLabels(fixed, (g) => g).values()]).toEqual(['f32[8,6]', 'f32[4,6]', 'f32[4]', 'f32[6,4]', 'f32[8,4]', 'f32[8,4]', 'f32[8,4]']);
  });

  it('--optimized draws the runtime\'s graph: fused kernels outlined with their body ops, shapes still symbolic', () => {
    const svg = graphToSvg(BLOCK, { optimized: true });
    expectWellFormed(svg);
    const fused = [...svg.matchAll(/<g class="box" data-box="\d+" data-kind="node" data-fused="true">\n<title>([^\n]*)/g)].map((m) => m[1]);
    expect(fused.length).toBeGreaterThanOrEqual(4);
    expect(fused.some((t) => t.startsWith('matmulEpilogue (fused: '))).toBe(true);
    expect(fused.some((t) => t.startsWith('fusedElementwise (fused: '))).toBe(true);
    expect(svg).toContain('stroke-dasharray="6 3"');
    expect(edgeLabels(svg)).toContain('f32[batch,seq,16]');
    expect(graphPicture(BLOCK, { optimized: true }).boxes.length).toBeLessThan(graphPicture(BLOCK).boxes.length);
  });

  it('gives every box a hover title with all attributes, inputs and outputs', () => {
    const { boxes } = graphPicture(MLP);
    expect(boxes[2].details).toEqual(['matmul', '  input 0: f32[batch,64]', '  input 1: f32[64,32]', '  output 0: f32[batch,32]']);
    expect(boxes[1].details).toEqual(['permute', '  axes = [1,0]', '  input 0: 0.weight f32[32,64]', '  output 0: f32[64,32]']);
    expect(graphToSvg(MLP)).toContain('<title>matmul\n  input 0: f32[batch,64]\n  input 1: f32[64,32]\n  output 0: f32[batch,32]</title>');
  });
});

/** Rectangles of the boxes as drawn. */
function rects(svg: string): { x: number; y: number; w: number; h: number }[] {
  return [...svg.matchAll(/<g class="box"[^>]*>\n<title>[^<]*<\/title>\n<rect x="([\d.-]+)" y="([\d.-]+)" width="([\d.]+)" height="([\d.]+)"/g)].map((m) => ({ x: +m[1], y: +m[2], w: +m[3], h: +m[4] }));
}

describe('the layered layout', () => {
  it('boxes never overlap, in the MLP and the Transformer block', () => {
    for (const svg of [graphToSvg(MLP), graphToSvg(BLOCK), graphToSvg(BLOCK, { optimized: true })]) {
      const rs = rects(svg);
      expect(rs.length).toBeGreaterThan(5);
      for (let i = 0; i < rs.length; i++) {
        for (let j = i + 1; j < rs.length; j++) {
          const [a, b] = [rs[i], rs[j]];
          const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
          expect(apart, `boxes ${i} and ${j}`).toBe(true);
        }
      }
    }
  });

  it('edges point down, and long edges pass each layer beside its boxes, not through them', () => {
    const { boxes, edges } = graphPicture(BLOCK);
    const nodes = boxes.map((b) => ({ w: 40 + 7 * b.title.length, h: 30, sink: b.kind === 'output' }));
    const layout = layoutLayered(nodes, edges);
    let long = 0;
    for (const e of layout.edges) {
      expect(layout.nodes[e.to].layer).toBeGreaterThan(layout.nodes[e.from].layer);
      expect(e.through.length).toBe(layout.nodes[e.to].layer - layout.nodes[e.from].layer - 1);
      if (e.through.length) long++;
      for (const p of e.through) {
        for (const [k, n] of layout.nodes.entries()) {
          if (p.top <= n.y && n.y < p.bottom) expect(p.x < n.x || p.x > n.x + nodes[k].w, `edge ${e.from}→${e.to} through box ${k}`).toBe(true);
        }
      }
    }
    expect(long).toBeGreaterThan(0); // the residual connections span many layers
  });

  it('orders each layer to remove crossings the input order has', () => {
    // a0 a1 feed b1 b0 crosswise; the barycenter sweep must uncross them
    const n = { w: 40, h: 20 };
    const layout = layoutLayered([n, n, n, n], [{ from: 0, to: 3 }, { from: 1, to: 2 }]);
    const [a0, a1, b1, b0] = layout.nodes;
    expect(Math.sign(a1.x - a0.x)).toBe(Math.sign(b1.x - b0.x));
    // a chain stays in one column
    const chain = layoutLayered([n, n, n], [{ from: 0, to: 1 }, { from: 1, to: 2 }]);
    expect(new Set(chain.nodes.map((p) => p.x)).size).toBe(1);
    expect(chain.nodes.map((p) => p.layer)).toEqual([0, 1, 2]);
  });

  it('puts a parameter-only op right above the op that reads it', () => {
    const { boxes, edges } = graphPicture(MLP);
    const layout = layoutLayered(boxes.map(() => ({ w: 60, h: 30 })), edges);
    // the second permute (box 5) reads only a parameter; its reader, the second matmul, is box 6
    expect(layout.nodes[5].layer).toBe(layout.nodes[6].layer - 1);
  });
});

describe('kiln graph --out', () => {
  it('writes SVG or HTML by the extension, and asks for --out', async () => {
    const fs = new Map([['mlp.kiln', mlp().bytes]]);
    const r = await kiln(['graph', 'mlp.kiln', '--out', 'g.svg'], fs);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/^wrote g\.svg \(7 nodes, [\d,]+ bytes of SVG\)/);
    expectWellFormed(new TextDecoder().decode(fs.get('g.svg')));
    const html = await kiln(['graph', 'mlp.kiln', '--out', 'g.html', '--title', 'digits'], fs);
    expect(html.stdout).toMatch(/^wrote g\.html \(7 nodes, [\d,]+ bytes of HTML\)/);
    expect(new TextDecoder().decode(fs.get('g.html'))).toBe(graphToHtml(readModel(fs.get('mlp.kiln')!), { title: 'digits' }));
    const bad = await kiln(['graph', 'mlp.kiln'], fs);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toContain('graph: needs --out <file.svg> or --out <file.html>');
    expect((await kiln(['graph', 'mlp.kiln', '--out', 'g.png'], fs)).stderr).toContain('name the file *.svg (a picture) or *.html');
  });

  it('the HTML page: the SVG, the model summary, hover script, nothing fetched', () => {
    const html = graphToHtml(MLP, { title: 'mlp' });
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>') + 6);
    expect(svg).toBe(graphToSvg(MLP, { title: 'mlp' }).trimEnd());
    expect(html).toContain('<pre id="text">model: .kiln 1.0');
    expect(html).toContain('x         input      f32[batch,64]');
    expect(html).toContain("addEventListener('mouseenter'");
    expect(html.replace('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:|<link|src=/);
  });
});

describe('plotMetricsSvg', () => {
  it('draws lines, axes labels, ticks and a legend', () => {
    const svg = plotMetricsSvg([
      { name: 'loss & co', points: [[1, 2.3], [2, 1.1], [3, 0.4]] },
      { name: 'accuracy', points: [[3, 0.9]], axis: 'right' },
    ], { title: 'training', xLabel: 'step', yLabel: 'loss', y2Label: 'accuracy' });
    expectWellFormed(svg);
    for (const text of ['>training<', '>step<', '>loss<', 'loss &amp; co (left axis)', 'accuracy (right axis)', '<polyline', '>2.5<']) expect(svg).toContain(text);
  });
});

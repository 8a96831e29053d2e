/** `kiln graph` and graphToSvg, and @kiln/nn's plotMetricsSvg: well-formed SVG with the expected labels. */
import { readModel } from '@kiln/serializer';
import { plotMetricsSvg } from '@kiln/nn';
import { describe, expect, it } from 'vitest';
import { EXIT, graphToSvg } from '../src/index.js';
import { kiln, mlp, transformer } from './fixtures.js';

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

describe('graphToSvg / kiln graph', () => {
  it('draws the MLP: inputs, ops, shapes with symbols, outputs', async () => {
    const svg = graphToSvg(readModel(mlp().bytes), { title: 'mlp <test>' });
    expectWellFormed(svg);
    for (const text of ['mlp &lt;test&gt;', '>matmul<', '>relu<', '>x<', '>0.weight<', '>y<', 'f32[batch,64]', 'f32[32,64]']) expect(svg).toContain(text);
  });

  it('draws the transformer block', () => {
    const svg = graphToSvg(readModel(transformer().bytes));
    expectWellFormed(svg);
    expect(svg).toContain('>matmul<');
    expect(svg).toContain('f32[2,5,16]');
  });

  it('the command writes the file, and asks for --out', async () => {
    const fs = new Map([['mlp.kiln', mlp().bytes]]);
    const r = await kiln(['graph', 'mlp.kiln', '--out', 'g.svg'], fs);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/^wrote g\.svg \(\d+ nodes/);
    expectWellFormed(new TextDecoder().decode(fs.get('g.svg')));
    const bad = await kiln(['graph', 'mlp.kiln'], fs);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toContain('graph: needs --out <file.svg>');
    const help = await kiln(['graph', '--help'], fs);
    expect(help.stdout).toContain('graph <model.kiln> --out <graph.svg>');
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

import type { ModelFile } from '@kiln/serializer';
import type { GraphSvgOptions } from './graph-svg.js';
import { graphToSvg } from './graph-svg.js';
import { formatSummary } from './inspect.js';

const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const STYLE = `
body { margin: 0; font-family: Helvetica, Arial, sans-serif; color: #222; display: flex; height: 100vh; }
#graph { flex: 1; overflow: auto; }
#graph svg { display: block; margin: 0 auto; }
aside { width: 420px; flex: none; border-left: 1px solid #ddd; padding: 12px 16px; overflow: auto; background: #fafafa; }
aside h2 { font-size: 15px; margin: 4px 0 8px; }
aside pre { font-size: 12px; white-space: pre; overflow-x: auto; margin: 0; }
aside p { font-size: 12px; color: #666; }
g.box { cursor: pointer; }
g.box:hover rect, g.box.pinned rect { stroke-width: 3; filter: drop-shadow(0 0 3px #7aa7e0); }
`;

const SCRIPT = `
const heading = document.getElementById('heading');
const text = document.getElementById('text');
const summary = text.textContent;
let pinned = null;
function show(g) {
  const lines = g.querySelector('title').textContent.split('\\n');
  heading.textContent = lines[0];
  text.textContent = lines.slice(1).join('\\n');
}
function reset() {
  heading.textContent = 'model';
  text.textContent = summary;
}
for (const g of document.querySelectorAll('g.box')) {
  g.addEventListener('mouseenter', () => { if (!pinned) show(g); });
  g.addEventListener('mouseleave', () => { if (!pinned) reset(); });
  g.addEventListener('click', (event) => {
    event.stopPropagation();
    if (pinned) pinned.classList.remove('pinned');
    pinned = pinned === g ? null : g;
    if (pinned) { pinned.classList.add('pinned'); show(g); } else reset();
  });
}
document.body.addEventListener('click', () => { if (pinned) { pinned.classList.remove('pinned'); pinned = null; reset(); } });
`;

/**
 * The graph drawing ({@link graphToSvg}) in a self-contained HTML page: the picture on the
 * left, and on the right the model's summary (signature, op counts, parameters) or, while the
 * pointer is on a box, that op's attributes, inputs and outputs with their types; a click pins
 * a box. No network, no external scripts. This is what `kiln graph model.kiln --out graph.html`
 * writes.
 *
 * @example
 * ```ts
 * writeFileSync('graph.html', graphToHtml(readModel(bytes), { title: 'model.kiln' }));
 * ```
 */
export function graphToHtml(file: ModelFile, options: GraphSvgOptions = {}): string {
  const svg = graphToSvg(file, options).trimEnd();
  const title = options.title ?? 'Kiln graph';
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${esc(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<div id="graph">\n${svg}\n</div>`,
    '<aside>',
    '<h2 id="heading">model</h2>',
    `<pre id="text">${esc(formatSummary(file, { graph: false }))}</pre>`,
    '<p>Point at a box for its attributes, inputs and outputs; click to pin it.</p>',
    '</aside>',
    `<script>${SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

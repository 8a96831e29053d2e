/**
 * A small, dependency-free SVG line plot for logged metrics (loss per step, accuracy per epoch):
 * axes with "nice" ticks, axis labels, a title and a legend. The output is a plain SVG string,
 * viewable in any browser and convertible to PNG with any SVG renderer.
 */

/** One line: a name for the legend and its points in data coordinates. */
export interface PlotSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  /** Stroke colour (CSS); default from a built-in palette. */
  readonly color?: string;
  /** Draw on the right-hand axis (for a second quantity, such as accuracy next to loss). */
  readonly axis?: 'left' | 'right';
  /** Mark each point with a dot (default: only when the series has at most 60 points). */
  readonly markers?: boolean;
}

export interface PlotOptions {
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  /** Label of the right-hand axis, when a series uses it. */
  readonly y2Label?: string;
  /** Size in pixels (default 720 × 420). */
  readonly width?: number;
  readonly height?: number;
  /** Fixed axis ranges; default from the data. */
  readonly yRange?: readonly [number, number];
  readonly y2Range?: readonly [number, number];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** Escapes text for SVG element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Tick values covering [lo, hi] at a 1-2-5 step, about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 6): { ticks: number[]; lo: number; hi: number; step: number } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (hi === lo) [lo, hi] = lo === 0 ? [0, 1] : [lo - Math.abs(lo) * 0.1, hi + Math.abs(hi) * 0.1];
  const raw = (hi - lo) / Math.max(1, count - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const start = Math.floor(lo / step + 1e-9) * step;
  const end = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let t = start; t <= end + step * 1e-6; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return { ticks, lo: start, hi: end, step };
}

function tickText(v: number, step: number): string {
  if (Math.abs(v) >= 1e5) return v.toExponential(1);
  let decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  while (decimals < 8 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6) decimals++;
  return v.toFixed(decimals);
}

const r1 = (v: number) => Math.round(v * 10) / 10;

/**
 * Draws the series as an SVG line plot. Series with `axis: 'right'` share a second y axis.
 *
 * @example
 * ```ts
 * const svg = plotMetricsSvg([
 *   { name: 'loss', points: losses.map((l, i) => [i + 1, l]) },
 *   { name: 'test accuracy', points: acc.map((a, e) => [(e + 1) * stepsPerEpoch, a]), axis: 'right' },
 * ], { title: 'training', xLabel: 'step', yLabel: 'loss', y2Label: 'accuracy' });
 * writeFileSync('training.svg', svg);
 * ```
 */
export function plotMetricsSvg(series: readonly PlotSeries[], options: PlotOptions = {}): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  const hasRight = series.some((s) => s.axis === 'right');
  const marginLeft = 72;
  const plotW = width - marginLeft - (hasRight ? 72 : 24);
  const legend: { text: string; color: string; dx: number; row: number }[] = [];
  let dx = 0;
  let row = 0;
  series.forEach((s, k) => {
    const text = s.name + (hasRight ? (s.axis === 'right' ? ' (right axis)' : ' (left axis)') : '');
    const entryW = 30 + text.length * 6.6 + 28; // swatch, text at about 6.6 px a character, gap
    if (dx > 0 && dx + entryW > plotW) {
      dx = 0;
      row++;
    }
    legend.push({ text, color: s.color ?? PALETTE[k % PALETTE.length], dx, row });
    dx += entryW;
  });
  const margin = { left: marginLeft, right: hasRight ? 72 : 24, top: options.title ? 44 : 20, bottom: 70 + 22 * (series.length ? row + 1 : 0) };
  const plotH = height - margin.top - margin.bottom;
  const finite = (s: PlotSeries) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const all = series.flatMap(finite);
  const range = (values: number[]): [number, number] => (values.length ? [Math.min(...values), Math.max(...values)] : [0, 1]);
  const xs = niceTicks(...range(all.map((p) => p[0])), 8);
  const left = series.filter((s) => s.axis !== 'right');
  const right = series.filter((s) => s.axis === 'right');
  const ys = niceTicks(...(options.yRange ?? range(left.flatMap(finite).map((p) => p[1]))), 6);
  const y2s = niceTicks(...(options.y2Range ?? range(right.flatMap(finite).map((p) => p[1]))), 6);
  const px = (x: number) => margin.left + ((x - xs.lo) / (xs.hi - xs.lo)) * plotW;
  const py = (y: number, t: typeof ys) => margin.top + plotH - ((y - t.lo) / (t.hi - t.lo)) * plotH;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  if (options.title) out.push(`<text x="${width / 2}" y="26" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(options.title)}</text>`);
  // grid and ticks
  const x0 = margin.left;
  const x1 = margin.left + plotW;
  const yTop = margin.top;
  const yBot = margin.top + plotH;
  for (const t of ys.ticks) {
    const y = r1(py(t, ys));
    out.push(`<line x1="${x0}" y1="${y}" x2="${x1}" y2="${y}" stroke="#e6e6e6"/>`);
    out.push(`<text x="${x0 - 8}" y="${y + 4}" text-anchor="end">${tickText(t, ys.step)}</text>`);
  }
  if (hasRight) {
    for (const t of y2s.ticks) {
      const y = r1(py(t, y2s));
      out.push(`<line x1="${x1}" y1="${y}" x2="${x1 + 5}" y2="${y}" stroke="#333"/>`);
      out.push(`<text x="${x1 + 8}" y="${y + 4}" text-anchor="start">${tickText(t, y2s.step)}</text>`);
    }
  }
  for (const t of xs.ticks) {
    const x = r1(px(t));
    out.push(`<line x1="${x}" y1="${yTop}" x2="${x}" y2="${yBot}" stroke="#f0f0f0"/>`);
    out.push(`<line x1="${x}" y1="${yBot}" x2="${x}" y2="${yBot + 5}" stroke="#333"/>`);
    out.push(`<text x="${x}" y="${yBot + 18}" text-anchor="middle">${tickText(t, xs.step)}</text>`);
  }
  // axes
  out.push(`<line x1="${x0}" y1="${yBot}" x2="${x1}" y2="${yBot}" stroke="#333"/>`);
  out.push(`<line x1="${x0}" y1="${yTop}" x2="${x0}" y2="${yBot}" stroke="#333"/>`);
  if (hasRight) out.push(`<line x1="${x1}" y1="${yTop}" x2="${x1}" y2="${yBot}" stroke="#333"/>`);
  if (options.xLabel) out.push(`<text x="${x0 + plotW / 2}" y="${yBot + 38}" text-anchor="middle" font-size="13">${escapeXml(options.xLabel)}</text>`);
  if (options.yLabel) out.push(`<text transform="translate(18 ${yTop + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="13">${escapeXml(options.yLabel)}</text>`);
  if (hasRight && options.y2Label) out.push(`<text transform="translate(${width - 14} ${yTop + plotH / 2}) rotate(90)" text-anchor="middle" font-size="13">${escapeXml(options.y2Label)}</text>`);
  // lines
  out.push(`<defs><clipPath id="plot-area"><rect x="${x0}" y="${yTop - 4}" width="${plotW}" height="${plotH + 8}"/></clipPath></defs>`);
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    const t = s.axis === 'right' ? y2s : ys;
    const pts = finite(s).map(([x, y]) => `${r1(px(x))},${r1(py(y, t))}`);
    out.push(`<g clip-path="url(#plot-area)" data-series="${escapeXml(s.name)}">`);
    if (pts.length > 1) out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8" stroke-linejoin="round" points="${pts.join(' ')}"/>`);
    if (s.markers ?? pts.length <= 60) for (const p of pts) {
      const [cx, cy] = p.split(',');
      out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"/>`);
    }
    out.push('</g>');
  });
  // legend, below the x label: entries side by side, wrapping to a new row when out of width
  for (const e of legend) {
    const lx = x0 + e.dx;
    const ly = yBot + 60 + e.row * 22;
    out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 24}" y2="${ly - 4}" stroke="${e.color}" stroke-width="3"/>`);
    out.push(`<text x="${lx + 30}" y="${ly}">${escapeXml(e.text)}</text>`);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

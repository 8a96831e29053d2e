import { ArgumentError } from '@kiln/core';
import type { EpochLogs, History, StepLogs } from './fit.js';
import type { PlotOptions, PlotSeries } from './plot.js';
import { plotMetricsSvg } from './plot.js';

/**
 * Reads a JSONL metric log written by `jsonlLogger` back into a {@link History} (blank lines
 * are skipped; a line that is not JSON is an ArgumentError naming its line number).
 *
 * @example
 * ```ts
 * const history = historyFromJsonl(readFileSync('metrics.jsonl', 'utf8'));
 * writeFileSync('metrics.svg', plotHistorySvg(history));
 * ```
 */
export function historyFromJsonl(text: string): History {
  const history: History = { epochs: [], steps: [] };
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      throw new ArgumentError(`historyFromJsonl: line ${i + 1} is not JSON: ${line.slice(0, 80)}`);
    }
    if (record === null || typeof record !== 'object') throw new ArgumentError(`historyFromJsonl: line ${i + 1} is not a JSON object`);
    const { kind, ...logs } = record as { kind?: unknown };
    if (kind === 'step') history.steps.push(logs as StepLogs);
    else if (kind === 'epoch') history.epochs.push(logs as EpochLogs);
    else throw new ArgumentError(`historyFromJsonl: line ${i + 1} has kind ${JSON.stringify(kind)}; expected "step" or "epoch"`);
  });
  return history;
}

/**
 * The lines worth plotting from a history, against the global step: the training loss per step,
 * and each epoch metric at its epoch's last step — losses on the left axis, metrics named like
 * accuracy on the right.
 *
 * @example
 * ```ts
 * const series = historySeries(history); // [{ name: 'training loss (per step)', points }, …]
 * writeFileSync('loss.svg', plotMetricsSvg(series.filter((s) => s.axis !== 'right'), { title: 'losses' }));
 * ```
 */
export function historySeries(history: History): PlotSeries[] {
  const series: PlotSeries[] = [];
  if (history.steps.length > 0) series.push({ name: 'training loss (per step)', points: history.steps.map((s) => [s.globalStep, s.loss]) });
  const endStep = new Map<number, number>();
  for (const s of history.steps) endStep.set(s.epoch, s.globalStep);
  const x = (e: EpochLogs) => endStep.get(e.epoch) ?? e.epoch;
  const names = new Set<string>();
  for (const e of history.epochs) for (const key of Object.keys(e)) if (!['epoch', 'steps', 'seconds'].includes(key) && !(key === 'loss' && history.steps.length > 0)) names.add(key);
  for (const name of names) {
    const points = history.epochs.filter((e) => typeof e[name] === 'number' && Number.isFinite(e[name])).map((e): [number, number] => [x(e), e[name]]);
    series.push({ name: `${name} (per epoch)`, points, markers: true, ...(/acc/i.test(name) ? { axis: 'right' as const } : {}) });
  }
  return series;
}

/**
 * Draws a fit history (or a JSONL log read with {@link historyFromJsonl}) with `plotMetricsSvg`.
 *
 * @example
 * ```ts
 * const history = fit({ … });
 * writeFileSync('training.svg', plotHistorySvg(history, { title: 'digits MLP' }));
 * ```
 */
export function plotHistorySvg(history: History, options: PlotOptions = {}): string {
  const series = historySeries(history);
  const right = series.some((s) => s.axis === 'right');
  return plotMetricsSvg(series, { title: 'training', xLabel: history.steps.length > 0 ? 'training step' : 'epoch', yLabel: 'loss', ...(right ? { y2Label: 'accuracy' } : {}), ...options });
}

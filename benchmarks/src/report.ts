/** Benchmark results as JSON and as a markdown table. */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchRecord, Params } from './harness.js';
import type { MachineInfo } from './machine.js';

export interface BenchReport {
  /** ISO 8601 time the run finished. */
  readonly date: string;
  readonly machine: MachineInfo;
  readonly records: readonly BenchRecord[];
}

/** A number with about 3 significant digits, no exponent: 1234.5 → '1235', 12.345 → '12.3', 0.01234 → '0.0123'. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= 100) return x.toFixed(0);
  const digits = Math.max(0, 2 - Math.floor(Math.log10(abs)));
  return x.toFixed(Math.min(digits, 6));
}

export function formatParams(params: Params): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

const COLUMNS = ['workload', 'implementation', 'median ms', 'min ms', 'max ms', 'µs/op', 'GFLOP/s', 'samples', 'params'] as const;

/** One markdown table row per record; skipped records say why in the median column. */
export function formatTable(records: readonly BenchRecord[]): string {
  const opt = (x: number | null | undefined): string => (x === null || x === undefined ? '' : formatNumber(x));
  const rows = records.map((r) => {
    const timing = r.skipped !== undefined ? [`skipped: ${r.skipped}`, '', ''] : [opt(r.medianMs), opt(r.minMs), opt(r.maxMs)];
    return [r.workload, r.implementation, ...timing, opt(r.usPerOp), opt(r.gflops), String(r.samples), formatParams(r.params)];
  });
  return [`| ${COLUMNS.join(' | ')} |`, `|${COLUMNS.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)].join('\n');
}

export function formatMachine(m: MachineInfo): string {
  return `Node ${m.node} on ${m.platform}/${m.arch}, ${m.cpuModel} (${m.cores} cores), ${m.memoryGiB} GiB` + (m.commit === null ? '' : `, commit ${m.commit}`);
}

export function formatMarkdown(report: BenchReport): string {
  return [
    '# Benchmark results',
    '',
    `${report.date} — ${formatMachine(report.machine)}.`,
    '',
    'Times are per run (median / min / max over the timed repetitions, after warm-up). Compare numbers only within one run.',
    '',
    formatTable(report.records),
    '',
  ].join('\n');
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Writes `latest.json` and `latest.md` into `dir`; returns their paths. */
export function writeReport(dir: string, report: BenchReport): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'latest.json');
  const markdown = join(dir, 'latest.md');
  writeAtomically(json, `${JSON.stringify(report, null, 2)}\n`);
  writeAtomically(markdown, formatMarkdown(report));
  return { json, markdown };
}

/** Benchmark results as JSON and as a markdown table. */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchRecord, Params } from './harness.js';
import type { MachineInfo } from './machine.js';
import { evaluateTargets, type TargetResult } from './targets.js';

export interface BenchReport {
  /** ISO 8601 time the run finished. */
  readonly date: string;
  readonly machine: MachineInfo;
  readonly records: readonly BenchRecord[];
  /** 1, 5 and 15-minute load averages when the run finished (with the machine's at the start: how busy the machine was). */
  readonly loadAverageAtEnd?: readonly number[];
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
    const timing = r.failed !== undefined ? [`FAILED: ${r.failed}`, '', ''] : r.skipped !== undefined ? [`skipped: ${r.skipped}`, '', ''] : [opt(r.medianMs), opt(r.minMs), opt(r.maxMs)];
    return [r.workload, r.implementation, ...timing, opt(r.usPerOp), opt(r.gflops), String(r.samples), formatParams(r.params)];
  });
  return [`| ${COLUMNS.join(' | ')} |`, `|${COLUMNS.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)].join('\n');
}

export function formatMachine(m: MachineInfo): string {
  return (
    `Node ${m.node} on ${m.platform}/${m.arch}, ${m.cpuModel} (${m.cores} cores), ${m.memoryGiB} GiB` +
    (m.commit === null ? '' : `, commit ${m.commit}`) +
    (m.loadAverage === undefined ? '' : `, load average at start ${m.loadAverage.join(' / ')} (1 / 5 / 15 min)`)
  );
}

/** Implementations whose name starts with `kiln-` are Kiln's; the rest are peers. */
export const isKiln = (implementation: string): boolean => implementation.startsWith('kiln-');

const KILN_EAGER = 'kiln-eager-cpu';
const KILN_COMPILED = 'kiln-compiled-cpu';

/**
 * One markdown table per workload that has peers: every implementation's median, min and rate, and
 * for each peer the median-time ratios Kiln eager / peer and Kiln compiled / peer (< 1: Kiln faster).
 */
export function formatComparison(records: readonly BenchRecord[]): string {
  const workloads = [...new Set(records.map((r) => r.workload))].filter((w) => records.some((r) => r.workload === w && !isKiln(r.implementation)));
  const sections = workloads.map((w) => {
    const rows = records.filter((r) => r.workload === w);
    const median = (impl: string) => rows.find((r) => r.implementation === impl && r.medianMs !== null)?.medianMs ?? null;
    // Workloads without Kiln eager / compiled rows (e.g. the deploy runtime) compare with their first Kiln implementation.
    const other = rows.find((r) => isKiln(r.implementation))?.implementation;
    const [first, second] = median(KILN_EAGER) !== null || median(KILN_COMPILED) !== null || other === undefined
      ? [{ label: 'Kiln eager', impl: KILN_EAGER }, { label: 'Kiln compiled', impl: KILN_COMPILED }]
      : [{ label: other, impl: other }, null];
    const eager = median(first.impl);
    const compiled = second === null ? null : median(second.impl);
    const ratio = (kiln: number | null, r: BenchRecord) => (kiln === null || r.medianMs === null || isKiln(r.implementation) ? '' : `${formatNumber(kiln / r.medianMs)}×`);
    const body = rows.map((r) => {
      const time = r.failed !== undefined ? `FAILED: ${r.failed}` : r.skipped !== undefined ? `skipped: ${r.skipped}` : formatNumber(r.medianMs!);
      const rate = r.usPerOp !== undefined ? `${formatNumber(r.usPerOp)} µs/op` : r.gflops !== undefined ? `${formatNumber(r.gflops)} GFLOP/s` : '';
      const ratios = second === null ? [ratio(eager, r)] : [ratio(eager, r), ratio(compiled, r)];
      return `| ${[r.implementation, time, r.minMs === null ? '' : formatNumber(r.minMs), rate, ...ratios].map(cell).join(' | ')} |`;
    });
    const heads = [first, ...(second === null ? [] : [second])].map((k) => `${k.label} / this`);
    return [`### ${w}`, '', `| implementation | median ms | min ms | rate (median) | ${heads.join(' | ')} |`, `|---|---|---|---|${heads.map(() => '---').join('|')}|`, ...body].join('\n');
  });
  return sections.join('\n\n');
}

/** The issue's targets: Kiln, the fastest listed peer, the ratio, what is required and whether it holds. */
export function formatTargets(results: readonly TargetResult[]): string {
  const rows = results.map((r) => {
    const t = r.target;
    const required = [t.maxRatio !== undefined ? `${t.strict ? '<' : '≤'} ${t.maxRatio}×` : '', t.maxUsPerOp !== undefined ? `≤ ${t.maxUsPerOp} µs/op` : ''].filter(Boolean).join(', ');
    const got = [r.ratio !== undefined ? `${formatNumber(r.ratio)}× ${r.peer}` : '', t.maxUsPerOp !== undefined && r.usPerOp !== undefined ? `${formatNumber(r.usPerOp)} µs/op` : ''].filter(Boolean).join(', ');
    const holds = r.holds === null ? `not measured (${r.missing})` : r.holds ? 'yes' : 'NO';
    return `| ${[t.text, t.kiln, got, required, holds].map(cell).join(' | ')} |`;
  });
  return ['| target | Kiln | measured (Kiln / fastest listed peer) | required | holds |', '|---|---|---|---|---|', ...rows].join('\n');
}

function formatThreads(threads: Readonly<Record<string, string>> | undefined): string[] {
  if (threads === undefined) return [];
  return ['Threads:', '', ...Object.entries(threads).map(([k, v]) => `- ${k}: ${v}`), ''];
}

export function formatMarkdown(report: BenchReport): string {
  const failed = report.records.filter((r) => r.failed !== undefined);
  const comparison = formatComparison(report.records);
  const peers = comparison === '' ? [] : [
    '## Targets (issue 7)',
    '',
    formatTargets(evaluateTargets(report.records)),
    '',
    '## Kiln vs peers',
    '',
    'Each peer was checked against Kiln\'s result on the same inputs before it was timed. Ratios are time ratios: below 1×, Kiln is faster.',
    '',
    comparison,
    '',
  ];
  return [
    '# Benchmark results',
    '',
    `${report.date} — ${formatMachine(report.machine)}${report.loadAverageAtEnd === undefined ? '' : `; at the end ${report.loadAverageAtEnd.join(' / ')}`}.`,
    '',
    ...formatThreads(report.machine.threads),
    'Times are per run (median / min / max over the timed repetitions, after warm-up). Compare numbers only within one run.',
    '',
    ...(failed.length === 0 ? [] : [`**${failed.length} implementation(s) FAILED** (a correctness check or an error; not timed): ${failed.map((r) => `${r.workload} / ${r.implementation}`).join(', ')}.`, '']),
    ...peers,
    '## All results',
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

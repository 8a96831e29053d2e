import type { Graph, Node, Value } from '@kiln/core';
import { itemSize, printGraph, shapeToString, sizeOf } from '@kiln/core';
import { memoryPlanFor } from '@kiln/runtime';
import type { CompileStats } from './compile.js';
import type { TemplateGraph } from './dynamic.js';
import type { Formula } from './formula.js';
import { formulasOf } from './dynamic.js';
import type { Entry } from './entry.js';
import type { SizeSymbol } from './signature.js';

/** One pass of the optimization pipeline as `explain()` reports it. */
export interface PassSummary {
  readonly name: string;
  readonly nodesBefore: number;
  readonly nodesAfter: number;
  /** What changed, by kind: `{ 'merged full': 3 }`. */
  readonly changes: Readonly<Record<string, number>>;
}

/** What `compiledFn.explain(...args)` reports about the graph those arguments run. */
export interface CompileExplanation {
  /** The graph that runs for these arguments. */
  readonly graph: Graph;
  /** The graph as traced, before any optimization. */
  readonly tracedGraph: Graph;
  /** The optimization passes applied, in order (empty when the graph runs as traced). */
  readonly passes: readonly PassSummary[];
  /** Fused kernels in the graph: `fusedElementwise: mul, add, tanh → f32[128,512]`. */
  readonly fusedKernels: readonly string[];
  /**
   * The runtime's memory plan for the graph (`planMemory`): `plannedPeakBytes` is the most bytes
   * of intermediate values held at once (inputs not counted), `naiveBytes` what a buffer per
   * value would take, `reusedBuffers` how many values reuse a dead one's buffer.
   */
  readonly memory: { readonly plannedPeakBytes: number; readonly liveBytes: number; readonly naiveBytes: number; readonly reusedBuffers: number };
  /** Bytes of the graph's inputs (arguments, captured tensors), owned by the caller. */
  readonly inputBytes: number;
  readonly retraceReasons: readonly string[];
  /** The JavaScript values and `.grad` states the graph assumed; a change traces again. */
  readonly guards: readonly string[];
  /** For dynamic dimensions: the symbols and the numbers of the graph that depend on them. */
  readonly dynamic?: { readonly symbols: readonly string[]; readonly formulas: readonly string[]; readonly tracedAt: readonly string[] };
  readonly stats: Readonly<CompileStats>;
  /** The whole report as text (graph last). */
  toString(): string;
}

/** What compile passes to {@link explainEntry} besides the entry. */
export interface ExplainContext {
  readonly name: string;
  readonly stats: CompileStats;
  readonly retraceReasons: readonly string[];
  readonly optimized?: { readonly graph: Graph; readonly passes: readonly PassSummary[] };
  readonly dynamic?: { readonly template: TemplateGraph; readonly symbols: readonly SizeSymbol[]; readonly traced: readonly (readonly number[])[] };
}

const bytesOf = (v: Value) => itemSize(v.type.dtype) * sizeOf(v.type.shape);

/** Nodes the fusion passes made (nodes with a body that are not control flow). */
function fusedKernels(graph: Graph): string[] {
  const out: string[] = [];
  const visit = (g: Graph) => {
    for (const n of g.nodes) {
      if (!n.subgraphs) continue;
      if (isControl(n)) n.subgraphs.forEach(visit);
      else out.push(`${n.op}: ${n.subgraphs[0].nodes.map((m) => m.op).join(', ')} → ${n.outputs.map((v) => `${v.type.dtype}${shapeToString(v.type.shape)}`).join(', ')}`);
    }
  };
  visit(graph);
  return out;
}

function isControl(n: Node): boolean {
  return n.op === 'cond' || n.op === 'whileLoop' || n.op === 'scan';
}

function memoryOf(graph: Graph): CompileExplanation['memory'] {
  const plan = memoryPlanFor(graph);
  return { plannedPeakBytes: plan.plannedPeakBytes, liveBytes: plan.liveBytes, naiveBytes: plan.naiveBytes, reusedBuffers: plan.reused };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

/** Builds the report for one entry (see {@link CompileExplanation}). */
export function explainEntry(entry: Entry, ctx: ExplainContext): CompileExplanation {
  const graph = ctx.optimized?.graph ?? entry.graph;
  const guards: string[] = [];
  for (const [t, want] of entry.gradGuards) {
    if (want === 'any') continue;
    const name = entry.captured.find((c) => c.tensor === t)?.value.name ?? 'a tensor';
    guards.push(`${name} (${t.dtype}${shapeToString(t.shape)}).grad is ${want}`);
  }
  for (const g of entry.guards) guards.push(`${g.what} = ${g.key}`);
  const dynamic = ctx.dynamic && {
    symbols: ctx.dynamic.symbols.map((s, k) => `s${k} = ${s.dims.map((d) => `arg ${d.arg} axis ${d.axis}`).join(' = ')}`),
    formulas: formulasOf(ctx.dynamic.template).map((f: Formula) => `${f.where} = ${f}`),
    tracedAt: ctx.dynamic.traced.map((p) => p.map((n, k) => `s${k}=${n}`).join(', ')),
  };
  const report: Omit<CompileExplanation, 'toString'> = {
    graph, tracedGraph: entry.graph, passes: ctx.optimized?.passes ?? [], fusedKernels: fusedKernels(graph),
    memory: memoryOf(graph), inputBytes: graph.inputs.reduce((acc, v) => acc + bytesOf(v), 0),
    retraceReasons: ctx.retraceReasons, guards, ...(dynamic ? { dynamic } : {}), stats: ctx.stats,
  };
  return { ...report, toString: () => formatExplanation(ctx.name, report) };
}

function formatExplanation(name: string, r: Omit<CompileExplanation, 'toString'>): string {
  const lines = [`compile(${name}): ${r.stats.traces} trace(s), ${r.stats.hits} hit(s), ${r.stats.misses} miss(es), ${r.stats.specializations ?? 0} specialization(s)`];
  lines.push(`graph: ${r.tracedGraph.nodes.length} nodes traced${r.passes.length ? `, ${r.graph.nodes.length} after optimization` : ' (runs as traced)'}`);
  if (r.passes.length) {
    lines.push('passes:');
    r.passes.forEach((p, i) => {
      const what = Object.entries(p.changes).map(([k, n]) => (n === 1 ? k : `${k} ×${n}`)).join(', ');
      lines.push(`  ${i + 1}. ${p.name}: ${what ? `${p.nodesBefore} → ${p.nodesAfter} nodes (${what})` : 'unchanged'}`);
    });
  }
  lines.push(`fused kernels: ${r.fusedKernels.length ? '' : 'none'}`, ...r.fusedKernels.map((k) => `  ${k}`));
  const m = r.memory;
  lines.push(`planned peak memory: ${formatBytes(m.plannedPeakBytes)} of intermediate values (${formatBytes(m.naiveBytes)} without buffer reuse, ${m.reusedBuffers} reused; inputs: ${formatBytes(r.inputBytes)})`);
  lines.push(`guards: ${r.guards.length ? '' : 'none'}`, ...r.guards.map((g) => `  ${g}`));
  if (r.dynamic) {
    lines.push(`dynamic: ${r.dynamic.symbols.join('; ')} (traced at ${r.dynamic.tracedAt.map((p) => `[${p}]`).join(', ')})`);
    lines.push(...r.dynamic.formulas.map((f) => `  ${f}`));
  }
  lines.push(`retraces: ${r.retraceReasons.length ? '' : 'none'}`, ...r.retraceReasons.map((m) => `  ${m}`));
  lines.push(printGraph(r.graph));
  return lines.join('\n');
}

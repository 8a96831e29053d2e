import type { Graph, Node } from '../ir/graph.js';
import { formatType } from '../ir/printer.js';
import type { Attrs, TensorType } from '../ops/op.js';
import { nodeName, opBytes, opFlops } from './cost.js';

/**
 * Where a span comes from: an eager `op` (a composite op holds the ops it expanded to), an op
 * run during a `backward` pass (the pass itself is a `backward` span too), the `vjp` (gradient
 * rule) of one op, a `compiled` function call, tracing or optimizing inside one (`compile`), a
 * `node` of the graph it ran (a kernel, a fused kernel or a control-flow node), a loaded `model`
 * run, or a `region` the user named (`profileRegion`).
 */
export type SpanCategory = 'op' | 'backward' | 'vjp' | 'compiled' | 'compile' | 'node' | 'model' | 'region';

/**
 * One timed piece of work: its name, what kind it is, when it began and ended (milliseconds on
 * one clock, `performance.now()` for CPU work; a backend may report device timestamps mapped to
 * it) and, for kernels, what it read and wrote. Spans nest by time: a span that holds another's
 * interval is its parent.
 */
export interface ProfileSpan {
  readonly name: string;
  readonly category: SpanCategory;
  readonly startMs: number;
  readonly endMs: number;
  /** The op it ran (for FLOP and byte counts), with its input and output types and attrs. */
  readonly op?: string;
  readonly inputs?: readonly TensorType[];
  readonly outputs?: readonly TensorType[];
  readonly attrs?: Attrs;
  readonly subgraphs?: readonly Graph[];
  /** Bytes moved, when not every input and output (`opBytes`): 0 for a view such as an eager reshape. */
  readonly bytes?: number;
}

/** One line of a report: every span with the same name and category, added up. */
export interface ProfileRow {
  readonly name: string;
  readonly category: SpanCategory;
  readonly calls: number;
  /** Time in these spans themselves, not in spans nested inside them (a compiled call's own time excludes its nodes'). */
  readonly totalMs: number;
  readonly meanMs: number;
  /** `totalMs` as a percentage of the profiled wall time. */
  readonly percent: number;
  /** Bytes the kernels read and wrote (0 for spans whose work is nested inside them). */
  readonly bytes: number;
  /** Floating-point operations, where a count means something (see `opFlops`). */
  readonly flops?: number;
  /** `flops` per second of `totalMs`, in billions. */
  readonly gflopsPerSecond?: number;
  /** `bytes` per second of `totalMs`, in GB (10⁹ bytes): how close a memory-bound kernel runs to the memory's speed. */
  readonly gbPerSecond?: number;
}

/** One event of the Chrome trace format ("complete" events, `ph: 'X'`; times in microseconds). */
export interface ChromeTraceEvent {
  readonly name: string;
  readonly cat: string;
  readonly ph: 'X';
  readonly ts: number;
  readonly dur: number;
  readonly pid: number;
  readonly tid: number;
  readonly args: { readonly [key: string]: string | number };
}

/** The JSON object chrome://tracing and Perfetto (legacy JSON) open. */
export interface ChromeTrace {
  readonly traceEvents: readonly ChromeTraceEvent[];
  readonly displayTimeUnit: 'ms';
}

interface Measured {
  readonly span: ProfileSpan;
  readonly selfMs: number;
  readonly bytes: number;
  readonly flops: number | undefined;
}

/** Orders spans parents first: by start, then longest first, then reported last first (a parent ends after its children). */
function nested(spans: readonly ProfileSpan[]): { span: ProfileSpan; parent: number }[] {
  const order = spans.map((span, seq) => ({ span, seq }));
  order.sort((a, b) => a.span.startMs - b.span.startMs || b.span.endMs - a.span.endMs || b.seq - a.seq);
  const out: { span: ProfileSpan; parent: number }[] = [];
  const stack: number[] = [];
  for (const { span } of order) {
    while (stack.length && out[stack[stack.length - 1]].span.endMs < span.endMs) stack.pop();
    out.push({ span, parent: stack.length ? stack[stack.length - 1] : -1 });
    stack.push(out.length - 1);
  }
  return out;
}

/**
 * What `profile(fn)` measured: every span, a row per op (or fused kernel) with calls, time,
 * bytes, GB/s and GFLOP/s, an aligned text table, and a Chrome trace.
 *
 * @example
 * ```ts
 * const report = profileSync(() => matmul(a, b).relu());
 * console.log(report.table());
 * report.rows.find((r) => r.name === 'matmul')?.flops; // 2·m·k·n
 * JSON.stringify(report.chromeTrace()); // open in chrome://tracing or ui.perfetto.dev
 * ```
 */
export class ProfileReport {
  /** The spans, parents before their children. */
  readonly spans: readonly ProfileSpan[];
  /** Wall time of the profiled function, in milliseconds. */
  readonly totalMs: number;
  private readonly measured: readonly Measured[];
  private rowsCache: readonly ProfileRow[] | undefined;

  constructor(spans: readonly ProfileSpan[], readonly startMs: number, readonly endMs: number) {
    this.totalMs = endMs - startMs;
    const tree = nested(spans);
    const childMs = new Float64Array(tree.length);
    const hasChildren = new Uint8Array(tree.length);
    tree.forEach(({ span, parent }) => {
      if (parent >= 0) {
        childMs[parent] += span.endMs - span.startMs;
        hasChildren[parent] = 1;
      }
    });
    this.spans = tree.map((t) => t.span);
    this.measured = tree.map(({ span }, i) => {
      const leaf = !hasChildren[i] && span.op !== undefined;
      const types = leaf && span.inputs && span.outputs;
      return {
        span,
        selfMs: Math.max(0, span.endMs - span.startMs - childMs[i]),
        bytes: !leaf ? 0 : span.bytes ?? (types ? opBytes(span.op!, span.inputs!, span.outputs!) : 0),
        flops: types ? opFlops(span.op!, span.inputs!, span.outputs!, span.attrs ?? {}, span.subgraphs) : undefined,
      };
    });
  }

  /** One row per (name, category), most time first. */
  get rows(): readonly ProfileRow[] {
    if (this.rowsCache) return this.rowsCache;
    const groups = new Map<string, { name: string; category: SpanCategory; calls: number; ms: number; bytes: number; flops?: number }>();
    for (const m of this.measured) {
      const key = `${m.span.category}\u0000${m.span.name}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { name: m.span.name, category: m.span.category, calls: 0, ms: 0, bytes: 0 }));
      g.calls++;
      g.ms += m.selfMs;
      g.bytes += m.bytes;
      if (m.flops !== undefined) g.flops = (g.flops ?? 0) + m.flops;
    }
    const rows = [...groups.values()].map((g): ProfileRow => ({
      name: g.name, category: g.category, calls: g.calls, totalMs: g.ms, meanMs: g.ms / g.calls,
      percent: this.totalMs > 0 ? (100 * g.ms) / this.totalMs : 0, bytes: g.bytes,
      ...(g.bytes > 0 && g.ms > 0 ? { gbPerSecond: g.bytes / (g.ms * 1e6) } : {}),
      ...(g.flops !== undefined ? { flops: g.flops, ...(g.ms > 0 ? { gflopsPerSecond: g.flops / (g.ms * 1e6) } : {}) } : {}),
    }));
    rows.sort((a, b) => b.totalMs - a.totalMs || a.name.localeCompare(b.name));
    return (this.rowsCache = rows);
  }

  /**
   * The rows as an aligned text table, most time first (`limit` rows at most; default all),
   * with the profiled wall time and how much of it the rows cover.
   *
   * @example
   * ```ts
   * console.log(report.table({ limit: 10 }));
   * ```
   */
  table(options: { readonly limit?: number } = {}): string {
    const all = this.rows;
    const rows = options.limit === undefined ? all : all.slice(0, Math.max(0, options.limit));
    const header = ['op', 'kind', 'calls', 'total ms', 'mean ms', '%', 'bytes', 'GB/s', 'FLOP', 'GFLOP/s'];
    const cells = rows.map((r) => [
      r.name, r.category, String(r.calls), r.totalMs.toFixed(3), r.meanMs.toFixed(4), r.percent.toFixed(1),
      formatBytes(r.bytes), r.gbPerSecond === undefined ? '-' : r.gbPerSecond.toFixed(2), r.flops === undefined ? '-' : formatCount(r.flops), r.gflopsPerSecond === undefined ? '-' : r.gflopsPerSecond.toFixed(2),
    ]);
    const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c].length)));
    const line = (row: readonly string[]) => row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd();
    const covered = all.reduce((s, r) => s + r.totalMs, 0);
    const more = rows.length < all.length ? `, ${all.length - rows.length} more rows not shown` : '';
    return [
      line(header),
      ...cells.map(line),
      `wall ${this.totalMs.toFixed(3)} ms; spans cover ${covered.toFixed(3)} ms (${this.totalMs > 0 ? ((100 * covered) / this.totalMs).toFixed(1) : '0.0'}%)${more}`,
    ].join('\n');
  }

  /**
   * The spans as a Chrome trace (JSON object format, complete events): save it with
   * `JSON.stringify` (or `writeChromeTrace` from `@kiln/runtime/node`) and open it in
   * chrome://tracing or https://ui.perfetto.dev. Times are microseconds from the start of the
   * profile; each event's args hold its input and output types, bytes and FLOPs.
   *
   * @example
   * ```ts
   * writeFileSync('trace.json', JSON.stringify(report.chromeTrace()));
   * ```
   */
  chromeTrace(): ChromeTrace {
    // Whole nanoseconds for both ends, so children stay inside their parents after rounding.
    const ns = (ms: number) => Math.round((ms - this.startMs) * 1e6);
    const traceEvents = this.measured.map(({ span, bytes, flops }): ChromeTraceEvent => {
      const start = ns(span.startMs);
      const args: Record<string, string | number> = {};
      if (span.inputs) args.inputs = span.inputs.map(formatType).join(', ');
      if (span.outputs) args.outputs = span.outputs.map(formatType).join(', ');
      if (bytes) args.bytes = bytes;
      if (flops !== undefined) args.flops = flops;
      return { name: span.name, cat: span.category, ph: 'X', ts: start / 1000, dur: (ns(span.endMs) - start) / 1000, pid: 1, tid: 1, args };
    });
    return { traceEvents, displayTimeUnit: 'ms' };
  }
}

/** 524288 → '524.3 K', 2e9 → '2.00 G'. */
function formatCount(n: number): string {
  if (n < 1e3) return String(n);
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} K`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} M`;
  return `${(n / 1e9).toFixed(2)} G`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/**
 * The span of one graph node that ran from `startMs` to `endMs`: named by `nodeName` (fused
 * kernels by their body), with the node's types and attrs for its FLOP and byte counts.
 *
 * @example
 * ```ts
 * executeGraph(graph, cpu, inputs, { onNode: (node, start, end) => spans.push(nodeSpan(node, start, end)) });
 * ```
 */
export function nodeSpan(node: Node, startMs: number, endMs: number): ProfileSpan {
  return {
    name: nodeName(node), category: 'node', startMs, endMs, op: node.op,
    inputs: node.inputs.map((v) => v.type), outputs: node.outputs.map((v) => v.type), attrs: node.attrs,
    ...(node.op === 'reshape' ? { bytes: 0 } : {}), // the runtime runs it as a view of its input's storage
    ...(node.subgraphs ? { subgraphs: node.subgraphs } : {}),
  };
}

import type { DType, Graph, Value } from '@kiln/core';
import { dtypeShortName, itemSize, printGraph, sizeOf } from '@kiln/core';
import type { ModelFile } from '@kiln/serializer';
import { formatSizeExpr, specializeGraph } from '@kiln/serializer';

/** One signature entry as `inspect` shows it. */
export interface SignatureRow {
  readonly name: string;
  readonly role: string;
  readonly dtype: DType;
  /** Dimensions; symbolic ones as their expression (`batch`, `2·batch`). */
  readonly shape: readonly (number | string)[];
  /** For state updates and gradients: the name of the input they write. */
  readonly target?: string;
}

/** What `kiln inspect` reports about a model. */
export interface ModelSummary {
  readonly version: string;
  readonly producer: string;
  readonly inputs: readonly SignatureRow[];
  readonly outputs: readonly SignatureRow[];
  readonly symbols: readonly { readonly name: string; readonly min: number; readonly max?: number; readonly savedAt: number }[];
  /** Nodes by op, sub-graphs included (each counted once per node that holds it), most frequent first. */
  readonly opCounts: Readonly<Record<string, number>>;
  readonly nodes: number;
  /** Elements and bytes of the stored inputs, by role (parameter, buffer, gradient). */
  readonly stored: Readonly<Record<string, { readonly tensors: number; readonly elements: number; readonly bytes: number }>>;
  readonly metadata: Readonly<Record<string, unknown>>;
}

function countOps(graph: Graph, counts: Map<string, number>): number {
  let nodes = 0;
  for (const n of graph.nodes) {
    nodes++;
    counts.set(n.op, (counts.get(n.op) ?? 0) + 1);
    for (const g of n.subgraphs ?? []) nodes += countOps(g, counts);
  }
  return nodes;
}

/**
 * The facts `kiln inspect` prints: signature (with symbolic dimensions), op counts, and the
 * element and byte counts of the stored tensors.
 *
 * @example
 * ```ts
 * const s = summarizeModel(readModel(bytes));
 * s.stored.parameter; // { tensors: 4, elements: 8970, bytes: 35880 }
 * ```
 */
export function summarizeModel(file: ModelFile): ModelSummary {
  const { graph, signature, symbolic } = file;
  const names = symbolic?.symbols.map((s) => s.name) ?? [];
  const shapeOf = (v: Value) => {
    const dims = symbolic?.dims.get(v);
    return v.type.shape.map((d, a) => (dims?.[a] ? formatSizeExpr(dims[a]!, names) : d));
  };
  const outputShapes = symbolic ? fitOutputShapes(file) : undefined;
  const row = (name: string, role: string, v: Value, target?: number, shape = shapeOf(v)): SignatureRow => ({
    name, role, dtype: v.type.dtype, shape, ...(target !== undefined && target >= 0 ? { target: signature.inputs[target].name } : {}),
  });
  const counts = new Map<string, number>();
  const nodes = countOps(graph, counts);
  const stored: Record<string, { tensors: number; elements: number; bytes: number }> = {};
  signature.inputs.forEach((s, i) => {
    if (!file.weights[i]) return;
    const t = graph.inputs[i].type;
    const entry = (stored[s.role] ??= { tensors: 0, elements: 0, bytes: 0 });
    entry.tensors++;
    entry.elements += sizeOf(t.shape);
    entry.bytes += sizeOf(t.shape) * itemSize(t.dtype);
  });
  return {
    version: `${file.version.major}.${file.version.minor}`,
    producer: `${file.producer.name} ${file.producer.version}`,
    inputs: signature.inputs.map((s, i) => row(s.name, s.role, graph.inputs[i], s.target)),
    outputs: signature.outputs.map((s, i) => row(s.name, s.role, graph.outputs[i], s.target, outputShapes?.[i] ?? shapeOf(graph.outputs[i]))),
    symbols: (symbolic?.symbols ?? []).map((s, k) => ({ name: s.name, min: s.min, ...(s.max !== undefined ? { max: s.max } : {}), savedAt: symbolic!.sizes[k] })),
    opCounts: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    nodes,
    stored,
    metadata: { ...file.metadata },
  };
}

/**
 * Output dimensions in terms of the symbols, found by rebuilding the graph with each symbol one
 * and two larger: a dimension that moves by the same step both times is `a·name + c`; one that
 * moves unevenly (a product of symbols) shows as `?`.
 */
function fitOutputShapes(file: ModelFile): (number | string)[][] | undefined {
  const symbolic = file.symbolic!;
  const base = symbolic.sizes;
  const outputsAt = (sizes: readonly number[]) => specializeGraph(file.graph, symbolic, sizes).outputs.map((v) => v.type.shape);
  try {
    const at0 = outputsAt(base);
    const steps = symbolic.symbols.map((_, k) => [1, 2].map((d) => outputsAt(base.map((n, j) => (j === k ? n + d : n)))));
    return at0.map((shape, o) => shape.map((dim, a) => {
      const terms: string[] = [];
      let constant = dim;
      for (const [k, [one, two]] of steps.entries()) {
        const slope = one[o][a] - dim;
        if (two[o][a] - dim !== 2 * slope) return '?';
        if (slope === 0) continue;
        constant -= slope * base[k];
        terms.push(`${slope === 1 ? '' : `${slope}·`}${symbolic.symbols[k].name}`);
      }
      if (terms.length === 0) return dim;
      return [...terms, ...(constant ? [String(constant)] : [])].join(' + ');
    }));
  } catch {
    return undefined;
  }
}

const typeText = (r: SignatureRow) => `${dtypeShortName(r.dtype)}[${r.shape.join(',')}]`;
const grouped = (n: number) => n.toLocaleString('en-US');

function table(rows: readonly SignatureRow[]): string[] {
  const width = Math.max(4, ...rows.map((r) => r.name.length));
  const roleWidth = Math.max(4, ...rows.map((r) => r.role.length));
  return rows.map((r) => `    ${r.name.padEnd(width)}  ${r.role.padEnd(roleWidth)}  ${typeText(r)}${r.target ? `  → ${r.target}` : ''}`);
}

/**
 * The text `kiln inspect` prints: the summary, then (unless `graph` is false) the graph.
 *
 * @example
 * ```ts
 * console.log(formatSummary(readModel(bytes), { graph: false }));
 * ```
 */
export function formatSummary(file: ModelFile, options: { readonly graph?: boolean; readonly title?: string } = {}): string {
  const s = summarizeModel(file);
  const lines = [`${options.title ?? 'model'}: .kiln ${s.version}, made by ${s.producer}`, 'signature', '  inputs', ...table(s.inputs), '  outputs', ...table(s.outputs)];
  if (s.symbols.length) {
    const bounds = (x: ModelSummary['symbols'][number]) => `${x.name} in [${x.min}, ${x.max ?? '∞'}], saved at ${x.savedAt}`;
    lines.push(`symbolic dimensions: ${s.symbols.map(bounds).join('; ')}`);
  }
  lines.push(`ops: ${s.nodes} nodes — ${Object.entries(s.opCounts).map(([op, n]) => `${op} ${n}`).join(', ') || 'none'}`);
  for (const role of ['parameter', 'buffer', 'gradient']) {
    const st = s.stored[role];
    if (st) lines.push(`${role}s: ${grouped(st.elements)} elements in ${st.tensors} tensor${st.tensors === 1 ? '' : 's'}, ${grouped(st.bytes)} bytes`);
  }
  if (!s.stored['parameter']) lines.push('parameters: none');
  const meta = Object.entries(s.metadata);
  if (meta.length) lines.push(`metadata: ${meta.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}`);
  if (options.graph !== false) lines.push('graph', printGraph(file.graph));
  return lines.join('\n');
}

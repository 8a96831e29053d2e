import { dtypeShortName } from '../dtype.js';
import type { AttrValue, Attrs, TensorType } from '../ops/op.js';
import type { Graph, Value } from './graph.js';

/** `f32[2,3]`. */
export function formatType(t: TensorType): string {
  return `${dtypeShortName(t.dtype)}[${t.shape.join(',')}]`;
}

function formatAttr(v: AttrValue): string {
  if (Array.isArray(v)) return `[${v.map((x) => formatAttr(x)).join(',')}]`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(v);
  return String(v);
}

function formatAttrs(attrs: Attrs): string {
  const keys = Object.keys(attrs).sort();
  if (keys.length === 0) return '';
  return ` {${keys.map((k) => `${k}=${formatAttr(attrs[k])}`).join(', ')}}`;
}

/**
 * The graph's stable text form (jaxpr-like). Names are assigned at print time: inputs keep
 * their names (or `%argN`), node outputs are numbered `%0, %1, …` in order; attrs are sorted.
 *
 * @example
 * ```text
 * graph(%x: f32[2,64], %w: f32[64,10]) {
 *   %0: f32[2,10] = matmul %x %w
 *   %1: f32[2,10] = relu %0
 *   return %1
 * }
 * ```
 */
export function printGraph(graph: Graph, name = 'graph'): string {
  const lines: string[] = [];
  printInto(graph, name, '', lines, { next: 0 });
  return lines.join('\n');
}

function printInto(graph: Graph, header: string, indent: string, lines: string[], counter: { next: number }): void {
  const names = new Map<Value, string>();
  const used = new Set<string>();
  const nameOf = (v: Value): string => names.get(v) ?? '%<undefined>';
  graph.inputs.forEach((v, i) => {
    let n = v.name && /^[A-Za-z_][\w.]*$/.test(v.name) && !used.has(v.name) ? v.name : `arg${i}`;
    while (used.has(n)) n = `${n}_`;
    used.add(n);
    names.set(v, `%${n}`);
  });
  lines.push(`${indent}${header}(${graph.inputs.map((v) => `${nameOf(v)}: ${formatType(v.type)}`).join(', ')}) {`);
  for (const node of graph.nodes) {
    for (const out of node.outputs) names.set(out, `%${counter.next++}`);
    const lhs = node.outputs.map((o) => `${nameOf(o)}: ${formatType(o.type)}`).join(', ');
    const args = node.inputs.map(nameOf).join(' ');
    lines.push(`${indent}  ${lhs} = ${node.op}${args ? ' ' + args : ''}${formatAttrs(node.attrs)}`);
    node.subgraphs?.forEach((sub, i) => printInto(sub, `body${i}`, indent + '    ', lines, counter));
  }
  lines.push(`${indent}  return ${graph.outputs.map(nameOf).join(', ')}`);
  lines.push(`${indent}}`);
}

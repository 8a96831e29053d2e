import type { Graph, Node, OpDef, SourceLocation, TypedArray, Value } from '@kiln/core';
import { formatType, isControlOp, KilnError } from '@kiln/core';
import type { ControlFlowCall, ControlFlowResult, Tensor, TensorInterpreter } from '@kiln/eager';
import { eagerInterpreter, fromHost, getRngState, keep, noGrad, rawOps, runControlFlow, setRngState, withInterpreter } from '@kiln/eager';
import { executeGraph } from '@kiln/runtime';
import type { Entry } from './entry.js';
import { feedsFor, runEntry } from './entry.js';
import { flatten } from './tree.js';

/** Options of `compile(fn, { check })`. */
export interface CheckOptions {
  /** Relative tolerance (default 1e-5). */
  readonly rtol?: number;
  /** Absolute tolerance (default 1e-6). */
  readonly atol?: number;
  /** Called with the first mismatch instead of throwing a {@link CompileCheckError}. */
  readonly onMismatch?: (mismatch: CheckMismatch) => void;
}

/** Where the compiled graph first disagreed with eager execution. */
export interface CheckMismatch {
  readonly message: string;
  /** Index of the graph node (in the traced graph) whose values differ, if a node was found. */
  readonly node?: number;
  readonly op?: string;
  readonly loc?: SourceLocation;
  /** The differing element (flat index) and its two values. */
  readonly element?: { readonly index: number; readonly compiled: number; readonly eager: number };
}

/** Thrown by `compile(fn, { check: true })` when compiled and eager results differ. */
export class CompileCheckError extends KilnError {
  constructor(readonly mismatch: CheckMismatch) {
    super(mismatch.message);
  }
}

interface Recorded {
  readonly op: string;
  readonly outputs: readonly { readonly type: string; readonly data: TypedArray }[];
}

/**
 * Runs the eager interpreter but expands every composite (as the tracer does) and records each
 * primitive's outputs, so the i-th recorded op lines up with the i-th op the trace recorded.
 */
class Recorder implements TensorInterpreter {
  readonly ops: Recorded[] = [];
  bind(op: OpDef, inputs: readonly Tensor[], attrs: Parameters<TensorInterpreter['bind']>[2]): Tensor[] {
    if (op.kind === 'composite') return op.expand(rawOps, inputs, attrs, (t) => t);
    const outputs = eagerInterpreter.bind(op, inputs, attrs);
    this.ops.push({ op: op.name, outputs: outputs.map((t) => ({ type: formatType(t), data: t.dataSync() })) });
    return outputs;
  }
  /** cond/whileLoop/scan run eagerly as one unit, recorded as one op: the graph has one node for each. */
  controlFlow(call: ControlFlowCall): ControlFlowResult {
    const outputs = runControlFlow(call);
    if (outputs.length) this.ops.push({ op: call.kind, outputs: outputs.map((t) => ({ type: formatType(t), data: t.dataSync() })) });
    return { outputs, ranEagerly: true };
  }
  typeOf = (t: Tensor) => t;
  scalar = eagerInterpreter.scalar;
  randomKey = eagerInterpreter.randomKey;
  isValue = eagerInterpreter.isValue;
}

/** A copy of `t` (data and `.grad`), independent of later assignments. */
function copyOf(t: Tensor): Tensor {
  return fromHost(t.dataSync(), t.shape, t.dtype, t.bufferFor('compile check').backend);
}

interface Snapshot {
  readonly value: Tensor;
  readonly grad: Tensor | null;
}

function snapshot(states: readonly Tensor[]): Snapshot[] {
  return states.map((t) => ({ value: keep(copyOf(t)), grad: t.grad && keep(copyOf(t.grad)) }));
}

/** Puts the state back as `snap` holds it (copies, so `snap` can be used again). */
function restore(states: readonly Tensor[], snap: readonly Snapshot[]): void {
  noGrad(() =>
    states.forEach((t, i) => {
      const value = copyOf(snap[i].value);
      t.assign(value);
      value.dispose();
      const old = t.grad;
      t.grad = snap[i].grad && keep(copyOf(snap[i].grad!));
      old?.dispose();
    }),
  );
}

function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, atol: number): { index: number; compiled: number; eager: number } | undefined {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) continue;
    if (!(Math.abs(x - y) <= atol + rtol * Math.abs(y))) return { index: i, compiled: x, eager: y };
  }
  return undefined;
}

/** `%12: f32[2,3] = mul %3 %5` with the value names printGraph gives. */
function nodeText(graph: Graph, index: number): { text: string; inputs: string[] } {
  const names = new Map<Value, string>();
  graph.inputs.forEach((v, i) => names.set(v, `%${v.name ?? `arg${i}`}`));
  let next = 0;
  const defs = new Map<Value, Node>();
  const count = (g: Graph) => g.nodes.forEach((n) => {
    n.outputs.forEach((v) => names.set(v, `%${next++}`));
    n.subgraphs?.forEach(count);
  });
  graph.nodes.forEach((n) => n.outputs.forEach((v) => defs.set(v, n)));
  count(graph);
  const attr = (v: unknown): string => (Array.isArray(v) ? `[${v.map(attr).join(',')}]` : typeof v === 'string' ? JSON.stringify(v) : String(v));
  const attrs = (n: Node) => {
    const keys = Object.keys(n.attrs).sort();
    return keys.length ? ` {${keys.map((k) => `${k}=${attr(n.attrs[k])}`).join(', ')}}` : '';
  };
  const text = (n: Node) => `${n.outputs.map((v) => `${names.get(v)}: ${formatType(v.type)}`).join(', ')} = ${[n.op, ...n.inputs.map((v) => names.get(v))].join(' ')}${attrs(n)}`;
  const node = graph.nodes[index];
  // Inputs the tracer made (constants, scalars) are numbers baked in at trace time: show them.
  const inputs = node.inputs.flatMap((v) => {
    const d = defs.get(v);
    return d && (d.op === 'full' || d.op === 'constant') ? [text(d)] : [];
  });
  return { text: text(node), inputs };
}

/**
 * One checked call: runs the traced graph node by node recording every value, runs `graph` (the
 * optimized form of the entry's graph) as usual, then puts the state back, runs `fn` eagerly recording every op, and
 * compares op by op, then results and written-back state. Leaves the compiled call's state and
 * returns its results; a difference throws a {@link CompileCheckError} (or goes to `onMismatch`).
 */
export function runChecked(fn: (...args: any[]) => any, args: readonly unknown[], entry: Entry, argTensors: readonly Tensor[], options: CheckOptions, graph: Graph = entry.graph): unknown {
  const rtol = options.rtol ?? 1e-5;
  const atol = options.atol ?? 1e-6;
  const states = [...new Set([...entry.captured.flatMap((c) => (c.gradOf ? [] : [c.tensor])), ...entry.gradGuards.keys()])];
  const before = snapshot(states);
  const rng = getRngState();
  const traced = recordGraph(entry, argTensors);
  setRngState(rng);
  const compiledResult = runEntry(entry, argTensors, graph);
  const afterCompiled = snapshot(states);
  const rngAfter = getRngState();
  restore(states, before);
  setRngState(rng);
  const recorder = new Recorder();
  const eagerResult = withInterpreter(recorder, () => fn(...args));
  const mismatch =
    compareOps(entry.graph, entry.boundNodes, traced, recorder.ops, rtol, atol) ??
    compareOutputs('result', flatten(compiledResult, 'result').tensors, flatten(eagerResult, 'result').tensors, rtol, atol) ??
    compareOutputs('state', afterCompiled.flatMap((s) => [s.value, s.grad]), states.flatMap((t) => [t, t.grad]), rtol, atol);
  const keepers = new Set<Tensor>([...states, ...argTensors]);
  for (const t of flatten(eagerResult, 'result').tensors) if (!keepers.has(t)) t.dispose();
  restore(states, afterCompiled);
  setRngState(rngAfter);
  for (const s of [...before, ...afterCompiled]) {
    s.value.dispose();
    s.grad?.dispose();
  }
  if (mismatch) {
    if (!options.onMismatch) throw new CompileCheckError(mismatch);
    options.onMismatch(mismatch);
  }
  return compiledResult;
}

/** Every node output of the traced graph, read back, in node order. */
function recordGraph(entry: Entry, argTensors: readonly Tensor[]): TypedArray[][] {
  const { ordered, rng } = feedsFor(entry, argTensors);
  const buffers = ordered.map((t) => t.bufferFor('compile check'));
  const backend = buffers[0]?.backend;
  const graph = entry.graph;
  if (!backend) return [];
  const env = new Map<Value, unknown>(graph.inputs.map((v, i) => [v, buffers[i].storage]));
  const made: unknown[] = [];
  const values = graph.nodes.map((node) => {
    const one: Graph = { inputs: node.inputs, nodes: [node], outputs: node.outputs };
    const outs = executeGraph(one, backend, node.inputs.map((v) => env.get(v)));
    node.outputs.forEach((v, i) => {
      env.set(v, outs[i]);
      made.push(outs[i]);
    });
    return node.outputs.map((v, i) => backend.readSync(outs[i], v.type));
  });
  for (const s of new Set(made)) if (!buffers.some((b) => b.storage === s)) backend.dispose(s);
  rng?.dispose();
  return values;
}

function compareOps(graph: Graph, bound: readonly number[], traced: readonly TypedArray[][], eager: readonly Recorded[], rtol: number, atol: number): CheckMismatch | undefined {
  for (let k = 0; k < bound.length; k++) {
    const i = bound[k];
    const node = graph.nodes[i];
    const where = node.loc ? `, recorded at ${node.loc.file}:${node.loc.line}` : '';
    const { text, inputs } = nodeText(graph, i);
    const e = eager[k];
    // The backward of a cond or scan is different ops compiled (a cond, a reverse scan) than
    // eagerly (those that ran): after a cond or scan, op-by-op comparison ends where the two
    // part (results and state are still compared).
    if (e && e.op !== node.op && graph.nodes.slice(0, i + 1).some((n) => isControlOp(n.op))) return undefined;
    if (!e || e.op !== node.op) {
      return {
        node: i, op: node.op, ...(node.loc ? { loc: node.loc } : {}),
        message: `compile check: the eager run took another path at node ${i} (${text}${where}): eager ran ${e ? `'${e.op}'` : 'no more ops'} there. What the function does depends on something the trace fixed (a JavaScript value or branch read while tracing); the nodes before agree.`,
      };
    }
    // (A scan whose gradient is recorded has residual outputs after those eager code returns.)
    for (let o = 0; o < Math.min(node.outputs.length, e.outputs.length); o++) {
      const type = formatType(node.outputs[o].type);
      const diff = type === e.outputs[o].type ? firstDifference(traced[i][o], e.outputs[o].data, rtol, atol) : { index: -1, compiled: NaN, eager: NaN };
      if (!diff) continue;
      const what = diff.index < 0 ? `is ${type} compiled but ${e.outputs[o].type} eager` : `differs from eager at element ${diff.index}: ${diff.compiled} compiled vs ${diff.eager} eager (rtol ${rtol}, atol ${atol})`;
      const baked = inputs.length ? ` It reads values fixed while tracing: ${inputs.join('; ')} — a JavaScript number that has changed since? Keep it in a tensor, or pass it as an argument.` : '';
      return {
        node: i, op: node.op, ...(node.loc ? { loc: node.loc } : {}), ...(diff.index >= 0 ? { element: diff } : {}),
        message: `compile check: node ${i} (${text}${where}) output ${o} ${what}; the nodes before it agree.${baked}`,
      };
    }
  }
  return undefined;
}

function compareOutputs(kind: string, compiled: readonly (Tensor | null)[], eager: readonly (Tensor | null)[], rtol: number, atol: number): CheckMismatch | undefined {
  for (let i = 0; i < Math.max(compiled.length, eager.length); i++) {
    const c = compiled[i];
    const e = eager[i];
    const label = kind === 'state' ? `${i % 2 ? 'the .grad of ' : ''}state tensor ${i >> 1}` : `result tensor ${i}`;
    if (!c || !e) {
      if (c !== e) return { message: `compile check: ${label} is ${c ? 'set' : 'missing'} compiled but ${e ? 'set' : 'missing'} eager` };
      continue;
    }
    const diff = formatType(c) === formatType(e) ? firstDifference(c.dataSync(), e.dataSync(), rtol, atol) : { index: -1, compiled: NaN, eager: NaN };
    if (diff) {
      return {
        ...(diff.index >= 0 ? { element: diff } : {}),
        message: `compile check: every traced op agrees with eager, but ${label} differs (${diff.index < 0 ? `${formatType(c)} vs ${formatType(e)}` : `element ${diff.index}: ${diff.compiled} compiled vs ${diff.eager} eager`}): the graph that ran differs from the traced one (an optimization pass?)`,
      };
    }
  }
  return undefined;
}

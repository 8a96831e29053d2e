import type { Graph, Node, Shape, TensorType, Value } from '@kiln/core';
import { FUSIBLE_REDUCTIONS, fusedDomain, sizeOf } from '@kiln/core';
import { emitScalar, HEAVY_OPS, reduction } from './emit.js';
import { collapse } from './layout.js';

/**
 * Generates the JavaScript of a fused kernel from its body. The kernel walks a flat range
 * [lo, hi) of the domain in row-major order, in chunks that stay within one row of the
 * innermost merged dimension; each chunk computes every operand's offset once (the broadcast
 * index math), then runs the body's nodes:
 *
 * - values that depend on no input (`full` constants) once per call, values that do not vary
 *   along the row (row-broadcast inputs) once per chunk, the rest per element;
 * - per-element work in stages: light ops run in one loop; each call V8 does not inline
 *   (tanh, exp, …: `HEAVY_OPS`) runs in a loop of its own over the chunk, with the values
 *   passing between stages in float64 scratch rows. Splitting the loops lets the CPU overlap
 *   the long chains of float32 roundings of neighbouring elements instead of waiting on each.
 * - reductions fold each element into a float64 accumulator in row-major order, as the
 *   reference kernel does, so sums are bit-identical.
 *
 * With `matmul` set (a matmulEpilogue body), node 0 is the matmul: its result is read from the
 * `mm` argument (float64 rows, index − mmBase) and rounded to its dtype, and body inputs 0 and 1
 * are not read.
 */

/**
 * What the generated function needs from its caller, besides the source. Positional only (no
 * Value objects), so a kernel cached for one body serves every body with the same text.
 */
export interface KernelPlan {
  readonly source: string;
  readonly domain: Shape;
  /** Types of the distinct non-reduction values the kernel stores, in `outs` order. */
  readonly stored: readonly TensorType[];
  /** The reductions' accumulators, in `accs` order: initial value and element count. */
  readonly reductions: readonly { readonly init: number; readonly size: number }[];
  /** Where each body output comes from: a stored array or a reduction's accumulator. */
  readonly outputs: readonly ({ readonly stored: number } | { readonly reduction: number })[];
}

const CHUNK = 256;
type Level = 0 | 1 | 2; // 0: once per call, 1: once per chunk, 2: per element

/** Plans and writes the kernel source for `body` (see the module comment). */
export function generateKernel(body: Graph, matmul: boolean): KernelPlan {
  const op = matmul ? 'matmulEpilogue' : 'fusedElementwise';
  const skip = new Set(matmul ? [body.inputs[0], body.inputs[1]] : []);
  const domain = fusedDomain(body, op, skip, matmul ? 1 : 0);
  const nodes = body.nodes.slice(matmul ? 1 : 0);
  const mmValue = matmul ? body.nodes[0].outputs[0] : undefined;
  const isReduced = (v: Value) => FUSIBLE_REDUCTIONS.has(defOf.get(v)?.op ?? '');
  const defOf = new Map<Value, Node>();
  for (const n of nodes) for (const v of n.outputs) defOf.set(v, n);

  // Operands: inputs read, then mm, then stored outputs, then accumulators.
  const used = new Set(nodes.flatMap((n) => n.inputs));
  const inputs = body.inputs.map((v, i) => ({ v, i })).filter(({ v }) => used.has(v) && !skip.has(v));
  const stored = [...new Set(body.outputs.filter((v) => !isReduced(v)))];
  const reductions = nodes.filter((n) => FUSIBLE_REDUCTIONS.has(n.op));
  const accShape = (n: Node) => domain.map((d, i) => ((n.attrs.axes as number[]).includes(i) ? 1 : d));
  const shapes: Shape[] = [...inputs.map(({ v }) => v.type.shape), ...(mmValue ? [mmValue.type.shape] : []), ...stored.map((v) => v.type.shape), ...reductions.map(accShape)];
  const layout = collapse(domain, shapes);
  const k = layout.dims.length;
  const inner = k - 1;
  const opName = [...inputs.map(({ i }) => `i${i}`), ...(mmValue ? ['mm'] : []), ...stored.map((_, q) => `o${q}`), ...reductions.map((_, r) => `a${r}`)];
  const innerStride = (p: number) => layout.strides[p][inner];
  const mmIndex = inputs.length;
  const firstStored = inputs.length + (mmValue ? 1 : 0);
  const firstAcc = firstStored + stored.length;

  // Names and levels of values.
  const name = new Map<Value, string>();
  const level = new Map<Value, Level>();
  inputs.forEach(({ v, i }, p) => {
    name.set(v, `x${i}`);
    level.set(v, innerStride(p) ? 2 : 1);
  });
  if (mmValue) {
    name.set(mmValue, 'mv');
    level.set(mmValue, innerStride(mmIndex) ? 2 : 1);
  }
  nodes.forEach((n, idx) => {
    // Reductions fold per element whatever their input's level; nothing in the body reads them.
    const lv = n.op === 'full' ? 0 : FUSIBLE_REDUCTIONS.has(n.op) ? 2 : (Math.max(0, ...n.inputs.map((v) => level.get(v)!)) as Level);
    n.outputs.forEach((v) => {
      name.set(v, `v${idx}`);
      level.set(v, lv);
    });
  });

  // Stages of per-element nodes: light stage d is 2d, heavy stage d is 2d + 1.
  const avail = new Map<Value, number>();
  const stageOf = new Map<Node, number>();
  let lastStage = 0;
  for (const n of nodes) {
    if (level.get(n.outputs[0]) !== 2 && !FUSIBLE_REDUCTIONS.has(n.op)) continue;
    const d = Math.max(0, ...n.inputs.map((v) => avail.get(v) ?? 0));
    const heavy = HEAVY_OPS.has(n.op) && level.get(n.outputs[0]) === 2;
    stageOf.set(n, heavy ? 2 * d + 1 : 2 * d);
    lastStage = Math.max(lastStage, stageOf.get(n)!);
    n.outputs.forEach((v) => avail.set(v, heavy ? d + 1 : d));
  }
  const stageOfValue = (v: Value) => (defOf.has(v) ? stageOf.get(defOf.get(v)!) : undefined);
  // Values read in a stage other than their own go through scratch rows.
  const scratch = new Map<Value, string>();
  for (const n of nodes) {
    const s = stageOf.get(n);
    if (s === undefined) continue;
    for (const v of n.inputs) {
      const sv = stageOfValue(v);
      if (sv !== undefined && sv !== s && !scratch.has(v)) scratch.set(v, `s${scratch.size}`);
    }
  }
  const chunk = scratch.size > 0 ? CHUNK : 0x40000000;

  const lines: string[] = [];
  const emit = (indent: number, line: string) => lines.push('  '.repeat(indent) + line);
  const exprOf = (n: Node) => emitScalar(n, n.inputs.map((v) => name.get(v)!));
  emit(0, 'const fr = Math.fround, erf = h.erf, remainder = h.remainder, roundHalfEven = h.roundHalfEven, intPow = h.intPow;');
  for (const s of scratch.values()) emit(0, `const ${s} = new Float64Array(${CHUNK});`);
  emit(0, 'return function fused(ins, outs, accs, mm, mmBase, lo, hi) {');
  inputs.forEach(({ i }) => emit(1, `const i${i} = ins[${i}];`));
  stored.forEach((_, q) => emit(1, `const o${q} = outs[${q}];`));
  reductions.forEach((_, r) => emit(1, `const a${r} = accs[${r}];`));
  for (const n of nodes) if (level.get(n.outputs[0]) === 0) emit(1, `const ${name.get(n.outputs[0])} = ${exprOf(n)};`);
  emit(1, 'let c = lo;');
  emit(1, 'while (c < hi) {');
  // Chunk start: coordinates, length, offsets.
  const D = layout.dims;
  if (k === 1) emit(2, 'const j = c;');
  else {
    emit(2, `let r = c;`);
    emit(2, `const j = r % ${D[inner]}; r = (r - j) / ${D[inner]};`);
    for (let g = inner - 1; g >= 1; g--) emit(2, `const c${g} = r % ${D[g]}; r = (r - c${g}) / ${D[g]};`);
    emit(2, 'const c0 = r;');
  }
  emit(2, `const m = Math.min(${chunk}, ${k === 1 ? 'hi - c' : `${D[inner]} - j, hi - c`});`);
  layout.strides.forEach((s, p) => {
    const terms = s.map((st, g) => (st === 0 ? '' : `${g === inner ? 'j' : `c${g}`}${st === 1 ? '' : ` * ${st}`}`)).filter(Boolean);
    emit(2, `const p${p} = ${terms.join(' + ') || '0'};`);
  });
  const load = (p: number, e: string) => {
    if (p === mmIndex && mmValue) {
      const raw = `mm[p${p} - mmBase${e}]`;
      return mmValue.type.dtype === 'float32' ? `fr(${raw})` : raw;
    }
    return `${opName[p]}[p${p}${e}]`;
  };
  inputs.forEach(({ v }, p) => {
    if (level.get(v) === 1) emit(2, `const ${name.get(v)} = ${load(p, '')};`);
  });
  if (mmValue && level.get(mmValue) === 1) emit(2, `const mv = ${load(mmIndex, '')};`);
  for (const n of nodes) if (level.get(n.outputs[0]) === 1) emit(2, `const ${name.get(n.outputs[0])} = ${exprOf(n)};`);
  reductions.forEach((_, r) => {
    if (!innerStride(firstAcc + r)) emit(2, `let t${r} = a${r}[p${firstAcc + r}];`);
  });

  // Stages.
  const storedIndex = new Map(stored.map((v, q) => [v, q]));
  const staged = (v: Value) => stageOfValue(v) !== undefined;
  for (let s = 0; s <= lastStage; s++) {
    const members = nodes.filter((n) => stageOf.get(n) === s);
    // Stored values no stage defines (chunk-level ones, the matmul result) are stored in stage 0.
    const chunkStores = s === 0 ? stored.filter((v) => !staged(v) && innerStride(firstStored + storedIndex.get(v)!)) : [];
    if (members.length === 0 && chunkStores.length === 0) continue;
    emit(2, 'for (let e = 0; e < m; e++) {');
    const ready = new Set<Value>();
    const need = (v: Value) => {
      if (ready.has(v) || level.get(v) !== 2 || stageOfValue(v) === s) return;
      ready.add(v);
      if (scratch.has(v)) emit(3, `const ${name.get(v)} = ${scratch.get(v)}[e];`);
      else if (v === mmValue) emit(3, `const mv = ${load(mmIndex, ' + e')};`);
      else emit(3, `const ${name.get(v)} = ${load(inputs.findIndex((x) => x.v === v), ' + e')};`);
    };
    for (const n of members) {
      n.inputs.forEach(need);
      const out = n.outputs[0];
      if (FUSIBLE_REDUCTIONS.has(n.op)) {
        const r = reductions.indexOf(n);
        const { step } = reduction(n.op, n.inputs[0].type.dtype);
        const v = name.get(n.inputs[0])!;
        if (innerStride(firstAcc + r)) emit(3, `a${r}[p${firstAcc + r} + e] = ${step(`a${r}[p${firstAcc + r} + e]`, v)};`);
        else emit(3, `t${r} = ${step(`t${r}`, v)};`);
        continue;
      }
      emit(3, `const ${name.get(out)} = ${exprOf(n)};`);
      if (scratch.has(out)) emit(3, `${scratch.get(out)}[e] = ${name.get(out)};`);
      if (storedIndex.has(out)) emit(3, `o${storedIndex.get(out)}[p${firstStored + storedIndex.get(out)!} + e] = ${name.get(out)};`);
    }
    chunkStores.forEach(need);
    for (const v of chunkStores) emit(3, `o${storedIndex.get(v)}[p${firstStored + storedIndex.get(v)!} + e] = ${name.get(v)};`);
    emit(2, '}');
  }
  // Chunk end: reductions along the row, stores of values constant along it.
  reductions.forEach((_, r) => {
    if (!innerStride(firstAcc + r)) emit(2, `a${r}[p${firstAcc + r}] = t${r};`);
  });
  for (const v of stored) {
    const q = storedIndex.get(v)!;
    if (!staged(v) && !innerStride(firstStored + q)) emit(2, `o${q}[p${firstStored + q}] = ${name.get(v)};`);
  }
  emit(2, 'c += m;');
  emit(1, '}');
  emit(0, '};');
  return {
    source: lines.join('\n'),
    domain,
    stored: stored.map((v) => v.type),
    reductions: reductions.map((node) => ({ init: reduction(node.op, node.inputs[0].type.dtype).init, size: sizeOf(node.outputs[0].type.shape) })),
    outputs: body.outputs.map((v) => (storedIndex.has(v) ? { stored: storedIndex.get(v)! } : { reduction: reductions.findIndex((n) => n.outputs[0] === v) })),
  };
}

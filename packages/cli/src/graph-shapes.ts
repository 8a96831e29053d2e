import type { Graph, Value } from '@kiln/core';
import { dtypeShortName } from '@kiln/core';
import type { ModelFile, SizeExpr } from '@kiln/serializer';
import { formatSizeExpr, specializeGraph } from '@kiln/serializer';

/** Every value of a graph in a fixed order: inputs, then each node's outputs. */
function valuesOf(g: Graph): Value[] {
  return [...g.inputs, ...g.nodes.flatMap((n) => n.outputs)];
}

/** The ops in order: two graphs with the same list are taken to correspond node by node. */
const opList = (g: Graph) => g.nodes.map((n) => n.op).join(' ');

/**
 * A type label per value (`f32[batch,64]`, `f32[batch·seq,16]`) for a graph the file's graph
 * leads to, with symbolic dimensions by name. A .kiln file stores symbolic dimensions for its
 * inputs only (every other shape follows from the op's shape rules); here each axis of every
 * value is read off the graph `build` makes at the saved sizes and at two more sizes per symbol:
 * an axis that moves with one symbol is `a·name + b`, one that moves with several is their
 * product times a constant, and one whose change fits neither shows as `?`. Where the graph at
 * other sizes does not line up op by op with the one at the saved sizes, or cannot be built, the
 * saved numbers are shown.
 *
 * @example
 * ```ts
 * const labels = symbolicTypeLabels(file, (g) => g);
 * labels.get(file.graph.outputs[0]); // 'f32[batch,10]'
 * ```
 */
export function symbolicTypeLabels(file: ModelFile, build: (g: Graph) => Graph, base: Graph = build(file.graph)): Map<Value, string> {
  const labels = new Map<Value, string>();
  const values = valuesOf(base);
  const s = file.symbolic;
  const names = s?.symbols.map((x) => x.name) ?? [];
  const dimText: string[][] = values.map((v) => v.type.shape.map(String));
  if (s && s.symbols.length > 0) {
    // moved[j][k][value][axis]: the dimension with symbol j moved k + 1 steps of `direction[j]`
    // (+1, or -1 where its bounds leave no room above); undefined where that graph was not built.
    const direction = s.symbols.map((sym, j) => (sym.max === undefined || s.sizes[j] + 2 <= sym.max ? 1 : -1));
    const moved = s.symbols.map((sym, j) => [1, 2].map((steps) => {
      const sizes = s.sizes.map((n, k) => (k === j ? n + steps * direction[j] : n));
      if (sizes[j] < sym.min || (sym.max !== undefined && sizes[j] > sym.max)) return undefined;
      try {
        const g = build(specializeGraph(file.graph, s, sizes));
        if (opList(g) !== opList(base)) return undefined;
        const vs = valuesOf(g);
        return vs.length === values.length ? vs.map((v) => v.type.shape) : undefined;
      } catch {
        return undefined;
      }
    }));
    values.forEach((v, i) => {
      v.type.shape.forEach((d0, a) => {
        const slopes: [number, number][] = [];
        let unknown = false;
        moved.forEach(([one, two], j) => {
          if (!one || !two) return;
          const d1 = one[i][a];
          const d2 = two[i][a];
          if (d1 === undefined || d2 === undefined) return void (unknown = true);
          if (d1 - d0 !== d2 - d1) return void (unknown = true);
          if (d1 !== d0) slopes.push([j, (d1 - d0) * direction[j]]);
        });
        if (unknown) dimText[i][a] = '?';
        else if (slopes.length === 1) {
          const [[j, slope]] = slopes;
          const expr: SizeExpr = { terms: [{ coefficient: slope, symbols: [j] }, { coefficient: d0 - slope * s.sizes[j], symbols: [] }] };
          dimText[i][a] = formatSizeExpr(expr, names);
        } else if (slopes.length > 1) {
          const product = slopes.reduce((p, [j]) => p * s.sizes[j], 1);
          const c = d0 / product;
          dimText[i][a] = Number.isInteger(c) ? formatSizeExpr({ terms: [{ coefficient: c, symbols: slopes.map(([j]) => j) }] }, names) : '?';
        }
      });
    });
  }
  // Where the file states an input's dimensions, its own expression wins.
  if (s && base === file.graph) {
    file.graph.inputs.forEach((v, i) => {
      const dims = s.dims.get(v);
      dims?.forEach((e, a) => {
        if (e) dimText[i][a] = formatSizeExpr(e, names);
      });
    });
  }
  values.forEach((v, i) => labels.set(v, `${dtypeShortName(v.type.dtype)}[${dimText[i].join(',')}]`));
  return labels;
}

/**
 * exportGraphToOnnx with symbolic dimensions on a hand-built graph: products of symbols,
 * coefficients, constants and reciprocals in attributes are computed from the input's shape
 * while onnxruntime runs the model, at sizes other than the graph's; and the refusals.
 */
import type { Graph, Node } from '@kiln/core';
import { createOps, getOp, GraphBuilder } from '@kiln/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { SizeExpr, SymbolicShapes } from '../src/index.js';
import { exportGraphToOnnx, OnnxExportError } from '../src/index.js';

const sym = (k: number): SizeExpr => ({ terms: [{ coefficient: 1, symbols: [k] }] });
const hw: SizeExpr = { terms: [{ coefficient: 1, symbols: [0, 1] }] };

/**
 * x: f32[h, w] (saved at h = 2, w = 3) →
 *   y = reshape(x, [h·w]) · full([], 1/(h·w))   (each element over the count, as a mean's scale)
 *   z = pad(x, after [2·h + 1, 0])               (rows of zeros below, as many as 2·h + 1)
 */
function model(): { graph: Graph; symbolic: SymbolicShapes } {
  const b = new GraphBuilder();
  const x = b.input({ dtype: 'float32', shape: [2, 3] }, 'x');
  const [flat] = b.add(getOp('reshape'), [x], { shape: [6] });
  const [scale] = b.add(getOp('full'), [], { shape: [], value: 1 / 6, dtype: 'float32' });
  const y = createOps(b).mul(flat, scale);
  const [z] = b.add(getOp('pad'), [x], { before: [0, 0], after: [5, 0], value: 0 });
  const graph = b.build([y, z]);
  const [reshape, full, , pad] = graph.nodes;
  const symbolic: SymbolicShapes = {
    symbols: [{ name: 'h', min: 1 }, { name: 'w', min: 1 }],
    sizes: [2, 3],
    dims: new Map([[x, [sym(0), sym(1)]]]),
    attrs: new Map<Node, Record<string, (SizeExpr | null)[]>>([
      [reshape, { shape: [hw] }],
      [full, { value: [{ ...hw, reciprocal: true }] }],
      [pad, { after: [{ terms: [{ coefficient: 2, symbols: [0] }, { coefficient: 1, symbols: [] }] }, null] }],
    ]),
  };
  return { graph, symbolic };
}

describe('exportGraphToOnnx with symbolic dimensions', () => {
  it('computes products, coefficients, constants and reciprocals of the sizes while the model runs', async () => {
    const { graph, symbolic } = model();
    const session = await ort.InferenceSession.create(exportGraphToOnnx(graph, { symbolic, outputNames: ['y', 'z'] }));
    for (const [h, w] of [[2, 3], [4, 5], [1, 7]]) {
      const x = Float32Array.from({ length: h * w }, (_, i) => i + 1);
      const out = await session.run({ x: new ort.Tensor('float32', x, [h, w]) });
      expect(out['y'].dims).toEqual([h * w]);
      [...(out['y'].data as Float32Array)].forEach((v, i) => expect(v).toBeCloseTo(x[i] / (h * w), 6));
      expect(out['z'].dims).toEqual([3 * h + 1, w]);
      expect([...(out['z'].data as Float32Array)]).toEqual([...x, ...new Array<number>((2 * h + 1) * w).fill(0)]);
    }
  });

  it('refuses symbols no input dimension tells, and stored inputs with symbolic dimensions', () => {
    const { graph, symbolic } = model();
    expect(() => exportGraphToOnnx(graph, { symbolic: { ...symbolic, dims: new Map() } })).toThrow(/symbol 'h' is not a dimension of any model input/);
    expect(() => exportGraphToOnnx(graph, { symbolic, initializers: new Map([[0, new Float32Array(6)]]) })).toThrow(OnnxExportError);
  });
});

import { printGraph, verifyGraph } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { add, gelu, mul, ones, relu, sum, tensor } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { Parameter, SGD } from '../../nn/src/index.js';
import { compile } from '../src/index.js';

describe('explain()', () => {
  it('reports the graph as traced, its memory, guards and retraces', () => {
    const w = new Parameter(tensor([1, 2], 'float32'));
    const opt = new SGD([w], { lr: 0.1, momentum: 0.9 });
    const messages: string[] = [];
    const step = compile((x: Tensor) => {
      opt.zeroGrad();
      const loss = sum(mul(w, x));
      loss.backward();
      opt.step();
      return loss;
    }, { optimize: false, onRetrace: (m) => messages.push(m) });
    step(tensor([1, 1], 'float32'));
    opt.paramGroups[0].nesterov = true;
    step(tensor([1, 1], 'float32'));
    const e = step.explain(tensor([1, 1], 'float32'));
    expect(e.graph).toBe(e.tracedGraph);
    expect(e.passes).toEqual([]);
    expect(e.fusedKernels).toEqual([]);
    expect(e.guards).toEqual([
      'SGD parameter group 0: maximize = false',
      'SGD parameter group 0: weightDecay ≠ 0 = false',
      'SGD parameter group 0: momentum ≠ 0 = true',
      'SGD parameter group 0: dampening ≠ 0 = false',
      'SGD parameter group 0: nesterov = true',
    ]);
    expect(e.retraceReasons).toEqual(messages);
    expect(messages).toEqual(['compile: retracing the function (trace 2): SGD parameter group 0: nesterov: false → true']);
    expect(e.stats).toEqual({ traces: 2, hits: 1, misses: 2 });
  });

  it('reports the planned memory of the graph that runs, by hand', () => {
    const f = compile((x: Tensor) => relu(mul(x, 2)), { optimize: false });
    const e = f.explain(ones([1000]));
    // full (4 B) and mul (4000 B) live at node 1; mul and relu (8000 B) at node 2; 8004 B in all.
    expect(e.memory.liveBytes).toBe(8000);
    expect(e.memory.naiveBytes).toBe(8004);
    expect(e.memory.plannedPeakBytes).toBeGreaterThanOrEqual(8000);
    expect(e.inputBytes).toBe(4000);
    expect(String(e)).toMatchInlineSnapshot(`
      "compile(the function): 1 trace(s), 0 hit(s), 1 miss(es), 0 specialization(s)
      graph: 3 nodes traced (runs as traced)
      fused kernels: none
      planned peak memory: 7.8 KiB of intermediate values (7.8 KiB without buffer reuse, 0 reused; inputs: 3.9 KiB)
      guards: none
      retraces: none
      graph(%a0: f32[1000]) {
        %0: f32[] = full {dtype="float32", shape=[], value=2}
        %1: f32[1000] = mul %a0 %0
        %2: f32[1000] = relu %1
        return %2
      }"
    `);
  });

  it('lists the optimization passes that ran and the fused kernels', () => {
    const f = compile((x: Tensor) => add(gelu(add(mul(x, 1.5), 0.5), 'tanh'), x), { optimize: true });
    const x = ones([64]);
    const e = f.explain(x);
    verifyGraph(e.graph);
    expect(e.passes.length).toBeGreaterThan(0);
    expect(e.passes.every((p) => p.nodesAfter <= p.nodesBefore || Object.keys(p.changes).length > 0)).toBe(true);
    expect(e.graph.nodes.length).toBeLessThan(e.tracedGraph.nodes.length);
    expect(e.fusedKernels).toHaveLength(1);
    expect(e.fusedKernels[0]).toMatch(/^fusedElementwise: .*mul.*tanh.*→ float32\[64\]$/);
    const text = String(e);
    expect(text).toContain(`graph: ${e.tracedGraph.nodes.length} nodes traced, ${e.graph.nodes.length} after optimization`);
    expect(text).toContain('passes:\n  1. ');
    expect(text.endsWith(printGraph(e.graph))).toBe(true);
    expect(f(x).toArray()).toEqual(add(gelu(add(mul(x, 1.5), 0.5), 'tanh'), x).toArray());
  });
});

import type { Backend, Graph } from '@kiln/core';
import { ArgumentError, KilnError, printGraph, Value, VerifyError } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import type { Pass } from '../src/index.js';
import { DCE, formatPipeline, formatReport, optimize, PIPELINE, SIMPLIFY } from '../src/index.js';
import { build, cpu, f32, runGraph, sameBits } from './helpers.js';

/** A program with work for every pass. */
const program = () =>
  build({ x: f32(2, 3), w: f32(3, 2) }, (o, x, w) => {
    const scale = o.mul(o.full([], 2, 'float32'), o.full([], 0.25, 'float32')); // fold → 0.5
    const t = o.permute(o.permute(w, [1, 0]), [1, 0]); // simplify → w
    const y = o.matmul(o.mul(x, 1), t); // simplify x * 1
    const dead = o.exp(y); // dce
    void dead;
    return [o.add(o.mul(y, scale), o.mul(y, scale)), o.sub(w, o.mul(t, 0.1))]; // cse; a state update
  });

describe('the pipeline', () => {
  it('is one ordered list, printed with the numbers stopAfter counts', () => {
    expect(formatPipeline()).toMatchInlineSnapshot(`
      "1. dce — drop nodes whose outputs are never used (graph inputs and outputs are kept)
      2. cse — merge nodes with the same op, attributes and inputs (never random ops)
      3. fold-constants — evaluate nodes whose inputs are all constants (on the target backend; shape ops of full without one)
      4. simplify — exact algebraic rewrites (x*1, x/1, neg(neg x), reshape/permute/broadcastTo/cast chains, …)
      5. cse — merge nodes with the same op, attributes and inputs (never random ops)
      6. dce — drop nodes whose outputs are never used (graph inputs and outputs are kept)
      7. fuse-elementwise — fuse chains of elementwise ops, broadcasts and a trailing reduction into fusedElementwise nodes (one generated kernel each)
      8. fuse-matmul-epilogue — fuse a matmul with the elementwise ops that read only its result (bias, activation), and with permutes of the last two axes of its operands, into a matmulEpilogue node"
    `);
    expect(PIPELINE.map((p) => p.name)).toEqual(['dce', 'cse', 'fold-constants', 'simplify', 'cse', 'dce', 'fuse-elementwise', 'fuse-matmul-epilogue']);
    expect(Object.isFrozen(PIPELINE)).toBe(true);
    for (const p of PIPELINE) expect(p.name).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  it('optimizes a program and reports what each pass changed', () => {
    const g = program();
    expect(printGraph(g)).toMatchInlineSnapshot(`
      "graph(%x: f32[2,3], %w: f32[3,2]) {
        %0: f32[] = full {dtype="float32", shape=[], value=2}
        %1: f32[] = full {dtype="float32", shape=[], value=0.25}
        %2: f32[] = mul %0 %1
        %3: f32[2,3] = permute %w {axes=[1,0]}
        %4: f32[3,2] = permute %3 {axes=[1,0]}
        %5: f32[] = full {dtype="float32", shape=[], value=1}
        %6: f32[2,3] = mul %x %5
        %7: f32[2,2] = matmul %6 %4
        %8: f32[2,2] = exp %7
        %9: f32[2,2] = mul %7 %2
        %10: f32[2,2] = mul %7 %2
        %11: f32[2,2] = add %9 %10
        %12: f32[] = full {dtype="float32", shape=[], value=0.1}
        %13: f32[3,2] = mul %4 %12
        %14: f32[3,2] = sub %w %13
        return %11, %14
      }"
    `);
    const { graph, passes } = optimize(g, { backend: cpu, verify: true });
    expect(printGraph(graph)).toMatchInlineSnapshot(`
      "graph(%x: f32[2,3], %w: f32[3,2]) {
        %0: f32[2,2] = matmulEpilogue %x %w
          body0(%arg0: f32[2,3], %arg1: f32[3,2]) {
            %1: f32[2,2] = matmul %arg0 %arg1
            %2: f32[] = full {dtype="float32", shape=[], value=0.5}
            %3: f32[2,2] = mul %1 %2
            %4: f32[2,2] = add %3 %3
            return %4
          }
        %5: f32[3,2] = fusedElementwise %w
          body0(%arg0: f32[3,2]) {
            %6: f32[] = full {dtype="float32", shape=[], value=0.1}
            %7: f32[3,2] = mul %arg0 %6
            %8: f32[3,2] = sub %arg0 %7
            return %8
          }
        return %0, %5
      }"
    `);
    expect(formatReport(passes)).toMatchInlineSnapshot(`
      "1. dce: 15 → 14 nodes (removed exp)
      2. cse: 14 → 13 nodes (merged mul)
      3. fold-constants: 13 → 13 nodes (folded mul → full)
      4. simplify: 13 → 11 nodes (permute(permute x) → permute x, identity permute → x, x * 1 → x)
      5. cse: unchanged
      6. dce: 11 → 7 nodes (removed full ×3, removed permute)
      7. fuse-elementwise: 7 → 3 nodes (fused elementwise kernel ×2, ops fused ×4)
      8. fuse-matmul-epilogue: 3 → 2 nodes (matmul epilogue)"
    `);
    const inputs = [[1, -2, 3, 0.5, NaN, -0], [0.1, 0.2, -0.3, 0.4, 1e30, -1]];
    expect(sameBits(runGraph(graph, inputs), runGraph(g, inputs))).toBe(true);
  });

  it('stops after pass N, to bisect a miscompilation', () => {
    const g = program();
    expect(optimize(g, { stopAfter: 0 }).graph).toBe(g);
    const third = optimize(g, { backend: cpu, stopAfter: 3, verify: true });
    expect(third.passes.map((p) => p.ran)).toEqual([true, true, true, false, false, false, false, false]);
    expect(formatReport(third.passes)).toMatchInlineSnapshot(`
      "1. dce: 15 → 14 nodes (removed exp)
      2. cse: 14 → 13 nodes (merged mul)
      3. fold-constants: 13 → 13 nodes (folded mul → full)
      4. simplify: skipped
      5. cse: skipped
      6. dce: skipped
      7. fuse-elementwise: skipped
      8. fuse-matmul-epilogue: skipped"
    `);
    const inputs = [[1, 2, 3, 4, 5, 6], [1, 0, 0, 1, 1, 1]];
    for (let n = 0; n <= PIPELINE.length; n++) {
      expect(sameBits(runGraph(optimize(g, { backend: cpu, stopAfter: n }).graph, inputs), runGraph(g, inputs))).toBe(true);
    }
  });

  it('skips passes by name', () => {
    const { graph, passes } = optimize(program(), { backend: cpu, skip: ['simplify', 'fold-constants'] });
    expect(passes.filter((p) => !p.ran).map((p) => p.name)).toEqual(['fold-constants', 'simplify']);
    expect(graph.nodes.map((n) => n.op)).toContain('permute');
  });

  it('skips fusion on a backend without kernels for fused ops, saying why', () => {
    const noFused: Backend<unknown> = { ...cpu, name: 'plain', hasKernel: (op) => op !== 'fusedElementwise' && op !== 'matmulEpilogue' && cpu.hasKernel(op), run: cpu.run.bind(cpu), dispose: cpu.dispose.bind(cpu), readSync: cpu.readSync.bind(cpu) } as Backend<unknown>;
    const { graph, passes } = optimize(program(), { backend: noFused, verify: true });
    expect(formatReport(passes.slice(6))).toBe('7. fuse-elementwise: skipped (no kernel for fusedElementwise on the backend)\n8. fuse-matmul-epilogue: skipped (no kernel for matmulEpilogue on the backend)');
    expect(passes[6].skipped).toBe('no kernel for fusedElementwise');
    expect(graph.nodes.filter((n) => n.subgraphs)).toEqual([]);
  });

  it('rejects a bad stopAfter or an unknown pass name', () => {
    expect(() => optimize(program(), { stopAfter: 9 })).toThrowError(ArgumentError);
    expect(() => optimize(program(), { stopAfter: 1.5 })).toThrowError('optimize: stopAfter must be an integer from 0 to 8 (the number of passes), got 1.5');
    expect(() => optimize(program(), { skip: ['fuse'] })).toThrowError("optimize: skip names an unknown pass 'fuse'; the passes are dce, cse, fold-constants, simplify, fuse-elementwise, fuse-matmul-epilogue");
  });

  it('names the pass that broke the graph when verifying', () => {
    const dropsInput: Pass = { name: 'drops-input', doc: '', run: (g) => ({ ...g, inputs: g.inputs.slice(1) }) };
    const badType: Pass = { name: 'bad-type', doc: '', run: (g) => ({ ...g, outputs: [new Value(f32(9)), ...g.outputs.slice(1)] }) };
    const useBeforeDef: Pass = { name: 'reorders', doc: '', run: (g): Graph => ({ ...g, nodes: [...g.nodes].reverse() }) };
    expect(() => optimize(program(), { passes: [DCE, dropsInput], verify: true })).toThrowError(VerifyError);
    expect(() => optimize(program(), { passes: [DCE, dropsInput], verify: true })).toThrowError(/^optimize: after pass 2 \(drops-input\): /);
    expect(() => optimize(program(), { passes: [badType], verify: true })).toThrowError(/after pass 1 \(bad-type\): graph: output 0 is not defined in the graph/);
    expect(() => optimize(program(), { passes: [SIMPLIFY, useBeforeDef], verify: true })).toThrowError(/after pass 2 \(reorders\): graph: node 0 \(sub\): input 1 is used before it is defined/);
    // Without verify, the broken graph is returned as is.
    expect(optimize(program(), { passes: [dropsInput] }).graph.inputs.length).toBe(1);
  });

  it('names the pass when one fails', () => {
    const fails: Pass = { name: 'fails', doc: '', run: () => { throw new KilnError('internal: no'); } };
    expect(() => optimize(program(), { passes: [DCE, fails] })).toThrowError('optimize: pass 2 (fails) failed: internal: no');
  });
});

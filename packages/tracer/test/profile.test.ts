/**
 * Profiling compiled functions: a compiled call is one span holding its graph's nodes (fused
 * kernels named by their body), tracing records no eager ops, control-flow bodies nest inside
 * their node, and profiling changes no result and leaks nothing.
 */
import type { ChromeTraceEvent } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { manualSeed, matmul, memory, profileSync, rand, relu, scan, tanh, tidy } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { compile, load, save } from '../src/index.js';

const inside = (child: ChromeTraceEvent, parent: ChromeTraceEvent) =>
  Math.round(child.ts * 1000) >= Math.round(parent.ts * 1000) && Math.round((child.ts + child.dur) * 1000) <= Math.round((parent.ts + parent.dur) * 1000);

describe('profiling compiled functions', () => {
  manualSeed(3);
  const x = rand([64, 128]);
  const w = rand([128, 32]);
  const b = rand([32]);

  it('shows a compiled call as one span holding its fused kernels, named by their body', () => {
    const layer = compile(function layer(a: Tensor, m: Tensor, c: Tensor) {
      return tanh(relu(matmul(a, m).add(c)).mul(2));
    });
    const eager = tidy(() => tanh(relu(matmul(x, w).add(b)).mul(2)).toArray());
    tidy(() => void layer(x, w, b)); // trace outside the profile
    const before = memory();
    let out: unknown;
    const report = profileSync(() => {
      out = tidy(() => layer(x, w, b).toArray());
    });
    expect(memory()).toEqual(before);
    expect(out).toEqual(eager);
    const rows = report.rows.map((r) => [r.name, r.category, r.calls]);
    expect(rows).toContainEqual(['compiled layer', 'compiled', 1]);
    expect(rows).toContainEqual(['fused[matmul,add,relu,mul,tanh]', 'node', 1]);
    const fused = report.rows.find((r) => r.category === 'node')!;
    expect(fused.flops).toBe(2 * 64 * 128 * 32 + 4 * 64 * 32);
    expect(fused.bytes).toBe((64 * 128 + 128 * 32 + 32 + 64 * 32) * 4);
    const { traceEvents } = report.chromeTrace();
    const call = traceEvents.find((e) => e.cat === 'compiled')!;
    for (const e of traceEvents.filter((t) => t.cat === 'node')) expect(inside(e, call)).toBe(true);
  });

  it('shows a first call as tracing, optimizing and the graph nodes, with no eager ops', () => {
    const f = compile((a: Tensor) => a.mul(3).exp().sum());
    const report = profileSync(() => tidy(() => void f(x)));
    expect(report.rows.filter((r) => r.category === 'op')).toEqual([]);
    expect(report.rows.map((r) => [r.name, r.category, r.calls]).sort()).toEqual([
      ['compiled function', 'compiled', 1], ['fused[mul,exp,sum]', 'node', 1], ['optimize function', 'compile', 1], ['trace function', 'compile', 1],
    ]);
    const { traceEvents } = report.chromeTrace();
    const call = traceEvents.find((e) => e.cat === 'compiled')!;
    for (const e of traceEvents.filter((t) => t !== call)) expect(inside(e, call)).toBe(true);
    // A later call neither traces nor optimizes.
    const later = profileSync(() => tidy(() => void f(x)));
    expect(later.rows.filter((r) => r.category === 'compile')).toEqual([]);
  });

  it('shows no backward spans for a backward pass that is traced, not run', () => {
    const p = rand([128, 32]).requireGrad();
    const step = compile(function step(a: Tensor) {
      const loss = relu(matmul(a, p)).sum();
      loss.backward();
      return loss;
    });
    const report = profileSync(() => tidy(() => void step(x)));
    expect(report.rows.filter((r) => ['backward', 'vjp', 'op'].includes(r.category))).toEqual([]);
    expect(report.rows.map((r) => r.name)).toEqual(expect.arrayContaining(['compiled step', 'trace step', 'optimize step']));
    // Run eagerly, the same step's backward pass is profiled.
    const eager = profileSync(() => tidy(() => relu(matmul(x, p)).sum().backward()));
    expect(eager.rows.map((r) => r.name)).toEqual(expect.arrayContaining(['backward', 'vjp(matmul)', 'matmul (backward)']));
    p.grad?.dispose();
  });

  it('puts a loaded model run inside a profile: its nodes inside its run span', () => {
    const layer = compile((a: Tensor, m: Tensor) => relu(matmul(a, m)));
    const model = load(save(layer, [x, w]));
    const want = tidy(() => relu(matmul(x, w)).toArray());
    let got: unknown;
    const report = profileSync(() => {
      got = tidy(() => model.run(x, w)[0].toArray());
    });
    expect(got).toEqual(want);
    expect(report.rows.map((r) => [r.name, r.category, r.calls]).sort()).toEqual([['fused[matmul,relu]', 'node', 1], ['model run', 'model', 1]]);
    const { traceEvents } = report.chromeTrace();
    expect(inside(traceEvents[1], traceEvents[0])).toBe(true);
    model.dispose();
  });

  it('nests the nodes of a scan body inside the scan node, once per step', () => {
    const cumulative = compile((xs: Tensor) => scan((c: Tensor, r: Tensor) => {
      const s = c.add(r);
      return [s, s.tanh()] as const;
    }, xs.sum(0).mul(0), xs));
    const xs = rand([5, 3]);
    const eager = tidy(() => scan((c: Tensor, r: Tensor) => {
      const s = c.add(r);
      return [s, s.tanh()] as const;
    }, xs.sum(0).mul(0), xs)[1].toArray());
    let out: unknown;
    tidy(() => void cumulative(xs));
    const report = profileSync(() => {
      out = tidy(() => cumulative(xs)[1].toArray());
    });
    expect(out).toEqual(eager);
    const { traceEvents } = report.chromeTrace();
    const scanNode = traceEvents.find((e) => e.name === 'scan')!;
    const bodyNodes = traceEvents.filter((e) => e.cat === 'node' && e !== scanNode && inside(e, scanNode));
    // Each of the 5 steps runs the body's add and tanh as one fused kernel.
    expect(bodyNodes.map((e) => e.name)).toEqual(Array(5).fill('fused[add,tanh]'));
    expect(report.rows.find((r) => r.name === 'fused[add,tanh]')).toMatchObject({ calls: 5, flops: 5 * 6, bytes: 5 * 4 * 3 * 4 });
  });
});

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChromeTrace } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { activeProfiler, manualSeed, matmul, mean, memory, profile, profileRegion, profileSync, rand, relu, tidy } from '../src/index.js';
import { writeChromeTrace } from '../src/node.js';

/** Every event is a complete event with numeric times, and any two are disjoint or nested. */
function expectWellFormed(trace: ChromeTrace): void {
  const ns = trace.traceEvents.map((e) => {
    expect(e).toMatchObject({ ph: 'X', pid: expect.any(Number), tid: expect.any(Number) });
    expect(typeof e.name).toBe('string');
    expect(e.ts).toBeGreaterThanOrEqual(0);
    expect(e.dur).toBeGreaterThanOrEqual(0);
    return [Math.round(e.ts * 1000), Math.round((e.ts + e.dur) * 1000)];
  });
  for (let i = 0; i < ns.length; i++) {
    for (let j = i + 1; j < ns.length; j++) {
      const [a0, a1] = ns[i];
      const [b0, b1] = ns[j];
      const disjoint = a1 <= b0 || b1 <= a0;
      const nested = (a0 <= b0 && b1 <= a1) || (b0 <= a0 && a1 <= b1);
      expect(disjoint || nested, `${trace.traceEvents[i].name} and ${trace.traceEvents[j].name} overlap without nesting`).toBe(true);
    }
  }
}

/** The interval of each event, in whole nanoseconds. */
const interval = (e: { ts: number; dur: number }) => [Math.round(e.ts * 1000), Math.round((e.ts + e.dur) * 1000)];
const inside = (child: { ts: number; dur: number }, parent: { ts: number; dur: number }) => {
  const [c0, c1] = interval(child);
  const [p0, p1] = interval(parent);
  return p0 <= c0 && c1 <= p1;
};

describe('profileSync (eager)', () => {
  manualSeed(1);
  const a = rand([64, 128]);
  const b = rand([128, 32]);

  it('reports one matmul with 2·m·k·n FLOPs and the bytes it read and wrote, and one relu', () => {
    const report = profileSync(() => tidy(() => void relu(matmul(a, b))));
    expect(report.rows.map((r) => [r.name, r.category, r.calls]).sort()).toEqual([['matmul', 'op', 1], ['relu', 'op', 1]]);
    const mm = report.rows.find((r) => r.name === 'matmul')!;
    expect(mm.flops).toBe(2 * 64 * 128 * 32);
    expect(mm.bytes).toBe((64 * 128 + 128 * 32 + 64 * 32) * 4);
    expect(mm.gflopsPerSecond).toBeCloseTo(mm.flops! / (mm.totalMs * 1e6), 9);
    const r = report.rows.find((x) => x.name === 'relu')!;
    expect([r.flops, r.bytes]).toEqual([64 * 32, 2 * 64 * 32 * 4]);
    expect(mm.totalMs + r.totalMs).toBeLessThanOrEqual(report.totalMs);
    expect(report.table().split('\n')[0]).toMatch(/^op\s+kind\s+calls\s+total ms\s+mean ms\s+%\s+bytes\s+GB\/s\s+FLOP\s+GFLOP\/s$/);
  });

  it('changes no result and leaks nothing', () => {
    const plain = tidy(() => relu(matmul(a, b)).toArray());
    const before = memory();
    let profiled: unknown;
    profileSync(() => {
      profiled = tidy(() => relu(matmul(a, b)).mean().add(1).toArray());
    });
    expect(memory()).toEqual(before);
    expect(tidy(() => relu(matmul(a, b)).mean().add(1).toArray())).toEqual(profiled);
    expect(tidy(() => relu(matmul(a, b)).toArray())).toEqual(plain);
    expect(activeProfiler()).toBeNull();
  });

  it('counts no bytes for an eager reshape: it is a view of its input', () => {
    const report = profileSync(() => tidy(() => void a.reshape([128, 64]).exp()));
    expect(report.rows.map((r) => [r.name, r.bytes]).sort()).toEqual([['exp', 2 * 128 * 64 * 4], ['reshape', 0]]);
  });

  it('nests the ops a composite expands to inside its span', () => {
    const report = profileSync(() => tidy(() => void mean(a, 1)));
    const { traceEvents } = report.chromeTrace();
    expectWellFormed({ traceEvents, displayTimeUnit: 'ms' });
    const outer = traceEvents.find((e) => e.name === 'mean')!;
    const sum = traceEvents.find((e) => e.name === 'sum')!;
    expect(inside(sum, outer)).toBe(true);
    // The composite itself holds no kernel: its kernels' FLOPs are counted once, in sum and div.
    expect(report.rows.find((r) => r.name === 'mean')!.flops).toBeUndefined();
    expect(report.rows.find((r) => r.name === 'sum')!.flops).toBe(64 * 128);
  });

  it('names the ops backward runs, inside one backward span, with a span per gradient rule', () => {
    const w = rand([128, 32]).requireGrad();
    const x = rand([64, 128]).requireGrad();
    const report = profileSync(() => tidy(() => matmul(x, w).sum().backward()));
    const rows = new Map(report.rows.map((r) => [`${r.category}:${r.name}`, r]));
    // dx = g·wᵀ and dw = xᵀ·g: two matmuls of 2·64·32·128 FLOPs each.
    expect(rows.get('backward:matmul (backward)')).toMatchObject({ calls: 2, flops: 2 * (2 * 64 * 32 * 128) });
    expect(rows.get('op:matmul')).toMatchObject({ calls: 1, flops: 2 * 64 * 128 * 32 });
    expect(rows.get('vjp:vjp(matmul)')?.calls).toBe(1);
    expect(rows.get('vjp:vjp(sum)')?.calls).toBe(1);
    const { traceEvents } = report.chromeTrace();
    expectWellFormed({ traceEvents, displayTimeUnit: 'ms' });
    const pass = traceEvents.find((e) => e.name === 'backward')!;
    const vjp = traceEvents.find((e) => e.name === 'vjp(matmul)')!;
    expect(inside(vjp, pass)).toBe(true);
    for (const e of traceEvents.filter((t) => t.name === 'matmul (backward)')) expect(inside(e, vjp)).toBe(true);
    expect(x.grad!.shape).toEqual([64, 128]);
    x.grad!.dispose();
    w.grad!.dispose();
  });

  it('gives a profile started inside another its own spans, and the outer one records again after it', () => {
    let inner: ReturnType<typeof profileSync> | undefined;
    const outer = profileSync(() => {
      tidy(() => void relu(a));
      inner = profileSync(() => tidy(() => void matmul(a, b)));
      tidy(() => void relu(b));
    });
    expect(inner!.rows.map((r) => r.name)).toEqual(['matmul']);
    expect(outer.rows.map((r) => [r.name, r.calls])).toEqual([['relu', 2]]);
  });

  it('makes a named span of a region, holding its ops; outside a profile it only runs the function', () => {
    const report = profileSync(() => {
      tidy(() => void relu(a));
      const n = profileRegion('forward', () => tidy(() => relu(matmul(a, b)).shape[1]));
      expect(n).toBe(32);
    });
    expect(report.rows.map((r) => [r.name, r.category, r.calls]).sort()).toEqual([['forward', 'region', 1], ['matmul', 'op', 1], ['relu', 'op', 2]]);
    const { traceEvents } = report.chromeTrace();
    const region = traceEvents.find((e) => e.name === 'forward')!;
    expect(traceEvents.filter((e) => inside(e, region)).map((e) => e.name)).toEqual(['forward', 'matmul', 'relu']);
    expect(profileRegion('outside', () => 7)).toBe(7);
  });

  it('stops recording when the function throws', () => {
    expect(() => profileSync(() => matmul(a, a))).toThrow(/matmul/);
    expect(activeProfiler()).toBeNull();
  });

  it('refuses a function that returns a promise, naming the async form', async () => {
    let pending: Promise<void> | undefined;
    expect(() => profileSync(() => (pending = new Promise((r) => setTimeout(r, 1))))).toThrowError(/returned a promise.*await profile\(fn\)/);
    expect(activeProfiler()).toBeNull();
    await pending;
  });

  it('profiles an async function until its promise settles', async () => {
    const report = await profile(async () => {
      tidy(() => void relu(a));
      await new Promise((r) => setTimeout(r, 5));
      tidy(() => void relu(b));
    });
    expect(report.rows.map((r) => [r.name, r.calls])).toEqual([['relu', 2]]);
    expect(report.totalMs).toBeGreaterThanOrEqual(4);
    expect(activeProfiler()).toBeNull();
  });

  it('writes the Chrome trace as JSON a trace viewer reads', () => {
    const report = profileSync(() => tidy(() => void relu(matmul(a, b))));
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-profile-')), 'trace.json');
    expect(writeChromeTrace(path, report)).toBe(2);
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as ChromeTrace;
    expectWellFormed(parsed);
    expect(parsed.traceEvents.map((e) => e.name)).toEqual(['matmul', 'relu']);
    expect(parsed.traceEvents[0].args).toMatchObject({ inputs: 'f32[64,128], f32[128,32]', outputs: 'f32[64,32]', flops: 2 * 64 * 128 * 32 });
  });
});

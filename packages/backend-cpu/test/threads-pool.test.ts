import { availableParallelism } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { Code, I32, encodeModule } from '../src/wasm/emitter.js';
import { getNumThreads, kernelExports, kernelMemory, parallelFor, setNumThreads, usableThreads } from '../src/threads/pool.js';

/** fill(dst, count, value): dst[i] = value + i for i < count (i32 stores: which thread wrote what is visible). */
function fillModule(): object {
  const km = kernelMemory()!;
  const c = new Code([I32, I32, I32]);
  const i = c.local(I32);
  c.block().get(1).eqz().brIf(0).loop();
  c.get(0).get(i).i32(4).mul().add().get(2).get(i).add();
  c.i32Store(0);
  c.inc(i, 1).get(i).get(1).ltU().brIf(0).end().end();
  const wasm = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object } }).WebAssembly;
  return new wasm.Module(encodeModule([{ name: 'fill', code: c }], 1, km.type));
}

describe.runIf(kernelMemory() !== null)('CPU worker pool', () => {
  const saved = getNumThreads();
  afterAll(() => setNumThreads(saved));

  it('defaults to KILN_THREADS or the cores, and rejects bad counts', () => {
    const env = process.env.KILN_THREADS;
    expect(getNumThreads()).toBe(env ? Number(env) : Math.min(64, availableParallelism()));
    expect(() => setNumThreads(0)).toThrow(/integer from 1 to 64/);
    expect(() => setNumThreads(1.5)).toThrow(/integer from 1 to 64/);
  });

  it.each([1, 2, 3])('runs each task once, on disjoint ranges, with %i threads', (threads) => {
    setNumThreads(threads);
    const km = kernelMemory()!;
    const module = fillModule();
    const tasks = usableThreads();
    expect(tasks).toBe(km.type.shared ? threads : 1);
    const per = 1000;
    const base = km.base;
    const view = new Int32Array(km.reserve(base + tasks * per * 4).buffer, base, tasks * per);
    view.fill(-1);
    for (let rep = 0; rep < 50; rep++) parallelFor(module, 'fill', tasks, (t) => [base + t * per * 4, per, t * 100_000 + rep]);
    for (let t = 0; t < tasks; t++) {
      expect(view[t * per]).toBe(t * 100_000 + 49);
      expect(view[t * per + per - 1]).toBe(t * 100_000 + 49 + per - 1);
    }
    expect(typeof kernelExports(module).fill).toBe('function');
  });

  it('names a missing export', () => {
    expect(() => parallelFor(fillModule(), 'nope', 1, () => [])).toThrow(/no exported function 'nope'.*fill/);
  });
});

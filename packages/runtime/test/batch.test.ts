/**
 * runBatched: a backend with `batch` runs the whole graph inside one batch (every kernel launch
 * between its start and end); a backend without one runs it directly, with the same results.
 */
import type { Backend } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { executeGraph, isBatching, runBatched } from '../src/index.js';
import { build, cpu, f32 } from './helpers.js';

const graph = build({ x: f32(3) }, (o, x) => [o.relu(o.add(o.mul(x, x), -2))]);

describe('runBatched', () => {
  it('runs a graph on a backend without batch directly', () => {
    expect(isBatching(cpu)).toBe(false);
    const x = cpu.upload(new Float32Array([1, -2, 3]), f32(3));
    const [y] = runBatched(cpu, () => executeGraph(graph, cpu, [x]));
    expect([...cpu.readSync(y, f32(3))]).toEqual([0, 2, 7]);
  });

  it('runs every kernel of the graph inside the backend batch', () => {
    const log: string[] = [];
    let depth = 0;
    const batching = Object.assign(Object.create(cpu) as Backend<unknown>, {
      run: (...args: Parameters<Backend<unknown>['run']>) => {
        log.push(`${args[0].name}@${depth}`);
        return cpu.run(...(args as Parameters<typeof cpu.run>));
      },
      batch<T>(fn: () => T): T {
        depth++;
        log.push('begin');
        try {
          return fn();
        } finally {
          depth--;
          log.push('end');
        }
      },
    });
    expect(isBatching(batching)).toBe(true);
    const x = cpu.upload(new Float32Array([1, -2, 3]), f32(3));
    const [y] = runBatched(batching, () => executeGraph(graph, batching, [x]));
    expect([...cpu.readSync(y as Float32Array, f32(3))]).toEqual([0, 2, 7]);
    expect(log[0]).toBe('begin');
    expect(log.at(-1)).toBe('end');
    expect(log.slice(1, -1).length).toBeGreaterThan(0);
    expect(log.slice(1, -1).every((e) => e.endsWith('@1'))).toBe(true);
  });
});

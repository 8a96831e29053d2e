/**
 * The umbrella package: one import gives the researcher's API, each name the very object its
 * package exports (no wrappers, no second copy of a registry), and the README's example runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as core from '@kiln/core';
import * as eager from '@kiln/eager';
import * as nnPackage from '@kiln/nn';
import * as runtime from '@kiln/runtime';
import * as tracer from '@kiln/tracer';
import * as tracerNode from '@kiln/tracer/node';
import { describe, expect, it } from 'vitest';
import * as kiln from '../src/index.js';
import * as kilnNode from '../src/node.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

describe('kiln (umbrella)', () => {
  it('re-exports every name of @kiln/eager, and nn as a namespace, as the same objects', () => {
    for (const [name, value] of Object.entries(eager)) expect((kiln as Record<string, unknown>)[name], name).toBe(value);
    for (const [name, value] of Object.entries(nnPackage)) expect((kiln.nn as Record<string, unknown>)[name], `nn.${name}`).toBe(value);
    expect(kiln.compile).toBe(tracer.compile);
    expect(kiln.save).toBe(tracer.save);
    expect(kiln.loadModel).toBe(runtime.loadModel);
    expect(kiln.ShapeError).toBe(core.ShapeError);
    expect(kilnNode.saveFile).toBe(tracerNode.saveFile);
  });

  it('trains, compiles, saves and runs the saved model from one import', () => {
    kiln.manualSeed(3);
    const model = new kiln.nn.Sequential(new kiln.nn.Linear(4, 8), new kiln.nn.Tanh(), new kiln.nn.Linear(8, 2));
    model.eval();
    const x = kiln.randn([5, 4]);
    const predict = kiln.compile((xb: kiln.Tensor) => model.forward(xb));
    const bytes = kiln.save(predict, [x], { names: model });
    const deployed = kiln.loadModel(bytes, { backend: kiln.createCpuBackend() });
    const [y] = deployed.run({ dtype: 'float32', shape: [5, 4], data: x.dataSync() as Float32Array });
    const want = model.forward(x).dataSync();
    expect(y.shape).toEqual([5, 2]);
    for (let i = 0; i < want.length; i++) expect(Math.abs(y.data[i] - want[i])).toBeLessThan(1e-5);
    deployed.dispose();
    expect(() => kiln.matmul(kiln.zeros([2, 3]), kiln.zeros([2, 3]))).toThrow(kiln.ShapeError);
  });

  it('runs the README example', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(readme)![1];
    const dir = mkdtempSync(join(tmpdir(), 'kiln-readme-'));
    try {
      const file = join(dir, 'example.ts');
      writeFileSync(file, code.replace("from 'kiln'", `from '${fileURLToPath(new URL('../src/index.ts', import.meta.url))}'`));
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=kiln-source', file], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('[ 32, 3 ] 1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

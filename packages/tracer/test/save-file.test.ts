/**
 * saveFile / loadFile (`@kiln/tracer/node`) and loadModelFile (`@kiln/runtime/node`): a model
 * written to disk reads back as the same bytes and gives bit-identical results; a damaged file is
 * a FormatError, a missing one Node's ENOENT.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { getBackend, manualSeed, randn } from '@kiln/eager';
import * as nn from '@kiln/nn';
import { FormatError } from '@kiln/serializer';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelFile } from '@kiln/runtime/node';
import { compile, save } from '../src/index.js';
import { loadFile, saveFile } from '../src/node.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-save-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('saveFile / loadFile', () => {
  manualSeed(3);
  const model = new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Linear(16, 4));
  model.eval();
  const f = compile((x: Tensor) => model.forward(x));

  it('writes the bytes save() makes, and loads them back with the same results', () => {
    const x = randn([3, 6]);
    const path = join(dir, 'mlp.kiln');
    const n = saveFile(path, f, [x], { names: model, inputNames: ['x'], outputNames: ['y'] });
    const onDisk = readFileSync(path);
    expect(n).toBe(onDisk.byteLength);
    expect(Buffer.compare(onDisk, Buffer.from(save(f, [x], { names: model, inputNames: ['x'], outputNames: ['y'] })))).toBe(0);
    const want = Array.from(f(x).dataSync());
    const loaded = loadFile(path);
    expect(loaded.signature.inputs.map((s) => s.name)).toEqual(['x', '0.weight', '0.bias', '2.weight', '2.bias']);
    const [y] = loaded.run(x);
    expect(Array.from(y.dataSync())).toEqual(want);
    loaded.dispose();
    const runtimeOnly = loadModelFile(path, { backend: getBackend('cpu') as Backend<unknown> });
    expect(runtimeOnly.outputs).toEqual(['y']);
    const [r] = runtimeOnly.run({ dtype: 'float32', shape: [3, 6], data: x.dataSync() });
    expect(Array.from(r.data)).toEqual(want);
    runtimeOnly.dispose();
  });

  it('a batch-dynamic file runs at other batch sizes', () => {
    const path = join(dir, 'mlp-dynamic.kiln');
    saveFile(path, f, [randn([4, 6])], { names: model, dynamic: { 0: [0] }, symbols: [{ name: 'batch' }] });
    const loaded = loadFile(path);
    for (const n of [1, 9]) {
      const x = randn([n, 6]);
      const [y] = loaded.run(x);
      expect(y.shape).toEqual([n, 4]);
      expect(Array.from(y.dataSync())).toEqual(Array.from(f(x).dataSync()));
    }
    loaded.dispose();
  });

  it('a damaged file is a FormatError; a missing file is ENOENT', () => {
    const good = readFileSync(join(dir, 'mlp.kiln'));
    const bad = join(dir, 'bad.kiln');
    writeFileSync(bad, good.subarray(0, good.byteLength >> 1));
    expect(() => loadFile(bad)).toThrow(FormatError);
    writeFileSync(bad, 'not a model');
    expect(() => loadModelFile(bad, { backend: getBackend('cpu') as Backend<unknown> })).toThrow(FormatError);
    expect(() => loadFile(join(dir, 'missing.kiln'))).toThrow(/ENOENT/);
  });
});

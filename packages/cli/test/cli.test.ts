/**
 * The kiln command on saved models: inspect (text and JSON), export-onnx (run in onnxruntime
 * against Kiln), run (inputs as JSON, files, zeros/ones/random; results against eager), and the
 * messages and exit codes for bad command lines, files and models.
 */
import { printGraph, sizeOf } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { tensor } from '@kiln/eager';
import { readModel } from '@kiln/serializer';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { EXIT, summarizeModel } from '../src/index.js';
import { cnn, kiln, mlp, type SavedModel, trainingStep, transformer } from './fixtures.js';

const MLP = mlp();
const CNN = cnn();
const TRANSFORMER = transformer();
const files = () => new Map([['mlp.kiln', MLP.bytes], ['cnn.kiln', CNN.bytes], ['tr.kiln', TRANSFORMER.bytes]]);

/** Asserts that `got` equals the eager result within float tolerance. */
function expectClose(got: ArrayLike<number>, want: Tensor, rtol = 1e-4): void {
  const w = want.dataSync();
  expect(got.length).toBe(w.length);
  for (let i = 0; i < w.length; i++) expect(Math.abs(Number(got[i]) - w[i]), `element ${i}`).toBeLessThanOrEqual(1e-5 + rtol * Math.abs(w[i]));
}

describe('kiln inspect', () => {
  it('prints the signature with symbolic dimensions, op counts and parameter count and bytes', async () => {
    const r = await kiln(['inspect', 'mlp.kiln', '--no-graph'], files());
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatchInlineSnapshot(`
      "mlp.kiln: .kiln 1.0, made by kiln 0.1.0
      signature
        inputs
          x         input      f32[batch,64]
          0.weight  parameter  f32[32,64]
          0.bias    parameter  f32[32]
          2.weight  parameter  f32[10,32]
          2.bias    parameter  f32[10]
        outputs
          y     output  f32[batch,10]
      symbolic dimensions: batch in [1, ∞], saved at 8
      ops: 7 nodes — add 2, matmul 2, permute 2, relu 1
      parameters: 2,410 elements in 4 tensors, 9,640 bytes
      "
    `);
    expect(2410).toBe(64 * 32 + 32 + 32 * 10 + 10);
  });

  it('ends with the graph text, and counts what the module holds', async () => {
    const r = await kiln(['inspect', 'cnn.kiln'], files());
    const file = readModel(CNN.bytes);
    expect(r.stdout.trimEnd().endsWith(printGraph(file.graph))).toBe(true);
    const params = CNN.module.namedParameters().reduce((n, [, p]) => n + sizeOf(p.shape), 0);
    expect(r.stdout).toContain(`parameters: ${params.toLocaleString('en-US')} elements in ${CNN.module.namedParameters().length} tensors, ${(4 * params).toLocaleString('en-US')} bytes`);
    expect(r.stdout).toContain('buffers: 16 elements in 2 tensors, 64 bytes'); // running mean and var, f32[8] each (eval mode reads no batch count)
  });

  it('gives the same facts as JSON', async () => {
    const r = await kiln(['inspect', 'tr.kiln', '--json'], files());
    const json = JSON.parse(r.stdout) as ReturnType<typeof summarizeModel>;
    const counts: Record<string, number> = {};
    for (const n of readModel(TRANSFORMER.bytes).graph.nodes) counts[n.op] = (counts[n.op] ?? 0) + 1;
    expect(json.opCounts).toEqual(counts);
    expect(json.inputs[0]).toEqual({ name: 'x', role: 'input', dtype: 'float32', shape: [2, 5, 16] });
    expect(json.stored['parameter']?.tensors).toBe(12);
  });
});

describe('kiln export-onnx', () => {
  const cases: [string, SavedModel, number[]][] = [['mlp.kiln', MLP, [8, 64]], ['cnn.kiln', CNN, [4, 1, 8, 8]], ['tr.kiln', TRANSFORMER, [2, 5, 16]]];
  for (const [name, model, shape] of cases) {
    it(`writes ${name} as ONNX that onnxruntime runs as Kiln does`, async () => {
      const r = await kiln(['export-onnx', name, 'out.onnx'], files());
      expect(r.code, r.stderr).toBe(EXIT.ok);
      expect(r.stdout).toMatch(/^wrote out\.onnx \([\d,]+ bytes, ONNX opset 17/);
      const x = model.example();
      expect([...x.shape]).toEqual(shape);
      const session = await ort.InferenceSession.create(r.files.get('out.onnx')!);
      const out = await session.run({ x: new ort.Tensor('float32', x.dataSync() as Float32Array, shape) });
      expectClose(out['y'].data as Float32Array, model.forward(x));
    });
  }

  it('keeps a symbolic dimension symbolic: one file for every batch size', async () => {
    const r = await kiln(['export-onnx', 'mlp.kiln', 'any.onnx'], files());
    expect(r.stdout).toMatch(/ONNX opset 17, batch symbolic\)$/m);
    const session = await ort.InferenceSession.create(r.files.get('any.onnx')!);
    for (const b of [1, 3, 11]) {
      const x = tensor(Array.from({ length: b * 64 }, (_, i) => Math.sin(i / 3)), 'float32').reshape([b, 64]);
      const out = await session.run({ x: new ort.Tensor('float32', x.dataSync() as Float32Array, [b, 64]) });
      expect(out['y'].dims).toEqual([b, 10]);
      expectClose(out['y'].data as Float32Array, MLP.forward(x));
    }
    const fixed = await kiln(['export-onnx', 'mlp.kiln', 'b8.onnx', '--fixed'], files());
    expect(fixed.stdout).toContain('batch=8');
    const s8 = await ort.InferenceSession.create(fixed.files.get('b8.onnx')!);
    await expect(s8.run({ x: new ort.Tensor('float32', new Float32Array(3 * 64), [3, 64]) })).rejects.toThrow(/dimension|Got: 3 Expected: 8/i);
  });

  it('fixes a symbolic dimension at the size given', async () => {
    const r = await kiln(['export-onnx', 'mlp.kiln', 'b3.onnx', '--size', 'batch=3'], files());
    expect(r.stdout).toContain('batch=3');
    const session = await ort.InferenceSession.create(r.files.get('b3.onnx')!);
    const x = tensor(Array.from({ length: 3 * 64 }, (_, i) => Math.cos(i)), 'float32').reshape([3, 64]);
    const out = await session.run({ x: new ort.Tensor('float32', x.dataSync() as Float32Array, [3, 64]) });
    expect(out['y'].dims).toEqual([3, 10]);
    expectClose(out['y'].data as Float32Array, MLP.forward(x));
  });

  it('refuses a training step, naming its state outputs', async () => {
    const r = await kiln(['export-onnx', 'step.kiln', 'o.onnx'], new Map([['step.kiln', trainingStep()]]));
    expect(r.code).toBe(EXIT.failed);
    expect(r.stderr).toMatch(/OnnxExportError: export-onnx: the model is a training step: 4 of its outputs \('weight.next', 'bias.next', 'weight.grad', 'bias.grad'\)/);
    expect(r.files.has('o.onnx')).toBe(false);
  });
});

describe('kiln run', () => {
  it('runs on JSON input and prints results that match eager', async () => {
    const x = tensor(Array.from({ length: 2 * 64 }, (_, i) => Math.sin(i)), 'float32').reshape([2, 64]);
    const json = JSON.stringify(x.toArray());
    const r = await kiln(['run', 'mlp.kiln', '--input', `x=${json}`, '--json'], files());
    expect(r.code, r.stderr).toBe(EXIT.ok);
    const out = JSON.parse(r.stdout) as Record<string, { dtype: string; shape: number[]; data: number[] }>;
    expect(out['y'].shape).toEqual([2, 10]);
    expectClose(out['y'].data, MLP.forward(x));
  });

  it('reads @file.json, and makes zeros/ones/random of the declared shape', async () => {
    const fs = files();
    const x = tensor(Array.from({ length: 4 * 64 }, (_, i) => (i % 7) - 3), 'float32').reshape([4, 1, 8, 8]);
    fs.set('x.json', new TextEncoder().encode(JSON.stringify(Array.from(x.dataSync()))));
    const fromFile = await kiln(['run', 'cnn.kiln', '--input', 'x=@x.json', '--json'], fs);
    expectClose((JSON.parse(fromFile.stdout) as Record<string, { data: number[] }>)['y'].data, CNN.forward(x));
    const ones = await kiln(['run', 'tr.kiln', '--input=x=ones'], fs);
    expect(ones.stdout).toMatch(/^y: f32\[2,5,16\]\n\[\[\[/);
    expect(ones.stdout).toContain('…');
    const random = await kiln(['run', 'mlp.kiln', '--input', 'x=random', '--size', 'batch=3', '--full'], fs);
    expect(random.stdout).toMatch(/^y: f32\[3,10\]/);
    expect(random.stdout).not.toContain('…');
    expect((await kiln(['run', 'mlp.kiln', '--input', 'x=random', '--size', 'batch=3', '--full'], fs)).stdout).toBe(random.stdout);
  });

  it('explains bad inputs', async () => {
    const bad = async (args: string[]) => (await kiln(['run', 'mlp.kiln', ...args], files())).stderr;
    expect(await bad([])).toMatch(/missing --input x=… \(float32\[batch,64\]\)/);
    expect(await bad(['--input', 'x=[1,'])).toMatch(/--input x: not JSON/);
    expect(await bad(['--input', 'x=[[1,2],[3]]'])).toMatch(/ragged array at \[1\]: expected 2 elements on axis 1/);
    expect(await bad(['--input', 'x=[[1,2]]'])).toMatch(/got shape \[1,2\], the model takes \[\?,64\]/);
    expect(await bad(['--input', 'x=[["a"]]'])).toMatch(/element \[0\]\[0\] is "a"/);
    expect(await bad(['--input', 'x=zeros'])).toMatch(/axis 0 is symbolic; give its size with --size/);
    expect(await bad(['--input', 'y=zeros'])).toMatch(/--input y: the model's inputs are x/);
    expect(await bad(['--input', 'x=zeros', '--size', 'seq=2'])).toMatch(/--size seq: the model has symbolic dimensions batch/);
  });
});

describe('kiln: command lines, files and hostile models', () => {
  it('prints usage for help and exits 2 for unknown commands and options', async () => {
    const help = await kiln(['help']);
    expect(help.code).toBe(EXIT.ok);
    expect(help.stdout).toContain('usage: kiln <command>');
    expect((await kiln(['--help'])).stdout).toContain('export-onnx <model.kiln> <out.onnx>');
    const unknown = await kiln(['frobnicate']);
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toMatch(/^kiln: unknown command 'frobnicate'\. Commands: demo, inspect, graph, export-onnx, run, bench, help, version/);
    expect((await kiln(['inspect', 'a.kiln', '--colour'])).stderr).toMatch(/inspect: unknown option '--colour'\. Its options: --no-graph, --json \(kiln inspect --help\)/);
    expect((await kiln(['export-onnx', 'a.kiln'])).stderr).toMatch(/export-onnx: expects 2 arguments \(kiln export-onnx <model.kiln> <out.onnx>\), got 1 \(a.kiln\)/);
    expect((await kiln(['run', 'mlp.kiln', '--input'], files())).stderr).toMatch(/run: --input needs a value \(<name>=<value>\)/);
  });

  it('reports missing files and bad sizes', async () => {
    const missing = await kiln(['inspect', 'nope.kiln']);
    expect(missing.code).toBe(EXIT.failed);
    expect(missing.stderr).toMatch(/cannot read nope.kiln: no such file/);
    expect((await kiln(['export-onnx', 'mlp.kiln', 'o.onnx', '--size', 'batch=0'], files())).stderr).toMatch(/--size batch=0: outside its bounds \[1, ∞\]/);
    expect((await kiln(['export-onnx', 'mlp.kiln', 'o.onnx', '--size', 'batch=two'], files())).stderr).toMatch(/expected a non-negative integer/);
  });

  it('says what is wrong with corrupted files, for every command', async () => {
    const truncated = MLP.bytes.slice(0, 100);
    const notKiln = new TextEncoder().encode('hello, this is not a model at all, just text');
    for (const bytes of [truncated, notKiln, new Uint8Array(0)]) {
      for (const argv of [['inspect', 'bad.kiln'], ['export-onnx', 'bad.kiln', 'o.onnx'], ['run', 'bad.kiln', '--input', 'x=ones']]) {
        const r = await kiln(argv, new Map([['bad.kiln', bytes]]));
        expect(r.code, argv.join(' ')).toBe(EXIT.failed);
        expect(r.stderr).toMatch(/^kiln: FormatError: /);
        expect(r.stdout).toBe('');
      }
    }
  });
});

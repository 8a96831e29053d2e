/**
 * exportOnnx on whole nn models — an MLP, the digits CNN and Transformer encoder blocks — run
 * in onnxruntime and compared with the compiled and the eager Kiln results; parameter names in
 * the file; and the errors for functions ONNX cannot hold (state updates, random numbers).
 */
import type { Tensor } from '@kiln/eager';
import { manualSeed, ones, randn, tidy, triu, full } from '@kiln/eager';
import { decodeFields, OnnxExportError } from '@kiln/serializer';
import { describe, expect, it } from 'vitest';
import * as nn from '../../nn/src/index.js';
import { compile, exportOnnx } from '../src/index.js';
import { expectOrtMatches, runOnnx } from './onnx-helpers.js';

interface ModelCase {
  readonly name: string;
  readonly make: () => nn.Module & { forward(x: Tensor, ...rest: never[]): Tensor };
  readonly input: () => Tensor;
  readonly forward?: (m: nn.Module, x: Tensor) => Tensor;
}

const MODELS: ModelCase[] = [
  {
    name: 'MLP 64-128-128-10',
    make: () => new nn.Sequential(new nn.Linear(64, 128), new nn.ReLU(), new nn.Linear(128, 128), new nn.Tanh(), new nn.Linear(128, 10)),
    input: () => randn([16, 64]),
  },
  {
    name: 'digits CNN (conv, max and avg pools, BatchNorm in eval mode, flatten)',
    make: () => new nn.Sequential(
      new nn.Conv2d(1, 16, 3, { padding: 1 }), new nn.BatchNorm2d(16), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(16, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.AvgPool2d(2), new nn.Flatten(), new nn.Dropout(0.2), new nn.Linear(128, 10),
    ),
    input: () => randn([8, 1, 8, 8]),
  },
  {
    name: 'TransformerEncoderLayer (post-LN, relu, batch first)',
    make: () => new nn.TransformerEncoderLayer(32, 4, { dimFeedforward: 64, batchFirst: true }),
    input: () => randn([4, 6, 32]),
  },
  {
    name: 'TransformerEncoderLayer (pre-LN, gelu, causal mask, sequence first)',
    make: () => new nn.TransformerEncoderLayer(32, 4, { dimFeedforward: 64, activation: 'gelu', normFirst: true }),
    input: () => randn([6, 3, 32]),
    forward: (m, x) => (m as nn.TransformerEncoderLayer).forward(x, { srcMask: triu(full([6, 6], Number.NEGATIVE_INFINITY), 1) }),
  },
];

/** Runs a trained-looking model: a few non-trivial steps of BatchNorm statistics, then eval mode. */
function prepared(c: ModelCase): nn.Module & { forward(x: Tensor): Tensor } {
  const model = c.make();
  model.train();
  tidy(() => void model.forward(c.input())); // moves BatchNorm's running statistics off their initial values
  model.eval();
  return model;
}

describe('exportOnnx: nn models run in onnxruntime as in Kiln', () => {
  for (const c of MODELS) {
    it(c.name, async () => {
      manualSeed(7);
      const model = prepared(c);
      const forward = (x: Tensor) => (c.forward ? c.forward(model, x) : model.forward(x));
      const f = compile(forward);
      const x = c.input();
      const bytes = exportOnnx(f, [x], { names: [...model.namedParameters(), ...model.namedBuffers()], inputNames: ['x'], outputNames: ['y'] });
      const [y] = await runOnnx(bytes, { x });
      const eager = forward(x);
      expectOrtMatches(y, eager, { rtol: 1e-4, atol: 1e-5 }, 'onnxruntime vs eager');
      expectOrtMatches(y, f(x), { rtol: 1e-4, atol: 1e-5 }, 'onnxruntime vs compiled');
      // A second batch through the same file: the weights are in it, not in the arguments.
      const x2 = c.input();
      const [y2] = await runOnnx(bytes, { x: x2 });
      expectOrtMatches(y2, forward(x2), { rtol: 1e-4, atol: 1e-5 }, 'second batch');
    });
  }

  it('names initializers after the parameters and buffers, and stores their current values', () => {
    manualSeed(3);
    const model = new nn.Sequential(new nn.Linear(4, 3), new nn.BatchNorm1d(3));
    model.eval();
    const f = compile((x: Tensor) => model.forward(x));
    const bytes = exportOnnx(f, [ones([2, 4])], { names: model });
    const graph = decodeFields(decodeFields(bytes).find((fd) => fd.field === 7)!.value as Uint8Array);
    const inits = graph.filter((fd) => fd.field === 5).map((fd) => decodeFields(fd.value as Uint8Array));
    const byName = new Map(inits.map((t) => [new TextDecoder().decode(t.find((fd) => fd.field === 8)!.value as Uint8Array), t]));
    for (const name of ['0.weight', '0.bias', '1.weight', '1.bias', '1.runningMean', '1.runningVar']) expect(byName.has(name), name).toBe(true);
    const raw = byName.get('0.weight')!.find((fd) => fd.field === 9)!.value as Uint8Array;
    expect(new Float32Array(raw.slice().buffer)).toEqual((model.namedParameters()[0][1] as Tensor).dataSync());
  });
});

describe('exportOnnx: what it refuses', () => {
  it('refuses a function that updates state (BatchNorm in training mode), saying what to do', () => {
    const bn = new nn.BatchNorm1d(3);
    const f = compile((x: Tensor) => bn.forward(x));
    expect(() => exportOnnx(f, [randn([4, 3])])).toThrow(OnnxExportError);
    expect(() => exportOnnx(f, [randn([4, 3])])).toThrow(/updates 3 tensor\(s\) outside it .* call model\.eval\(\) first/);
  });

  it('refuses random numbers (Dropout in training mode), naming the op', () => {
    const drop = new nn.Dropout(0.5);
    const f = compile((x: Tensor) => drop.forward(x));
    expect(() => exportOnnx(f, [randn([4, 3])])).toThrow(/\(randomUniform\): random numbers cannot be exported/);
  });

  it('refuses a training step (backward inside)', () => {
    const lin = new nn.Linear(3, 1);
    const f = compile((x: Tensor) => {
      const loss = lin.forward(x).sum();
      loss.backward();
      return loss;
    });
    expect(() => exportOnnx(f, [randn([4, 3])])).toThrow(/updates 2 tensor\(s\)/);
  });

  it('refuses names that are neither a module nor pairs', () => {
    const f = compile((x: Tensor) => x.neg());
    expect(() => exportOnnx(f, [ones([1])], { names: 42 as never })).toThrow(/names must be an nn Module or \[name, tensor\] pairs/);
  });

  it('refuses a plain function and wrong name counts', () => {
    expect(() => exportOnnx(((x: Tensor) => x) as never, [ones([1])])).toThrow(/expected a function made by compile\(fn\), got a plain function/);
    const f = compile((x: Tensor, y: Tensor) => x.add(y));
    expect(() => exportOnnx(f, [ones([1]), ones([1])], { inputNames: ['x'] })).toThrow(/inputNames has 1 names but the arguments hold 2 tensors/);
    expect(() => exportOnnx(f, [ones([1]), ones([1])], { outputNames: ['a', 'b'] })).toThrow(/outputNames has 2 names but the graph has 1/);
  });
});

/**
 * save → loadModel round trips: MLP, small CNN and transformer block from nn layers, compiled,
 * saved and loaded with the runtime alone give outputs equal bit for bit to the compiled
 * function on the CPU, optimized or not; batch-dynamic saves at several batch sizes; a
 * training step saved and run by the runtime alone updates the weights exactly as eager does.
 */
import type { Backend, TypedArray } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { getBackend, getRngState, manualSeed, randint, randn, tidy } from '@kiln/eager';
import * as nn from '@kiln/nn';
import type { HostTensor } from '@kiln/serializer';
import { readModel } from '@kiln/serializer';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../runtime/src/index.js';
import { compile, load, save } from '../src/index.js';

const cpu = getBackend('cpu') as Backend<unknown>;
const host = (t: Tensor): HostTensor => ({ dtype: t.dtype, shape: [...t.shape], data: t.dataSync() });

/** The bits of a typed array, so -0 ≠ 0 and NaN payloads count. */
function bits(a: TypedArray): number[] {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return Array.from(bytes);
}

interface Model {
  readonly name: string;
  readonly make: () => nn.Module & { forward(x: Tensor): Tensor };
  readonly input: (batch: number) => Tensor;
}

class SmallCnn extends nn.Module {
  readonly features = new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(4, 8, 3, { stride: 2 }), new nn.ReLU(), new nn.AvgPool2d(2),
  );
  readonly head = new nn.Sequential(new nn.Flatten(), new nn.Linear(8, 10));
  forward(x: Tensor): Tensor {
    return this.head.forward(this.features.forward(x));
  }
}

const MODELS: Model[] = [
  { name: 'MLP', make: () => new nn.Sequential(new nn.Linear(12, 32), new nn.ReLU(), new nn.Linear(32, 32), new nn.GELU(), new nn.Linear(32, 5)), input: (n) => randn([n, 12]) },
  { name: 'CNN', make: () => new SmallCnn(), input: (n) => randn([n, 1, 10, 10]) },
  {
    name: 'transformer block',
    make: () => new nn.TransformerEncoderLayer(16, 4, { dimFeedforward: 32, batchFirst: true }),
    input: (n) => randn([n, 5, 16]),
  },
];

describe('save → loadModel: bit-identical to the compiled function on CPU', () => {
  for (const m of MODELS) {
    it(`${m.name}`, () => {
      manualSeed(7);
      const model = m.make();
      model.eval();
      const f = compile((x: Tensor) => model.forward(x));
      const x = m.input(3);
      const want = f(x);
      const bytes = save(f, [x], { names: model, inputNames: ['x'] });
      const file = readModel(bytes);
      // Every weight is stored under its stateDict name, as a parameter or (running statistics) a buffer.
      const stored = file.signature.inputs.filter((s) => s.role !== 'input');
      expect(new Set(stored.map((s) => s.name))).toEqual(new Set(Object.keys(model.stateDict()).filter((k) => !k.endsWith('numBatchesTracked'))));
      expect(file.signature.inputs[0]).toEqual({ name: 'x', role: 'input' });
      for (const optimize of [true, false]) {
        const loaded = loadModel(bytes, { backend: cpu, optimize });
        const [y] = loaded.run(host(x));
        expect(y.shape).toEqual(want.shape);
        expect(bits(y.data)).toEqual(bits(want.dataSync()));
        loaded.dispose();
      }
    });
  }

  it('batch-dynamic saves run at other batch sizes, equal to the compiled function at each', () => {
    for (const m of MODELS) {
      manualSeed(11);
      const model = m.make();
      model.eval();
      const f = compile((x: Tensor) => model.forward(x));
      const bytes = save(f, [m.input(4)], { dynamic: { 0: [0] }, symbols: [{ name: 'batch', max: 64 }] });
      const loaded = loadModel(bytes, { backend: cpu });
      expect(loaded.inputs[0].shape[0]).toBe('batch');
      for (const n of [1, 2, 7, 4]) {
        const x = m.input(n);
        const [y] = loaded.run(host(x));
        expect(bits(y.data), `${m.name} at batch ${n}`).toEqual(bits(f(x).dataSync()));
      }
      expect(() => loaded.run(host(m.input(65)))).toThrow(/batch = 65, outside the sizes the model accepts \[1, 64\]/);
    }
  });

  it('load() runs on Tensors through eager\'s backend', () => {
    manualSeed(3);
    const model = MODELS[0].make();
    const f = compile((x: Tensor) => model.forward(x));
    const x = MODELS[0].input(2);
    const [y] = load(save(f, [x])).run(x);
    expect(bits(y.dataSync())).toEqual(bits(f(x).dataSync()));
  });

  it('a model that draws random numbers continues the generator from the state it is given', () => {
    manualSeed(5);
    const model = new nn.Sequential(new nn.Linear(6, 6), new nn.Dropout(0.5));
    model.train();
    const f = compile((x: Tensor) => model.forward(x));
    const x = randn([4, 6]);
    f(x); // trace
    const bytes = save(f, [x]);
    const start = getRngState();
    const loaded = loadModel(bytes, { backend: cpu, rng: start });
    expect(loaded.signature.inputs.find((s) => s.role === 'rng')).toBeDefined();
    for (let k = 0; k < 3; k++) expect(bits(loaded.run(host(x))[0].data)).toEqual(bits(f(x).dataSync()));
  });
});

describe('training steps saved with their state', () => {
  it('the runtime alone runs an Adam training step exactly as the compiled step does', () => {
    manualSeed(9);
    const make = () => {
      manualSeed(9);
      const model = new nn.Sequential(new nn.Linear(8, 16), new nn.Tanh(), new nn.Linear(16, 3));
      const opt = new nn.Adam(model.parameters(), { lr: 0.01 });
      const step = compile((x: Tensor, y: Tensor) => tidy(() => {
        opt.zeroGrad();
        const loss = nn.crossEntropy(model.forward(x), y);
        loss.backward();
        opt.step();
        return loss;
      }));
      return { model, opt, step };
    };
    const x = randn([10, 8]);
    const y = randint(0, 3, [10]);
    const a = make();
    a.step(x, y); // the first call traces
    const b = make();
    const bytes = save(b.step, [x, y], { names: b.model });
    const loaded = loadModel(bytes, { backend: cpu });
    const roles = loaded.signature.outputs.map((s) => s.role);
    expect(roles[0]).toBe('output');
    expect(roles.filter((r) => r === 'stateUpdate').length).toBeGreaterThanOrEqual(4 * 3); // weights and two moments per parameter
    const a2 = make(); // a fresh copy, stepped by the compiled function
    for (let k = 0; k < 4; k++) {
      const want = a2.step(x, y);
      const [loss] = loaded.run(host(x), host(y));
      expect(bits(loss.data), `loss at step ${k}`).toEqual(bits(want.dataSync()));
    }
    const state = loaded.state();
    for (const [name, p] of Object.entries(a2.model.stateDict())) expect(bits(state.get(name)!.data), name).toEqual(bits(p.dataSync()));
  });
});
